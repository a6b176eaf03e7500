// Planning sessions (the app layer's PlanSessions) in a real SQLite file: persistence, ids, draft-only
// edits, execution once, and the plan's status following its tasks.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { PlanSessions } from "../src/app/planSessions.ts";
import { Decomposer } from "../src/core/decomposer.ts";
import { ConflictError } from "../src/core/errors.ts";
import { TaskQueue } from "../src/core/taskQueue.ts";
import type { Store } from "../src/ports/store.ts";
import { makeTempQueue, type TempQueue } from "./helpers/tempStore.ts";
import { agentRun } from "./store/storeFixtures.ts";

/** Plan sessions over `store`, as another terminal would open them. */
function sessionsOver(store: Store, clock: () => number): PlanSessions {
  return new PlanSessions(store, new TaskQueue({ store, clock }), new Decomposer(null), clock);
}

describe("planning sessions in the store", () => {
  let t: TempQueue;
  let planner: PlanSessions;

  beforeEach(() => {
    t = makeTempQueue();
    planner = new PlanSessions(t.store, t.queue, new Decomposer(null), t.now);
  });
  afterEach(() => t.dispose());

  test("two sessions started in the same millisecond get different ids; everything round-trips", async () => {
    const [a, b] = await Promise.all([
      planner.start("Build a pipeline"),
      planner.start("Build a pipeline"),
    ]);
    assert.ok(a && b);
    assert.equal(a.plan.createdAt, b.plan.createdAt, "the same (injected) millisecond");
    assert.notEqual(a.plan.id, b.plan.id);
    const loaded = await t.store.getPlan(a.plan.id);
    assert.deepEqual(
      loaded?.tasks.map(({ taskId: _, ...task }) => task),
      a.plan.tasks,
    );
    assert.equal(loaded?.status, "draft");
    assert.equal(loaded?.planner, "heuristic");
    assert.equal(
      (await planner.get(a.plan.id.slice(0, 10))).id,
      a.plan.id,
      "a unique prefix finds it",
    );
  });

  test("only a draft changes: edits after approval are refused, also from a second connection", async () => {
    const { plan } = await planner.start("Build REST API with auth");
    await planner.add(plan.id, { description: "Write load tests", dependsOn: ["t6"] });
    const other = t.another();
    try {
      const second = sessionsOver(other, t.now);
      await second.approve(plan.id);
      await assert.rejects(planner.remove(plan.id, "t2"), ConflictError);
      await assert.rejects(t.store.savePlanTasks(plan.id, [], t.now()), ConflictError);
      assert.equal((await t.store.getPlan(plan.id))?.tasks.length, 8, "the add was kept");
    } finally {
      await other.close();
    }
  });

  test("an edit based on a plan another session changed meanwhile is refused, not lost", async () => {
    const { plan } = await planner.start("Build a pipeline");
    const loaded = await t.store.getPlan(plan.id);
    assert.ok(loaded);
    await planner.add(plan.id, { description: "Backfill last year" });
    const stale = loaded.tasks.filter((task) => task.key !== "t2");
    await assert.rejects(
      t.store.savePlanTasks(plan.id, stale, t.now(), loaded.version),
      (e: unknown) => e instanceof ConflictError && /changed in another session/.test(e.message),
    );
    const kept = await t.store.getPlan(plan.id);
    assert.ok(kept?.tasks.some((task) => task.description === "Backfill last year"));
  });

  test("approval approves what was reviewed: a plan changed since is refused", async () => {
    const { plan } = await planner.start("Build REST API with auth");
    const reviewed = await planner.get(plan.id);
    await planner.remove(plan.id, "t5");
    await assert.rejects(
      planner.approve(plan.id, reviewed.version),
      (e: unknown) => e instanceof ConflictError && /changed in another session/.test(e.message),
    );
    assert.equal((await planner.get(plan.id)).status, "draft");
    const current = await planner.get(plan.id);
    assert.equal((await planner.approve(plan.id, current.version)).status, "approved");
  });

  test("plans can be listed by status (status shows executing plans however many drafts follow)", async () => {
    const { plan } = await planner.start("Build a pipeline", { approve: true });
    await planner.execute(plan.id);
    for (let i = 0; i < 6; i++) {
      t.advance(1_000);
      await planner.start(`Draft ${i}`);
    }
    const newest = await t.store.listPlans(5);
    assert.ok(newest.every((p) => p.status === "draft"));
    const active = await t.store.listPlans(5, ["executing", "failed"]);
    assert.deepEqual(
      active.map((p) => [p.id, p.status]),
      [[plan.id, "executing"]],
    );
  });

  test("approval refuses a plan with no tasks", async () => {
    const { plan } = await planner.start("Build a pipeline");
    let tasks = plan.tasks;
    for (const task of tasks) tasks = (await planner.remove(plan.id, task.key)).plan.tasks;
    assert.equal(tasks.length, 0);
    await assert.rejects(planner.approve(plan.id), /the plan has no tasks/);
  });

  test("executing from two connections at once queues the tasks exactly once", async () => {
    const { plan } = await planner.start("Build a web app", { approve: true });
    const other = t.another();
    try {
      const second = sessionsOver(other, t.now);
      const results = await Promise.all([
        planner.execute(plan.id),
        second.execute(plan.id),
        planner.execute(plan.id),
      ]);
      assert.equal(results.filter((r) => r.queued).length, 1);
      const tasks = await t.store.listTasks({ planId: plan.id, limit: 100 });
      assert.equal(tasks.length, plan.tasks.length);
      const executed = await t.store.getPlan(plan.id);
      assert.equal(executed?.status, "executing");
      assert.ok(executed?.tasks.every((p) => tasks.some((task) => task.id === p.taskId)));
    } finally {
      await other.close();
    }
  });

  test("the plan follows its tasks: failed, executing again after a retry, completed", async () => {
    const { plan } = await planner.start("Refactor the logging module", { approve: true });
    await planner.execute(plan.id);
    const status = async () => (await t.store.getPlan(plan.id))?.status;
    const worker = "w1";
    let agents = 0;
    const finishNext = async (ok: boolean) => {
      const task = await t.queue.next(worker);
      assert.ok(task, "a runnable task");
      const started = await t.queue.startAgent(
        task,
        agentRun(`agent-${++agents}`, task.id, worker, t.now()),
      );
      assert.ok(started, "started");
      if (ok) await t.queue.complete(task.id, "done", { workerId: worker });
      else await t.queue.fail(task.id, "broken", { workerId: worker, retryable: false });
      return task;
    };
    await finishNext(true);
    assert.equal(await status(), "executing");
    const failed = await finishNext(false);
    assert.equal(await status(), "failed");
    await t.queue.retry(failed.id);
    assert.equal(await status(), "executing");
    for (let i = 0; i < plan.tasks.length - 1; i++) await finishNext(true);
    assert.equal(await status(), "completed");
    assert.equal(await t.queue.next(worker), null);
  });
});
