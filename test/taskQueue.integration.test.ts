import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, it } from "node:test";
import { LATEST_SCHEMA_VERSION } from "../src/adapters/store/sqlite/migrations/index.ts";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { cleanupFinishedTasks } from "../src/core/cleanup.ts";
import { ConfigError, ConflictError, NotFoundError, UsageError } from "../src/core/errors.ts";
import { PRIORITIES } from "../src/core/priority.ts";
import { readQueueStatus } from "../src/core/queueStatus.ts";
import { makeTempQueue, type TempQueue } from "./helpers/tempStore.ts";

const W1 = "host:1:aaaaaa";
const W2 = "host:2:bbbbbb";

describe("TaskQueue on a real SQLite file", () => {
  let t: TempQueue;
  beforeEach(() => {
    t = makeTempQueue({ leaseMs: 10_000 });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it("runs the lifecycle pending -> assigned -> in_progress -> completed and logs every transition", async () => {
    const task = await t.queue.add({
      description: "Design the schema",
      agentType: "data-architect-governance",
    });
    assert.equal(task.status, "pending");
    assert.equal(task.priority, PRIORITIES.normal);
    assert.equal(task.attempts, 0);

    const claimed = await t.queue.next(W1);
    assert.equal(claimed?.id, task.id);
    assert.equal(claimed?.status, "assigned");
    assert.equal(claimed?.attempts, 1);
    assert.equal(claimed?.workerId, W1);
    assert.equal(claimed?.leaseExpiresAt, t.now() + 10_000);

    const started = await t.queue.start(task.id, W1, "agent-1", "claude");
    assert.equal(started.status, "in_progress");
    assert.equal(started.assignedTo, "agent-1");

    const done = await t.queue.complete(task.id, "schema.sql written", {
      workerId: W1,
      costUsd: 0.0123,
      inputTokens: 100,
      outputTokens: 50,
      sessionId: "s-1",
    });
    assert.equal(done.status, "completed");
    assert.equal(done.output, "schema.sql written");
    assert.equal(done.costUsd, 0.0123);
    assert.equal(done.leaseExpiresAt, null);

    const kinds = (await t.store.eventsFor(task.id, 100)).map((e) => e.kind);
    assert.deepEqual(kinds, ["task:submitted", "task:claimed", "task:started", "task:completed"]);
    assert.equal(await t.queue.next(W1), null);
  });

  it("claims the highest priority first and, within a priority, the oldest", async () => {
    const low = await t.queue.add({ description: "low", priority: PRIORITIES.low });
    t.advance(1);
    const normalOld = await t.queue.add({ description: "normal old" });
    t.advance(1);
    const urgent = await t.queue.add({ description: "urgent", priority: PRIORITIES.urgent });
    t.advance(1);
    const normalNew = await t.queue.add({ description: "normal new" });
    const high = await t.queue.add({ description: "high", priority: PRIORITIES.high });
    const order: string[] = [];
    for (let task = await t.queue.next(W1); task; task = await t.queue.next(W1))
      order.push(task.id);
    assert.deepEqual(order, [urgent.id, high.id, normalOld.id, normalNew.id, low.id]);
  });

  it("breaks ties by age even within the same millisecond", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await t.queue.add({ description: `t${i}` })).id);
    const order: string[] = [];
    for (let task = await t.queue.next(W1); task; task = await t.queue.next(W1))
      order.push(task.id);
    assert.deepEqual(order, ids);
  });

  it("makes a task claimable only when every dependency completed", async () => {
    const a = await t.queue.add({ description: "a" });
    const b = await t.queue.add({ description: "b", priority: PRIORITIES.urgent });
    const c = await t.queue.add({
      description: "c",
      priority: PRIORITIES.urgent,
      dependsOn: [a.id, b.id.slice(0, 10)],
    });
    assert.equal(c.unmetDependencies, 2);
    assert.deepEqual(
      (await t.store.dependenciesOf(c.id)).map((d) => d.id).sort(),
      [a.id, b.id].sort(),
    );
    assert.deepEqual(
      (await t.store.dependentsOf(a.id)).map((d) => d.id),
      [c.id],
    );

    assert.equal((await t.queue.next(W1))?.id, b.id);
    assert.equal((await t.queue.next(W1))?.id, a.id);
    assert.equal(await t.queue.next(W1), null, "c waits for a and b");
    await t.queue.complete(b.id, "ok", { workerId: W1 });
    assert.equal(await t.queue.next(W1), null, "c still waits for a");
    const blocked = await t.store.blockedTasks(10);
    assert.equal(blocked.count, 1);
    assert.deepEqual(
      blocked.tasks[0]?.waitingOn.map((d) => d.id),
      [a.id],
    );
    await t.queue.complete(a.id, "ok", { workerId: W1 });
    assert.equal((await t.queue.next(W1))?.id, c.id);
  });

  it("counts a dependency on an already completed task as met", async () => {
    const a = await t.queue.add({ description: "a" });
    await t.queue.next(W1);
    await t.queue.complete(a.id, "ok");
    const b = await t.queue.add({ description: "b", dependsOn: [a.id] });
    assert.equal(b.unmetDependencies, 0);
    assert.equal((await t.queue.next(W1))?.id, b.id);
  });

  it("keeps dependents of a failed task blocked until the task is retried and completes", async () => {
    const a = await t.queue.add({ description: "a", maxAttempts: 1 });
    const b = await t.queue.add({ description: "b", dependsOn: [a.id] });
    await t.queue.next(W1);
    const failed = await t.queue.fail(a.id, "compiler exploded", {
      workerId: W1,
      costUsd: 0.25,
      inputTokens: 900,
      outputTokens: 40,
      sessionId: "sess-1",
    });
    assert.equal(failed.status, "failed");
    assert.deepEqual(
      [failed.costUsd, failed.inputTokens, failed.outputTokens, failed.sessionId],
      [0.25, 900, 40, "sess-1"],
      "what the failed attempt's agent reported is kept for a resume",
    );
    assert.equal(await t.queue.next(W1), null);
    const blocked = await t.store.blockedTasks(10);
    assert.deepEqual(blocked.tasks[0]?.waitingOn, [
      { id: a.id, description: "a", status: "failed" },
    ]);

    const requeued = await t.queue.retry(a.id.slice(0, 6));
    assert.equal(requeued.status, "pending");
    assert.equal(requeued.attempts, 0);
    assert.equal(requeued.error, null);
    assert.equal((await t.queue.next(W1))?.id, a.id);
    await t.queue.complete(a.id, "ok", { workerId: W1 });
    assert.equal((await t.queue.next(W1))?.id, b.id);
  });

  it("refuses dependencies on missing tasks and leaves nothing half-written", async () => {
    await assert.rejects(
      t.queue.add({ description: "x", dependsOn: ["0123456789abcdef"] }),
      NotFoundError,
    );
    await assert.rejects(t.queue.add({ description: "x", dependsOn: ["not-hex!"] }), NotFoundError);
    assert.equal((await readQueueStatus(t.queue, { recent: 10, blocked: 10 })).total, 0);
  });

  it("refuses a dependency cycle, direct or through others", async () => {
    const a = await t.queue.add({ description: "a" });
    const b = await t.queue.add({ description: "b", dependsOn: [a.id] });
    const c = await t.queue.add({ description: "c", dependsOn: [b.id] });
    await assert.rejects(t.queue.addDependency(a.id, c.id), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.match(error.message, /cycle/);
      assert.match(error.message, new RegExp(`${a.id.slice(0, 8)} -> ${c.id.slice(0, 8)}`));
      return true;
    });
    await assert.rejects(t.queue.addDependency(a.id, a.id), ConflictError);
    assert.deepEqual(await t.store.dependenciesOf(a.id), []);
    // An edge that closes no cycle is fine, and counts as unmet while the dependency is open.
    const d = await t.queue.add({ description: "d" });
    await t.queue.addDependency(d.id, c.id);
    assert.equal((await t.queue.get(d.id)).unmetDependencies, 1);
  });

  it("inserts a batch in dependency order by key and refuses a cycle inside the batch", async () => {
    const tasks = await t.queue.addMany([
      { key: "api", description: "API", dependsOn: ["schema"] },
      { key: "schema", description: "schema" },
      { key: "tests", description: "tests", dependsOn: ["api", "schema"] },
    ]);
    assert.equal(tasks.length, 3);
    const [api, schema, tests] = tasks;
    assert.deepEqual(
      (await t.store.dependenciesOf(api?.id ?? "")).map((d) => d.id),
      [schema?.id],
    );
    assert.equal(tests?.unmetDependencies, 2);

    await assert.rejects(
      t.queue.addMany([
        { key: "x", description: "x", dependsOn: ["z"] },
        { key: "y", description: "y", dependsOn: ["x"] },
        { key: "z", description: "z", dependsOn: ["y"] },
      ]),
      (error: unknown) =>
        error instanceof ConflictError && /x -> z -> y -> x|cycle/.test(error.message),
    );
    assert.equal((await readQueueStatus(t.queue, { recent: 10, blocked: 10 })).total, 3);
  });

  it("validates input: empty description, bad priority, bad max attempts, non-object context", async () => {
    await assert.rejects(t.queue.add({ description: "   " }), UsageError);
    await assert.rejects(t.queue.add({ description: "x", priority: 7 }), UsageError);
    await assert.rejects(t.queue.add({ description: "x", maxAttempts: 0 }), UsageError);
    await assert.rejects(
      t.queue.add({ description: "x", context: [] as unknown as Record<string, unknown> }),
      UsageError,
    );
    assert.equal((await t.queue.list()).length, 0);
  });

  it("returns an expired lease to pending with another attempt, after a backoff", async () => {
    const task = await t.queue.add({ description: "flaky", maxAttempts: 2 });
    await t.queue.next(W1);
    t.advance(10_001);
    assert.equal(await t.queue.next(W2), null, "given back, but its backoff has not passed yet");
    const after = await t.queue.get(task.id);
    assert.equal(after.status, "pending");
    assert.equal(after.attempts, 1);
    assert.equal(after.workerId, null);
    assert.match(after.error ?? "", /lease expired/);
    t.advance(1_000);
    const again = await t.queue.next(W2);
    assert.equal(again?.id, task.id);
    assert.equal(again?.attempts, 2);
    assert.equal(again?.workerId, W2);
    // The first worker lost it: its late completion is refused.
    await assert.rejects(t.queue.complete(task.id, "late", { workerId: W1 }), ConflictError);
    assert.equal(await t.queue.heartbeat(task.id, W1), false);

    // The last attempt's lease expires too: now it fails for good.
    t.advance(10_001);
    assert.deepEqual(await t.queue.reapExpired(), { requeued: 0, failed: 1 });
    const final = await t.queue.get(task.id);
    assert.equal(final.status, "failed");
    const kinds = (await t.store.eventsFor(task.id, 100)).map((e) => e.kind);
    assert.deepEqual(kinds, [
      "task:submitted",
      "task:claimed",
      "task:lease_expired",
      "task:claimed",
      "task:lease_expired",
    ]);
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
        assert.equal(after.status, "failed");
        assert.equal(after.error, "boom 3");
      }
    }
    // random() is 0.5 in tests: delay = 3/4 of min(max, base * 2^(attempt-1)).
    assert.deepEqual(delays, [750, 1500]);
  });

  it("does not retry a failure marked not retryable", async () => {
    const task = await t.queue.add({ description: "x", maxAttempts: 5 });
    await t.queue.next(W1);
    const after = await t.queue.fail(task.id, "bad request", { workerId: W1, retryable: false });
    assert.equal(after.status, "failed");
  });

  it("cancels unfinished tasks only, and retries failed or cancelled ones only", async () => {
    const a = await t.queue.add({ description: "a" });
    const cancelled = await t.queue.cancel(a.id);
    assert.equal(cancelled.status, "cancelled");
    await assert.rejects(t.queue.cancel(a.id), ConflictError);
    assert.equal((await t.queue.retry(a.id)).status, "pending");
    await assert.rejects(
      t.queue.retry(a.id),
      (e: unknown) => e instanceof ConflictError && /only failed or cancelled/.test(e.hint ?? ""),
    );
    await t.queue.next(W1);
    await t.queue.complete(a.id, "ok");
    await assert.rejects(
      t.queue.retry(a.id),
      (e: unknown) => e instanceof ConflictError && /completed/.test(e.message),
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
    assert.equal((await t.queue.get(some.toUpperCase())).id, some);
    const firstDigits = [...ids].map((id) => id[0]);
    const shared = firstDigits.find((d, i) => firstDigits.indexOf(d) !== i) ?? "";
    await assert.rejects(
      t.queue.resolveId(shared),
      (e: unknown) => e instanceof ConflictError && /ambiguous/.test(e.message),
    );
    await assert.rejects(t.queue.resolveId("zz"), NotFoundError);
  });

  it("cleans up old finished tasks with their events and output files, keeping what unfinished work needs", async () => {
    const old = await t.queue.add({ description: "old done" });
    const needed = await t.queue.add({ description: "old but needed" });
    await t.queue.add({ description: "waits", dependsOn: [needed.id] });
    await t.queue.add({ description: "still pending" });
    for (let i = 0; i < 2; i++) {
      const claimed = await t.queue.next(W1);
      if (claimed?.id === old.id || claimed?.id === needed.id)
        await t.queue.complete(claimed.id, "ok");
    }
    t.store.db
      .prepare(
        `INSERT INTO agent_runs (id, task_id, agent_type, backend, worker_id, host, pid, started_at, ended_at, output_path)
         VALUES ('agent-x', ?, NULL, 'claude', ?, 'h', 1, 0, 1, 'agent_outputs/agent-x_output.md')`,
      )
      .run(old.id, W1);
    const outputs = join(t.dir, "agent_outputs");
    (await import("node:fs")).mkdirSync(outputs);
    writeFileSync(join(outputs, "agent-x_output.md"), "out");
    writeFileSync(join(outputs, "agent-x_output.raw.jsonl"), "{}");
    writeFileSync(join(outputs, "agent-y_output.md"), "someone else's");
    t.advance(8 * 86_400_000);

    const dry = await cleanupFinishedTasks(t.queue, {
      before: t.now() - 7 * 86_400_000,
      baseDir: t.dir,
      dryRun: true,
    });
    assert.deepEqual(
      dry.tasks.map((x) => x.id),
      [old.id],
    );
    assert.equal(dry.keptForDependents, 1);
    assert.equal(dry.files.length, 2);
    assert.equal((await t.queue.get(old.id)).id, old.id, "a dry run removes nothing");

    const real = await cleanupFinishedTasks(t.queue, {
      before: t.now() - 7 * 86_400_000,
      baseDir: t.dir,
      dryRun: false,
    });
    assert.deepEqual(
      real.tasks.map((x) => x.id),
      [old.id],
    );
    await assert.rejects(t.queue.get(old.id), NotFoundError);
    assert.deepEqual(await t.store.eventsFor(old.id, 10), []);
    const { readdirSync } = await import("node:fs");
    assert.deepEqual(readdirSync(outputs), ["agent-y_output.md"]);
    assert.equal((await t.queue.get(needed.id)).status, "completed");
  });
});

