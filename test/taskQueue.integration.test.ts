// The TaskQueue's own decisions (validation, which transition, retries and their backoff, cancel and
// retry rules, id prefixes, the reaper, the agent lifecycle, queueing a plan) over a real SQLite store.
// What the store itself guarantees (claim order, dependency counters, counts, events, cleanup) is pinned
// by the Store contract in test/store/.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConflictError, NotFoundError, UsageError } from "../src/core/errors.ts";
import { PRIORITIES } from "../src/core/priority.ts";
import type { Task } from "../src/core/task.ts";
import { type AgentVerdict, TaskQueue } from "../src/core/taskQueue.ts";
import { makeTempQueue, type TempQueue } from "./helpers/tempStore.ts";
import { agentRun, newPlan, plannedTask, W1, W2 } from "./store/storeFixtures.ts";

describe("TaskQueue on a real SQLite file", () => {
  let t: TempQueue;
  beforeEach(() => {
    t = makeTempQueue({ leaseMs: 10_000 });
  });
  afterEach(() => t.dispose());

  const total = async () => Object.values(await t.queue.counts()).reduce((sum, n) => sum + n, 0);

  /** The verdict on an agent that failed, with nothing else reported. */
  const failure = (error: string, retryable: boolean): AgentVerdict => ({
    kind: "failed",
    error,
    retryable,
    details: {},
  });

  /** Starts agent `agentId` on a task W1 claimed. */
  async function startOn(claimed: Task | null, agentId: string): Promise<Task> {
    assert.ok(claimed, "a claimed task");
    const started = await t.queue.startAgent(claimed, agentRun(agentId, claimed.id, W1, t.now()));
    assert.ok(started, "the agent started");
    return started;
  }

  /** Claims the next task for W1 and starts agent `agentId` on it. */
  async function claimAndStart(agentId: string): Promise<Task> {
    return startOn(await t.queue.next(W1), agentId);
  }

  it("runs pending -> assigned -> in_progress -> completed and logs every step", async () => {
    const task = await t.queue.add({ description: "Design the schema", agentType: "architect" });
    assert.deepEqual(
      [task.status, task.priority, task.attempts, task.maxAttempts],
      ["pending", PRIORITIES.normal, 0, 3],
    );
    const claimed = await t.queue.next(W1);
    assert.deepEqual(
      [claimed?.id, claimed?.status, claimed?.attempts, claimed?.leaseExpiresAt],
      [task.id, "assigned", 1, t.now() + 10_000],
    );
    t.advance(5);
    const started = await startOn(claimed, "agent-1");
    assert.deepEqual(
      [started.status, started.assignedTo, started.backend, started.startedAt],
      ["in_progress", "agent-1", "claude", t.now()],
    );
    assert.equal(started.leaseExpiresAt, t.now() + 10_000, "the start renews the lease");
    const done = await t.queue.complete(task.id, "schema.sql written", {
      workerId: W1,
      costUsd: 0.0123,
      inputTokens: 100,
      outputTokens: 50,
      sessionId: "s-1",
    });
    assert.deepEqual(
      [done.status, done.output, done.costUsd, done.sessionId, done.leaseExpiresAt],
      ["completed", "schema.sql written", 0.0123, "s-1", null],
    );
    assert.deepEqual(
      (await t.queue.eventsOf(task.id, 100)).map((e) => e.kind),
      ["task:submitted", "task:claimed", "task:started", "agent:started", "task:completed"],
    );
    assert.equal(await t.queue.next(W1), null);
  });

  it("validates input: description, priority, max attempts, timeout and context", async () => {
    const bad = [
      { description: "   " },
      { description: "x".repeat(100_001) },
      { description: "x", priority: 7 },
      { description: "x", maxAttempts: 0 },
      { description: "x", maxAttempts: 101 },
      { description: "x", maxAttempts: 1.5 },
      { description: "x", timeoutMs: 0 },
      { description: "x", context: [] as unknown as Record<string, unknown> },
    ];
    for (const input of bad) await assert.rejects(t.queue.add(input), UsageError);
    assert.equal(await total(), 0);
    const trimmed = await t.queue.add({ description: "  trim me  ", timeoutMs: 60_000 });
    assert.deepEqual([trimmed.description, trimmed.timeoutMs], ["trim me", 60_000]);
  });

  it("resolves dependencies by key, id or unique prefix, and refuses missing ones without writing anything", async () => {
    const a = await t.queue.add({ description: "a" });
    const b = await t.queue.add({ description: "b" });
    const c = await t.queue.add({ description: "c", dependsOn: [a.id, b.id.slice(0, 10), a.id] });
    assert.deepEqual(
      (await t.queue.dependenciesOf(c.id)).map((d) => d.id).sort(),
      [a.id, b.id].sort(),
    );
    assert.equal(c.unmetDependencies, 2, "a dependency named twice counts once");
    await assert.rejects(
      t.queue.add({ description: "x", dependsOn: ["0123456789abcdef"] }),
      NotFoundError,
    );
    await assert.rejects(t.queue.add({ description: "x", dependsOn: ["not-hex!"] }), NotFoundError);
    await assert.rejects(
      t.queue.addMany([
        { description: "ok" },
        { description: "x", dependsOn: ["0123456789abcdef"] },
      ]),
      NotFoundError,
    );
    assert.equal(await total(), 3);
  });

  it("inserts a batch in dependency order by key and refuses cycles, shared keys and self-dependencies", async () => {
    const [api, schema, tests] = await t.queue.addMany([
      { key: "api", description: "API", dependsOn: ["schema"] },
      { key: "schema", description: "schema" },
      { key: "tests", description: "tests", dependsOn: ["api", "schema"] },
    ]);
    assert.deepEqual(
      (await t.queue.dependenciesOf(api?.id ?? "")).map((d) => d.id),
      [schema?.id],
    );
    assert.equal(tests?.unmetDependencies, 2);
    await assert.rejects(
      t.queue.addMany([
        { key: "x", description: "x", dependsOn: ["z"] },
        { key: "y", description: "y", dependsOn: ["x"] },
        { key: "z", description: "z", dependsOn: ["y"] },
      ]),
      (e: unknown) => e instanceof ConflictError && /cycle: (x|y|z) -> (x|y|z) -> /.test(e.message),
    );
    await assert.rejects(
      t.queue.addMany([
        { key: "x", description: "x" },
        { key: "x", description: "again" },
      ]),
      UsageError,
    );
    await assert.rejects(
      t.queue.addMany([{ key: "me", description: "x", dependsOn: ["me"] }]),
      (e: unknown) => e instanceof ConflictError && /itself/.test(e.message),
    );
    assert.equal(await total(), 3);
  });

  it("gives an expired lease back with another attempt after a backoff, then fails it when attempts are used up", async () => {
    const task = await t.queue.add({ description: "flaky", maxAttempts: 2 });
    await t.queue.next(W1);
    t.advance(10_001);
    assert.equal(await t.queue.next(W2), null, "given back, but its backoff has not passed yet");
    const after = await t.queue.get(task.id);
    assert.deepEqual([after.status, after.attempts, after.workerId], ["pending", 1, null]);
    assert.match(after.error ?? "", /lease expired: worker .* \(attempt 1 of 2\)/);
    assert.equal(after.runAfter, t.now() + 750, "backoff 3/4 of the 1 s base");
    t.advance(750);
    const again = await t.queue.next(W2);
    assert.deepEqual([again?.id, again?.attempts, again?.workerId], [task.id, 2, W2]);
    await assert.rejects(
      t.queue.complete(task.id, "late", { workerId: W1 }),
      (e: unknown) => e instanceof ConflictError && /no longer held by worker/.test(e.message),
    );
    assert.equal(await t.queue.heartbeat(task.id, W1), false);

    t.advance(10_001);
    assert.deepEqual(await t.queue.reapExpired(), { requeued: 0, failed: 1 });
    assert.equal((await t.queue.get(task.id)).status, "failed");
    const expiries = (await t.queue.eventsOf(task.id, 100)).filter(
      (e) => e.kind === "task:lease_expired",
    );
    assert.deepEqual(
      expiries.map((e) => [e.data?.["workerId"], e.data?.["outcome"]]),
      [
        [W1, "retry"],
        [W2, "failed"],
      ],
    );
  });

  it("keeps a lease alive while its worker renews it", async () => {
    const task = await t.queue.add({ description: "long" });
    await t.queue.next(W1);
    for (let i = 0; i < 5; i++) {
      t.advance(8_000);
      assert.equal(await t.queue.heartbeat(task.id, W1), true);
      assert.deepEqual(await t.queue.reapExpired(), { requeued: 0, failed: 0 });
    }
    assert.equal((await t.queue.get(task.id)).status, "assigned");
  });

  it("retries a failed attempt with exponential backoff, then fails when attempts are used up", async () => {
    const task = await t.queue.add({ description: "x", maxAttempts: 3 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const claimed = await t.queue.next(W1);
      assert.equal(claimed?.attempts, attempt);
      const after = await t.queue.fail(task.id, `boom ${attempt}`, { workerId: W1 });
      if (attempt < 3) {
        assert.equal(after.status, "pending");
        delays.push(after.runAfter - t.now());
        t.advance(after.runAfter - t.now());
      } else {
        assert.deepEqual([after.status, after.error], ["failed", "boom 3"]);
      }
    }
    // random() is 0.5 in tests: delay = 3/4 of min(max, base * 2^(attempt-1)).
    assert.deepEqual(delays, [750, 1500]);
  });

  it("does not retry a failure marked not retryable, and keeps what the attempt's agent reported", async () => {
    const task = await t.queue.add({ description: "x", maxAttempts: 5 });
    await t.queue.next(W1);
    const after = await t.queue.fail(task.id, "bad request", {
      workerId: W1,
      retryable: false,
      costUsd: 0.25,
      inputTokens: 900,
      outputTokens: 40,
      sessionId: "sess-1",
    });
    assert.equal(after.status, "failed");
    assert.deepEqual(
      [after.costUsd, after.inputTokens, after.outputTokens, after.sessionId],
      [0.25, 900, 40, "sess-1"],
    );
  });

  it("cancels unfinished tasks only, and retries failed or cancelled ones only", async () => {
    const a = await t.queue.add({ description: "a" });
    assert.equal((await t.queue.cancel(a.id)).status, "cancelled");
    await assert.rejects(
      t.queue.cancel(a.id),
      (e: unknown) => e instanceof ConflictError && /have not finished/.test(e.hint ?? ""),
    );
    const requeued = await t.queue.retry(a.id);
    assert.deepEqual([requeued.status, requeued.attempts, requeued.error], ["pending", 0, null]);
    await assert.rejects(
      t.queue.retry(a.id),
      (e: unknown) => e instanceof ConflictError && /only failed or cancelled/.test(e.hint ?? ""),
    );
    await t.queue.next(W1);
    await t.queue.complete(a.id, "ok");
    await assert.rejects(
      t.queue.retry(a.id),
      (e: unknown) => e instanceof ConflictError && /submit a new task/.test(e.hint ?? ""),
    );
    // A task held by a worker can be cancelled; the worker then loses its lease.
    const b = await t.queue.add({ description: "b" });
    await t.queue.next(W1);
    await t.queue.cancel(b.id);
    assert.equal(await t.queue.heartbeat(b.id, W1), false);
  });

  it("resolves unique id prefixes and reports unknown and ambiguous ones", async () => {
    const ids = new Set<string>();
    while (ids.size < 40) ids.add((await t.queue.add({ description: "x" })).id);
    const some = [...ids][0] ?? "";
    assert.equal((await t.queue.get(some.slice(0, 12))).id, some);
    assert.equal((await t.queue.get(` ${some.toUpperCase()} `)).id, some);
    const firstDigits = [...ids].map((id) => id[0]);
    const shared = firstDigits.find((d, i) => firstDigits.indexOf(d) !== i) ?? "";
    await assert.rejects(
      t.queue.resolveId(shared),
      (e: unknown) => e instanceof ConflictError && /ambiguous/.test(e.message),
    );
    await assert.rejects(t.queue.resolveId("zz"), NotFoundError);
    await assert.rejects(t.queue.resolveId("fffffffffffffffe"), NotFoundError);
  });

  it("startAgent records nothing when the task was cancelled since the claim", async () => {
    await t.queue.add({ description: "a" });
    const claimed = await t.queue.next(W1);
    assert.ok(claimed);
    await t.queue.cancel(claimed.id);
    const run = agentRun("agent-1", claimed.id, W1, t.now());
    assert.equal(await t.queue.startAgent(claimed, run), null);
    assert.deepEqual(await t.queue.agentRunsOf(claimed.id), []);
  });

  it("finishAgent completes, retries or fails as the verdict says, and claims the next task when asked", async () => {
    await t.queue.addMany([
      { description: "ok" },
      { description: "flaky", maxAttempts: 2 },
      { description: "broken", maxAttempts: 5 },
    ]);
    const finish = (task: Task, verdict: AgentVerdict) =>
      t.queue.finishAgent(
        task,
        { agentRunId: task.assignedTo ?? "", workerId: W1, end: { exitCode: 0 } },
        verdict,
        { claimNext: true },
      );
    const ok = await claimAndStart("agent-ok");
    const done = await finish(ok, { kind: "completed", output: "fine", details: { costUsd: 0.5 } });
    assert.deepEqual(
      [done.outcome, done.task?.status, done.task?.output, done.task?.costUsd],
      ["completed", "completed", "fine", 0.5],
    );
    assert.equal(done.next?.description, "flaky", "claimed in the same call");
    assert.deepEqual(
      (await t.queue.agentRunsOf(ok.id)).map((r) => [r.endedAt, r.exitCode]),
      [[t.now(), 0]],
    );

    const flaky = await startOn(done.next, "agent-flaky");
    const retried = await finish(flaky, failure("timeout", true));
    assert.deepEqual([retried.outcome, retried.task?.status], ["retry", "pending"]);
    assert.equal(retried.task?.runAfter, t.now() + 750);
    assert.equal(retried.next?.description, "broken", "the retry waits for its backoff");

    const broken = await startOn(retried.next, "agent-broken");
    const failed = await finish(broken, failure("bad request", false));
    assert.deepEqual(
      [failed.outcome, failed.task?.status, failed.next],
      ["failed", "failed", null],
    );

    t.advance(750);
    const lastTry = await claimAndStart("agent-flaky-2");
    assert.equal(lastTry.attempts, 2);
    const used = await finish(lastTry, failure("again", true));
    assert.deepEqual([used.outcome, used.task?.status], ["failed", "failed"], "attempts used up");
  });

  it("finishAgent reports what another process did when it changed the task first", async () => {
    const task = await t.queue.add({ description: "a" });
    const started = await claimAndStart("agent-1");
    await t.queue.cancel(task.id);
    const result = await t.queue.finishAgent(
      started,
      { agentRunId: "agent-1", workerId: W1, end: { exitCode: 0 } },
      { kind: "completed", output: "too late", details: {} },
      { claimNext: false },
    );
    assert.deepEqual(
      [result.outcome, result.task?.status, result.task?.output, result.next],
      ["cancelled", "cancelled", null, null],
    );
    assert.equal((await t.queue.agentRunsOf(task.id))[0]?.endedAt, t.now(), "the run is closed");
  });

  it("killAgent fails the task without a retry and closes the run; the run's own finish then finds it ended", async () => {
    const task = await t.queue.add({ description: "a", maxAttempts: 5 });
    const started = await claimAndStart("agent-1");
    const otherTerminal = new TaskQueue({ store: t.another(), clock: t.now });
    const [run] = await otherTerminal.runningAgents();
    assert.ok(run);
    const killed = await otherTerminal.killAgent(run, "killed by user");
    assert.deepEqual([killed?.status, killed?.error], ["failed", "killed by user"]);
    const [closed] = await t.queue.agentRunsOf(task.id);
    assert.deepEqual([closed?.endReason, closed?.endedAt], ["killed", t.now()]);
    const own = await t.queue.finishAgent(
      started,
      { agentRunId: "agent-1", workerId: W1, end: { exitCode: 143 } },
      failure("terminated", true),
      { claimNext: false },
    );
    assert.deepEqual([own.outcome, own.task?.status], ["killed", "failed"]);
    const [kept] = await t.queue.agentRunsOf(task.id);
    assert.deepEqual(
      [kept?.endReason, kept?.exitCode],
      ["killed", 143],
      "closed once, by the kill; the agent's own exit code fills in",
    );
  });

  it("a worker never reaps its own lapsed leases; another worker does, and the late end is `lost`", async () => {
    const task = await t.queue.add({ description: "slow", maxAttempts: 3 });
    const started = await claimAndStart("agent-1");
    t.advance(10_001);
    await t.queue.reapIfDue(W1);
    assert.equal((await t.queue.get(task.id)).status, "in_progress", "not by its own worker");
    assert.equal(await t.queue.next(W1), null, "nor by its own next claim");
    assert.equal((await t.queue.get(task.id)).status, "in_progress");
    const otherWorker = new TaskQueue({ store: t.another(), clock: t.now, reapIntervalMs: 0 });
    await otherWorker.reapIfDue(W2);
    assert.equal((await t.queue.get(task.id)).status, "pending", "another worker gives it back");
    const late = await t.queue.finishAgent(
      started,
      { agentRunId: "agent-1", workerId: W1, end: { exitCode: 0 } },
      { kind: "completed", output: "too late", details: {} },
      { claimNext: false },
    );
    assert.deepEqual([late.outcome, late.task?.status], ["lost", "pending"]);
  });

  it("closeAgentRuns closes the rows of agents whose run died", async () => {
    await t.queue.addMany([{ description: "a" }, { description: "b" }]);
    await claimAndStart("agent-a");
    await claimAndStart("agent-b");
    const running = await t.queue.runningAgents();
    assert.equal(running.length, 2);
    await t.queue.closeAgentRuns(running, "run died");
    assert.deepEqual(await t.queue.runningAgents(), []);
    const runs = await Promise.all(running.map((r) => t.queue.agentRunsOf(r.taskId)));
    assert.deepEqual(
      runs.flat().map((r) => r.endReason),
      ["run died", "run died"],
    );
  });

  it("queuePlan validates the tasks, queues them once with their dependencies by key", async () => {
    const plan = newPlan("a1a1a1a1a1a1a1a1", t.now(), {
      tasks: [plannedTask("t1"), plannedTask("t2", { dependsOn: ["t1"] })],
    });
    await t.store.insertPlan(plan);
    await t.store.setPlanStatus(plan.id, ["draft"], "approved", t.now());
    const inputs = plan.tasks.map((p) => ({
      key: p.key,
      description: p.description,
      agentType: p.agentType,
      priority: p.priority,
      dependsOn: p.dependsOn,
    }));
    await assert.rejects(
      t.queue.queuePlan(plan.id, [
        { ...inputs[0], key: "t1", description: " " },
        ...inputs.slice(1),
      ]),
      UsageError,
    );
    assert.equal(await total(), 0);
    const queued = await t.queue.queuePlan(plan.id, inputs);
    assert.equal(queued.queued, true);
    assert.equal(queued.plan.status, "executing");
    const tasks = await t.queue.list({ planId: plan.id });
    assert.deepEqual(
      tasks.map((task) => [task.description, task.planId, task.unmetDependencies]),
      [
        ["do t1", plan.id, 0],
        ["do t2", plan.id, 1],
      ],
    );
    assert.deepEqual(
      queued.plan.tasks.map((p) => p.taskId),
      tasks.map((task) => task.id),
    );
    const again = await t.queue.queuePlan(plan.id, inputs);
    assert.equal(again.queued, false);
    assert.equal(await total(), 2);
  });
});