describe("SQLite schema and files", () => {
  it("records migrations in a ledger and refuses a database from a newer orchestrate", async () => {
    const t = makeTempQueue();
    try {
      const rows = t.store.db.prepare("SELECT version, name FROM schema_migrations").all();
      assert.equal(rows.length, LATEST_SCHEMA_VERSION);
      const pragma = t.store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
      assert.equal(pragma.journal_mode, "wal");
      assert.equal(
        (t.store.db.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys,
        1,
      );
      t.store.db
        .prepare("INSERT INTO schema_migrations VALUES (?, 'future', 0)")
        .run(LATEST_SCHEMA_VERSION + 1);
      await t.store.close();
      assert.throws(
        () => openSqliteStore({ path: t.dbPath, busyTimeoutMs: 100 }),
        (e: unknown) => e instanceof ConfigError && /newer/.test(e.message),
      );
    } finally {
      await t.dispose();
    }
  });

  it("opens a database twice without re-applying migrations, and refuses a file that is not SQLite", async () => {
    const t = makeTempQueue();
    try {
      await t.queue.add({ description: "kept" });
      const second = openSqliteStore({ path: t.dbPath, busyTimeoutMs: 100 });
      assert.equal((await second.listTasks({ limit: 10 })).length, 1);
      await second.close();
      const bogus = join(t.dir, "bogus.db");
      writeFileSync(bogus, "this is a text file, not a database ".repeat(200));
      assert.throws(
        () => openSqliteStore({ path: bogus, busyTimeoutMs: 100 }),
        (e: unknown) => e instanceof ConfigError && /not an SQLite database/.test(e.message),
      );
    } finally {
      await t.dispose();
    }
  });

  it("reports a database locked past the busy timeout as a conflict", async () => {
    const t = makeTempQueue();
    const holder = new DatabaseSync(t.dbPath);
    try {
      holder.exec("BEGIN IMMEDIATE");
      const impatient = openSqliteStore({ path: t.dbPath, busyTimeoutMs: 50 });
      await assert.rejects(
        impatient.insertTasks(
          [
            {
              id: "00000000000000aa",
              description: "x",
              agentType: null,
              priority: 2,
              context: null,
              planId: null,
              maxAttempts: 1,
              timeoutMs: null,
              backend: null,
              dependsOn: [],
            },
          ],
          0,
        ),
        (e: unknown) => e instanceof ConflictError && /locked/.test(e.message),
      );
      await impatient.close();
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
      await t.dispose();
    }
  });
});

describe("task counts", () => {
  it("stay equal to a full count through every kind of change", async () => {
    const t = makeTempQueue({ leaseMs: 1_000 });
    try {
      const tasks = await t.queue.addMany(
        Array.from({ length: 12 }, (_, i) => ({ description: `t${i}`, maxAttempts: 1 })),
      );
      for (let i = 0; i < 8; i++) await t.queue.next("w");
      await t.queue.start(tasks[0]?.id ?? "", "w", "a");
      await t.queue.complete(tasks[0]?.id ?? "", "ok");
      await t.queue.fail(tasks[1]?.id ?? "", "bad", { workerId: "w" });
      await t.queue.cancel(tasks[2]?.id ?? "");
      await t.queue.retry(tasks[2]?.id ?? "");
      t.advance(5_000);
      await t.queue.reapExpired();
      await t.store.deleteTasks([tasks[0]?.id ?? "", tasks[11]?.id ?? ""]);
      const full = Object.fromEntries(
        (
          t.store.db.prepare("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status").all() as {
            status: string;
            n: number;
          }[]
        ).map((r) => [r.status, r.n]),
      );
      const counted = Object.fromEntries(
        Object.entries(await t.store.countByStatus()).filter(([, n]) => n !== 0),
      );
      assert.deepEqual(counted, full);
      assert.equal(
        Object.values(counted).reduce((a, b) => a + b, 0),
        10,
      );
    } finally {
      await t.dispose();
    }
  });
});

describe("completeAndNext", () => {
  it("completes a task and claims the next in one transaction, and refuses a task the worker lost", async () => {
    const t = makeTempQueue({ leaseMs: 1_000 });
    try {
      const [a, b] = await t.queue.addMany([{ description: "a" }, { description: "b" }]);
      await t.queue.next(W1);
      const step = await t.queue.completeAndNext(a?.id ?? "", "done a", { workerId: W1 });
      assert.equal(step.completed.status, "completed");
      assert.equal(step.next?.id, b?.id);
      assert.equal(step.next?.workerId, W1);
      const last = await t.queue.completeAndNext(b?.id ?? "", "done b", { workerId: W1 });
      assert.equal(last.next, null);
      await assert.rejects(
        t.queue.completeAndNext(b?.id ?? "", "again", { workerId: W1 }),
        ConflictError,
      );
      assert.equal((await t.store.countByStatus()).completed, 2);
    } finally {
      await t.dispose();
    }
  });
});
