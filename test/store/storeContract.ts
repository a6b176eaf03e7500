// The contract of the Store port (src/ports/store.ts): what every storage adapter must do, written only
// against the `Store` interface. An adapter's test file calls `defineStoreContract` with a factory that
// opens a fresh, empty store of its kind; nothing here knows which kind it is. Times are passed
// explicitly (every port method takes `now`), so nothing sleeps.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConflictError, NotFoundError } from "../../src/core/errors.ts";
import type { Plan, PlanStatus } from "../../src/core/plan.ts";
import type { AgentRun, Task, TaskEvent } from "../../src/core/task.ts";
import { LEASED_STATUSES, TASK_STATUSES, type TaskStatus } from "../../src/core/taskStatus.ts";
import type { ResolverSpec, TaskWorkspace } from "../../src/core/taskWorkspace.ts";
import type { Store, TaskTransition } from "../../src/ports/store.ts";
import {
  agentStartOf,
  BASE_COMMIT,
  cancellationOf,
  claimAt,
  completionOf,
  deferralOf,
  failureOf,
  LEASE_MS,
  leaseExpiryOf,
  newPlan,
  newTask,
  plannedTask,
  requeueOf,
  seedOf,
  startOf,
  T0,
  taskId,
  tasksToQueue,
  W1,
  W2,
  workspaceOf,
} from "./storeFixtures.ts";

/** A fresh store of one adapter, for one test. */
export interface StoreUnderTest {
  store: Store;
  /** A second connection to the SAME data, as another process or terminal would open. */
  another(): Promise<Store>;
  /** Closes every connection opened and removes the data. */
  dispose(): Promise<void>;
}

export interface StoreFactory {
  /** The adapter's name in the test titles: `sqlite`, `postgres`. */
  name: string;
  /** A fresh, empty store. */
  open(): Promise<StoreUnderTest>;
}

type ContractTest = (
  name: string,
  body: (store: Store, opened: StoreUnderTest) => Promise<void>,
) => void;

/** Declares the whole Store contract (with `describe`/`it`) against the stores `factory` opens. */
export function defineStoreContract(factory: StoreFactory): void {
  const test: ContractTest = (name, body) =>
    it(name, { timeout: TEST_TIMEOUT_MS }, async () => {
      const opened = await factory.open();
      try {
        await body(opened.store, opened);
      } finally {
        await opened.dispose();
      }
    });
  describe(`Store contract: ${factory.name}`, () => {
    for (const [title, section] of SECTIONS) describe(title, () => section(test));
  });
}

/** The contract, section by section: each declares its tests with the `test` it is given. */
const SECTIONS: [string, (test: ContractTest) => void][] = [
  ["inserting tasks", insertContract],
  ["claiming", claimContract],
  ["claims from two connections", exactlyOnceContract],
  ["leases", leaseContract],
  ["guarded transitions", transitionContract],
  ["startAgent and finishAgent", agentContract],
  ["task workspaces", workspaceContract],
  ["workspaces with an agent's start and end", agentWorkspaceContract],
  ["deferring a task behind a new one", deferContract],
  ["agent runs", agentRunContract],
  ["counts and dependencies", countContract],
  ["the event log", eventContract],
  ["cleanup", cleanupContract],
  ["plans", planContract],
  ["an executed plan follows its tasks", planFollowsTasksContract],
];

// ---- helpers ------------------------------------------------------------------------------------

const ALL = 1_000_000;
/** A store that loops forever (a cursor that does not move, a task claimed again) fails, not hangs. */
const TEST_TIMEOUT_MS = 30_000;
/** More claims or pages than any test makes: a loop that gets this far is broken. */
const MAX_ROUNDS = 1_000;

function must<T>(value: T | null | undefined, what = "a value"): T {
  assert.ok(value !== null && value !== undefined, `expected ${what}`);
  return value;
}

async function mustGet(store: Store, id: string): Promise<Task> {
  return must(await store.getTask(id), `task ${id}`);
}

/** Claims the next task and checks it is `expected`. */
async function claimExpecting(store: Store, expected: string, now: number, workerId = W1) {
  const task = must(await store.claimTask(claimAt(now, workerId)), `a claim of ${expected}`);
  assert.equal(task.id, expected, "the task claimed");
  return task;
}

/** Claims until nothing is claimable; the ids in claim order. */
async function claimAll(store: Store, now: number, workerId = W1): Promise<string[]> {
  const ids: string[] = [];
  for (let task = await store.claimTask(claimAt(now, workerId)); task; ) {
    ids.push(task.id);
    assert.ok(ids.length < MAX_ROUNDS, "claims never run dry");
    task = await store.claimTask(claimAt(now, workerId));
  }
  return ids;
}

async function apply(store: Store, transition: TaskTransition): Promise<Task> {
  return must(await store.transitionTask(transition), `the transition of ${transition.taskId}`);
}

/** Claims `id` (the next task in claim order) and completes it. */
async function claimAndComplete(store: Store, id: string, now: number): Promise<Task> {
  await claimExpecting(store, id, now);
  return apply(store, completionOf(id, now, W1));
}

/** Inserts a task, claims it and starts agent `agentId` on it. */
async function startedAgent(
  store: Store,
  id: string,
  agentId: string,
  now: number,
): Promise<{ task: Task; run: AgentRun }> {
  await store.insertTasks([newTask(id)], now);
  const claimed = await claimExpecting(store, id, now);
  const start = agentStartOf(claimed, agentId, now);
  const task = must(await store.startAgent(start), "the started task");
  return { task, run: start.run };
}

/** Inserts a task with a workspace seed, claims it and starts agent `agentId` in its worktree. */
async function startedInWorkspace(
  store: Store,
  id: string,
  agentId: string,
  now: number,
): Promise<{ task: Task; run: AgentRun; workspace: TaskWorkspace }> {
  await store.insertTasks([newTask(id, { workspace: seedOf(id) })], now);
  const claimed = await claimExpecting(store, id, now);
  const workspace = workspaceOf(id, now, { headCommit: null, filesChanged: [] });
  const start = { ...agentStartOf(claimed, agentId, now), workspace };
  const task = must(await store.startAgent(start), "the started task");
  return { task, run: start.run, workspace };
}

/** A workspace as a later change leaves it. */
function changed(workspace: TaskWorkspace, fields: Partial<TaskWorkspace>): TaskWorkspace {
  return { ...workspace, ...fields };
}

function taskIdsOf(workspaces: readonly TaskWorkspace[]): string[] {
  return workspaces.map((ws) => ws.taskId);
}

/** The `task:workspace` events of the log: task, time and data. */
async function workspaceEvents(store: Store): Promise<unknown[][]> {
  return (await allEvents(store))
    .filter((e) => e.kind === "task:workspace")
    .map((e) => [e.taskId, e.at, e.data]);
}

function zeroCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

/** Tasks per status counted one by one, to check `countByStatus` against. */
async function recount(store: Store): Promise<Record<TaskStatus, number>> {
  const counts = zeroCounts();
  for (const task of await store.listTasks({ limit: ALL })) counts[task.status]++;
  return counts;
}

async function allEvents(store: Store): Promise<TaskEvent[]> {
  return store.readEvents(0, ALL);
}

async function eventKinds(store: Store, id: string): Promise<string[]> {
  return (await store.eventsFor(id, ALL)).map((e) => e.kind);
}

function countOf(events: readonly TaskEvent[], kind: string): number {
  return events.filter((e) => e.kind === kind).length;
}

function ids(tasks: readonly { id: string }[]): string[] {
  return tasks.map((t) => t.id);
}

function sorted<T extends { id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.id.localeCompare(b.id));
}

type Ids<N extends number, A extends string[] = []> = A["length"] extends N
  ? A
  : Ids<N, [...A, string]>;

/** The ids `taskId(1)` to `taskId(n)`, typed as a tuple so that they destructure. */
function taskIds<N extends number>(n: N): Ids<N> {
  return range(n).map(taskId) as Ids<N>;
}

function range(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => i + from);
}

/** Asserts a promise rejects with `type` and `reason`. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: typeof ConflictError | typeof NotFoundError,
  reason: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `a ${type.name}, got ${String(error)}`);
    assert.equal(error.reason, reason);
    assert.equal(error.hint, undefined, "a store gives a reason, never a hint");
    return true;
  });
}

/** Inserts a plan and approves it. */
async function approvedPlan(store: Store, plan: Plan, now: number): Promise<Plan> {
  await store.insertPlan(plan);
  return must(await store.setPlanStatus(plan.id, ["draft"], "approved", now), "approval");
}

/** Inserts, approves and executes `plan`; its tasks get ids made of the plan's and the key's position. */
async function executedPlan(
  store: Store,
  plan: Plan,
  now: number,
): Promise<{ plan: Plan; idOf: (key: string) => string }> {
  await approvedPlan(store, plan, now);
  const keys = plan.tasks.map((t) => t.key);
  const idOf = (key: string) => `${plan.id.slice(0, 8)}${taskId(keys.indexOf(key) + 1).slice(8)}`;
  const executed = await store.executePlan(plan.id, tasksToQueue(plan, idOf), now);
  assert.equal(executed.queued, true);
  return { plan: executed.plan, idOf };
}

async function planStatus(store: Store, id: string): Promise<PlanStatus> {
  return must(await store.getPlan(id), `plan ${id}`).status;
}

/** Task ids for a plan's keys `t1`, `t2`, …: the key's number padded with `digit` (`eee…e1`). */
function idsFor(digit: string): (key: string) => string {
  return (key) => key.replace(/\D/g, "").padStart(16, digit);
}

const PLAN_A = "a1a1a1a1a1a1a1a1";
const PLAN_B = "b2b2b2b2b2b2b2b2";
const PLAN_C = "c3c3c3c3c3c3c3c3";

// ---- inserts ------------------------------------------------------------------------------------

function insertContract(test: ContractTest): void {
  test("stores new tasks as pending with every field, and logs task:submitted for each", async (store) => {
    const a = taskId(1);
    const b = taskId(2);
    await store.insertTasks(
      [
        newTask(a, {
          description: "Design the schema",
          agentType: "data-architect",
          priority: 3,
          context: { repo: "api", files: ["a.sql"] },
          maxAttempts: 5,
          timeoutMs: 60_000,
          backend: "claude",
        }),
        newTask(b, { dependsOn: [a] }),
      ],
      T0,
    );
    assert.deepEqual(await store.getTask(a), {
      id: a,
      description: "Design the schema",
      agentType: "data-architect",
      status: "pending",
      priority: 3,
      context: { repo: "api", files: ["a.sql"] },
      createdAt: T0,
      assignedAt: null,
      completedAt: null,
      assignedTo: null,
      output: null,
      error: null,
      planId: null,
      attempts: 0,
      maxAttempts: 5,
      timeoutMs: 60_000,
      runAfter: T0,
      leaseExpiresAt: null,
      workerId: null,
      backend: "claude",
      startedAt: null,
      updatedAt: T0,
      costUsd: null,
      inputTokens: null,
      outputTokens: null,
      sessionId: null,
      unmetDependencies: 0,
    });
    assert.equal((await mustGet(store, b)).unmetDependencies, 1, "a depends-on within the batch");
    const events = await allEvents(store);
    assert.deepEqual(
      events.map((e) => [e.kind, e.taskId, e.at, e.workerId]),
      [
        ["task:submitted", a, T0, null],
        ["task:submitted", b, T0, null],
      ],
    );
    assert.equal(await store.getTask(taskId(3)), null);
  });

  test("inserts all or nothing: one dependency on a missing task inserts no task of the batch", async (store) => {
    const batch = [
      newTask(taskId(1)),
      newTask(taskId(2), { dependsOn: [taskId(1)] }),
      newTask(taskId(3), { dependsOn: [taskId(99)] }),
    ];
    await rejectsWith(store.insertTasks(batch, T0), NotFoundError, "dependency-missing");
    assert.deepEqual(await store.listTasks({ limit: 10 }), []);
    assert.deepEqual(await allEvents(store), []);
    assert.deepEqual(await store.countByStatus(), zeroCounts());
  });

  test("refuses an id that is taken (ConflictError task-exists) and inserts none of that batch", async (store) => {
    await store.insertTasks([newTask(taskId(1))], T0);
    await rejectsWith(
      store.insertTasks([newTask(taskId(2)), newTask(taskId(1))], T0 + 1),
      ConflictError,
      "task-exists",
    );
    assert.equal(await store.getTask(taskId(2)), null);
    assert.equal((await mustGet(store, taskId(1))).createdAt, T0, "the first task is untouched");
    assert.equal((await allEvents(store)).length, 1);
  });

  test("counts a dependency named twice once", async (store) => {
    const [a, b] = [taskId(1), taskId(2)];
    await store.insertTasks([newTask(a), newTask(b, { dependsOn: [a, a] })], T0);
    assert.equal((await mustGet(store, b)).unmetDependencies, 1);
    assert.deepEqual(ids(await store.dependenciesOf(b)), [a]);
    await claimAndComplete(store, a, T0 + 1);
    assert.equal((await mustGet(store, b)).unmetDependencies, 0);
    await claimExpecting(store, b, T0 + 2);
  });

  test("findTaskIds finds ids by prefix, in id order, at most `limit`", async (store) => {
    const found = ["abc0000000000002", "abc0000000000001", "abd0000000000003", "0bc0000000000004"];
    await store.insertTasks(
      found.map((id) => newTask(id)),
      T0,
    );
    assert.deepEqual(await store.findTaskIds("abc", 10), ["abc0000000000001", "abc0000000000002"]);
    assert.deepEqual(await store.findTaskIds("abc", 1), ["abc0000000000001"]);
    assert.deepEqual(await store.findTaskIds("ab", 10), [
      "abc0000000000001",
      "abc0000000000002",
      "abd0000000000003",
    ]);
    assert.deepEqual(await store.findTaskIds("abd0000000000003", 10), ["abd0000000000003"]);
    assert.deepEqual(await store.findTaskIds("f", 10), []);
  });

  test("listTasks filters by status and plan, lists oldest or newest first, and respects the limit", async (store) => {
    await store.insertPlan(newPlan(PLAN_A, T0));
    const [a, b, c, d] = [taskId(1), taskId(2), taskId(3), taskId(4)];
    await store.insertTasks([newTask(a, { planId: PLAN_A })], T0);
    await store.insertTasks([newTask(b)], T0 + 1);
    await store.insertTasks([newTask(c, { planId: PLAN_A }), newTask(d)], T0 + 2);
    await claimExpecting(store, a, T0 + 3);
    const list = async (filter: Parameters<Store["listTasks"]>[0]) =>
      ids(await store.listTasks(filter));
    assert.deepEqual(await list({ limit: 10 }), [a, b, c, d]);
    assert.deepEqual(await list({ limit: 10, newestFirst: true }), [d, c, b, a]);
    assert.deepEqual(await list({ limit: 2 }), [a, b]);
    assert.deepEqual(await list({ limit: 2, newestFirst: true }), [d, c]);
    assert.deepEqual(await list({ limit: 10, status: "pending" }), [b, c, d]);
    assert.deepEqual(await list({ limit: 10, status: "assigned" }), [a]);
    assert.deepEqual(await list({ limit: 10, status: "completed" }), []);
    assert.deepEqual(await list({ limit: 10, planId: PLAN_A }), [a, c]);
    assert.deepEqual(await list({ limit: 10, planId: PLAN_A, status: "pending" }), [c]);
    assert.deepEqual(await store.listTasks({ limit: 10, status: "assigned" }), [
      await mustGet(store, a),
    ]);
  });
}

// ---- claims -------------------------------------------------------------------------------------

function claimContract(test: ContractTest): void {
  test("claims the most urgent task first, then the oldest", async (store) => {
    const [low, normalOld, urgent, normalNew, high, older] = taskIds(6);
    await store.insertTasks([newTask(low, { priority: 1 })], T0);
    await store.insertTasks([newTask(normalOld, { priority: 2 })], T0 + 1);
    await store.insertTasks([newTask(urgent, { priority: 4 })], T0 + 2);
    await store.insertTasks(
      [newTask(normalNew, { priority: 2 }), newTask(high, { priority: 3 })],
      T0 + 5,
    );
    // Inserted last, but made earlier: age is its creation time.
    await store.insertTasks([newTask(older, { priority: 2 })], T0 + 3);
    assert.deepEqual(await claimAll(store, T0 + 10), [
      urgent,
      high,
      normalOld,
      older,
      normalNew,
      low,
    ]);
  });

  test("within one millisecond, claims in insertion order (not id order)", async (store) => {
    const batch = range(8)
      .reverse()
      .map((n) => taskId(n + 0x20));
    await store.insertTasks(
      batch.map((id) => newTask(id)),
      T0,
    );
    await store.insertTasks([newTask(taskId(0x10))], T0);
    await store.insertTasks([newTask(taskId(0x0f))], T0);
    assert.deepEqual(await claimAll(store, T0), [...batch, taskId(0x10), taskId(0x0f)]);
  });

  test("a claim assigns the task to the worker with a lease and attempts+1, and logs task:claimed", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id, { maxAttempts: 2 })], T0);
    const claimed = must(await store.claimTask({ workerId: W1, now: T0 + 5, leaseMs: 1_234 }));
    assert.equal(claimed.id, id);
    assert.equal(claimed.status, "assigned");
    assert.equal(claimed.attempts, 1);
    assert.equal(claimed.workerId, W1);
    assert.equal(claimed.assignedTo, W1, "the worker holds it until an agent starts");
    assert.equal(claimed.assignedAt, T0 + 5);
    assert.equal(claimed.leaseExpiresAt, T0 + 5 + 1_234);
    assert.equal(claimed.updatedAt, T0 + 5);
    assert.equal(claimed.unmetDependencies, 0);
    assert.deepEqual(await store.getTask(id), claimed);
    const event = must((await store.eventsFor(id, 10)).at(-1));
    assert.deepEqual(
      [event.kind, event.taskId, event.workerId, event.at],
      ["task:claimed", id, W1, T0 + 5],
    );
    assert.equal(await store.claimTask(claimAt(T0 + 6, W2)), null, "a held task is not claimable");
  });

  test("claims nothing from an empty store, and then nextClaimableAt is null", async (store) => {
    assert.equal(await store.claimTask(claimAt(T0)), null);
    assert.equal(await store.nextClaimableAt(), null);
    assert.deepEqual(await allEvents(store), []);
  });

  test("skips a task whose backoff is not over, and nextClaimableAt tells when it will be", async (store) => {
    const [urgent, normal, blocked] = [taskId(1), taskId(2), taskId(3)];
    await store.insertTasks([newTask(urgent, { priority: 4 }), newTask(normal)], T0);
    await claimExpecting(store, urgent, T0 + 1);
    await apply(store, failureOf(urgent, T0 + 2, { workerId: W1, retryAt: T0 + 5_000 }));
    assert.equal(await store.nextClaimableAt(), T0, "the normal task is claimable since T0");
    await claimExpecting(store, normal, T0 + 3);
    await store.insertTasks([newTask(blocked, { dependsOn: [normal] })], T0 + 3);
    assert.equal(await store.nextClaimableAt(), T0 + 5_000, "a blocked task does not count");
    assert.equal(await store.claimTask(claimAt(T0 + 4_999)), null);
    const again = await claimExpecting(store, urgent, T0 + 5_000);
    assert.equal(again.attempts, 2);
    assert.equal(await store.nextClaimableAt(), null, "only the blocked task is pending");
  });

  test("a task is claimable only once every dependency completed", async (store) => {
    const [a, b, c] = [taskId(1), taskId(2), taskId(3)];
    await store.insertTasks([newTask(a), newTask(b, { priority: 4 })], T0);
    await store.insertTasks([newTask(c, { priority: 4, dependsOn: [a, b] })], T0 + 1);
    assert.equal((await mustGet(store, c)).unmetDependencies, 2);
    await claimExpecting(store, b, T0 + 2);
    await claimExpecting(store, a, T0 + 2);
    assert.equal(await store.claimTask(claimAt(T0 + 2)), null, "c waits for a and b");
    await apply(store, completionOf(b, T0 + 3, W1));
    assert.equal((await mustGet(store, c)).unmetDependencies, 1);
    assert.equal(await store.claimTask(claimAt(T0 + 3)), null, "c still waits for a");
    await apply(store, completionOf(a, T0 + 4, W1));
    assert.equal((await mustGet(store, c)).unmetDependencies, 0);
    await claimExpecting(store, c, T0 + 4);
  });

  test("a dependency that failed or was cancelled stays unmet until it is retried and completed", async (store) => {
    const [a, b, c] = [taskId(1), taskId(2), taskId(3)];
    await store.insertTasks([newTask(a), newTask(b), newTask(c, { dependsOn: [a, b] })], T0);
    await claimExpecting(store, a, T0 + 1);
    await apply(store, failureOf(a, T0 + 2, { workerId: W1 }));
    await apply(store, cancellationOf(b, T0 + 2));
    assert.equal(await store.claimTask(claimAt(T0 + 3)), null);
    assert.equal((await mustGet(store, c)).unmetDependencies, 2);
    await apply(store, requeueOf(a, T0 + 4));
    await apply(store, requeueOf(b, T0 + 4));
    assert.equal((await mustGet(store, c)).unmetDependencies, 2, "requeued is not completed");
    await claimAndComplete(store, a, T0 + 5);
    await claimAndComplete(store, b, T0 + 6);
    await claimExpecting(store, c, T0 + 7);
  });

  test("a dependency already completed at insert counts as met; an open one does not", async (store) => {
    const [a, open, b, c] = [taskId(1), taskId(2), taskId(3), taskId(4)];
    await store.insertTasks([newTask(a), newTask(open)], T0);
    await claimAndComplete(store, a, T0 + 1);
    await store.insertTasks(
      [newTask(b, { dependsOn: [a] }), newTask(c, { dependsOn: [a, open] })],
      T0 + 2,
    );
    assert.equal((await mustGet(store, b)).unmetDependencies, 0);
    assert.equal((await mustGet(store, c)).unmetDependencies, 1);
    assert.deepEqual(await claimAll(store, T0 + 3), [open, b]);
  });
}

// ---- exactly once across connections -----------------------------------------------------------

function exactlyOnceContract(test: ContractTest): void {
  test("two connections claiming in turn get every task exactly once", async (store, opened) => {
    const other = await opened.another();
    const n = 40;
    await store.insertTasks(
      range(n / 2).map((i) => newTask(taskId(i))),
      T0,
    );
    await other.insertTasks(
      range(n / 2, n / 2 + 1).map((i) => newTask(taskId(i))),
      T0,
    );
    const byWorker: Record<string, string[]> = { [W1]: [], [W2]: [] };
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const [connection, worker] = i % 2 === 0 ? [store, W1] : [other, W2];
      const task = await connection.claimTask(claimAt(T0 + 1 + i, worker));
      if (!task) break;
      assert.equal(task.workerId, worker);
      byWorker[worker]?.push(task.id);
    }
    const claimed = [...(byWorker[W1] ?? []), ...(byWorker[W2] ?? [])];
    assert.equal(claimed.length, n);
    assert.equal(new Set(claimed).size, n, "no task was claimed twice");
    assert.equal(byWorker[W1]?.length, n / 2);
    assert.equal(await other.claimTask(claimAt(T0 + 100, W2)), null);
    assert.equal((await other.countByStatus()).assigned, n);
    assert.equal(countOf(await allEvents(store), "task:claimed"), n);
  });

  test("claims raced from two connections at once never give one task twice", async (store, opened) => {
    const other = await opened.another();
    const n = 30;
    await store.insertTasks(
      range(n).map((i) => newTask(taskId(i))),
      T0,
    );
    const claimed: Task[] = [];
    // With an adapter whose calls run synchronously (node:sqlite) these calls take turns; with an
    // asynchronous one (a database server) they are in flight together.
    for (let round = 0; round < n; round++) {
      const now = T0 + 1 + round;
      const results = await Promise.all([
        store.claimTask(claimAt(now, W1)),
        other.claimTask(claimAt(now, W2)),
        store.claimTask(claimAt(now, W1)),
        other.claimTask(claimAt(now, W2)),
      ]);
      const got = results.filter((t): t is Task => t !== null);
      if (got.length === 0) break;
      claimed.push(...got);
    }
    assert.equal(claimed.length, n);
    assert.equal(new Set(ids(claimed)).size, n, "no task was claimed twice");
    for (const task of claimed)
      assert.equal((await mustGet(store, task.id)).workerId, task.workerId);
  });
}

// ---- leases -------------------------------------------------------------------------------------

function leaseContract(test: ContractTest): void {
  test("expiredLeases lists held tasks whose lease ran out before now, oldest lease first, at most limit", async (store) => {
    const [a, b, c, d, e] = taskIds(5);
    await store.insertTasks(
      [a, b, c, d, e].map((id) => newTask(id)),
      T0,
    );
    must(await store.claimTask(claimAt(T0, W1, 1_000))); // a: lease T0+1000
    must(await store.claimTask(claimAt(T0 + 10, W1, 500))); // b: lease T0+510
    must(await store.claimTask(claimAt(T0 + 20, W2))); // c
    await apply(store, startOf(c, W2, "agent-c", T0 + 30, 2_000)); // c: in progress, lease T0+2030
    must(await store.claimTask(claimAt(T0 + 40, W1, 100))); // d: lease T0+140, then completed
    await apply(store, {
      taskId: d,
      from: ["assigned"],
      to: "completed",
      now: T0 + 50,
      patch: { output: "done", completedAt: T0 + 50 },
      event: { kind: "task:completed" },
    });
    const expired = async (now: number, limit = 10) => ids(await store.expiredLeases(now, limit));
    assert.deepEqual(await expired(T0 + 510), [], "a lease that ends at now has not run out");
    assert.deepEqual(await expired(T0 + 511), [b]);
    assert.deepEqual(await expired(T0 + 3_000), [b, a, c]);
    assert.deepEqual(await expired(T0 + 3_000, 2), [b, a]);
    assert.deepEqual(await expired(T0 + 10 ** 9), [b, a, c], "no finished or pending task");
    assert.deepEqual((await store.expiredLeases(T0 + 511, 1))[0], await store.getTask(b));
  });

  test("recordProgress renews the leases the worker still holds and returns the ids it lost", async (store) => {
    const [held, started, others, cancelled, completed, reaped] = taskIds(6);
    await store.insertTasks(
      [held, started, others, cancelled, completed, reaped].map((id) => newTask(id)),
      T0,
    );
    await claimExpecting(store, held, T0, W1);
    await claimExpecting(store, started, T0, W1);
    await apply(store, startOf(started, W1, "agent-1", T0 + 1));
    const theirs = await claimExpecting(store, others, T0, W2);
    await claimExpecting(store, cancelled, T0, W1);
    await apply(store, cancellationOf(cancelled, T0 + 2));
    await claimExpecting(store, completed, T0, W1);
    await apply(store, completionOf(completed, T0 + 3, W1));
    await claimExpecting(store, reaped, T0, W1);
    await apply(store, leaseExpiryOf(reaped, T0 + LEASE_MS + 1, true));

    const renewTo = T0 + 50_000;
    const { lost } = await store.recordProgress({
      workerId: W1,
      now: T0 + 20_000,
      renew: {
        leases: [held, started, others, cancelled, completed, reaped, taskId(99)].map((id) => ({
          taskId: id,
        })),
        leaseExpiresAt: renewTo,
      },
    });
    assert.deepEqual([...lost].sort(), [others, cancelled, completed, reaped, taskId(99)].sort());
    assert.equal((await mustGet(store, held)).leaseExpiresAt, renewTo, "renewed although expired");
    assert.equal((await mustGet(store, started)).leaseExpiresAt, renewTo);
    assert.equal((await mustGet(store, others)).leaseExpiresAt, theirs.leaseExpiresAt);
    assert.equal((await mustGet(store, cancelled)).status, "cancelled");
    assert.equal((await mustGet(store, reaped)).leaseExpiresAt, null);
    assert.deepEqual(
      await store.recordProgress({ workerId: W1, now: T0 + 20_001 }),
      { lost: [] },
      "nothing to renew, nothing lost",
    );
  });

  test("transitionTask with leaseExpiredBefore refuses a task whose lease was renewed meanwhile", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id)], T0);
    must(await store.claimTask(claimAt(T0, W1, 1_000)));
    assert.deepEqual(ids(await store.expiredLeases(T0 + 1_500, 10)), [id], "the reaper sees it");
    // Before the reaper acts, the worker renews.
    await store.recordProgress({
      workerId: W1,
      now: T0 + 1_500,
      renew: { leases: [{ taskId: id }], leaseExpiresAt: T0 + 2_500 },
    });
    const eventsBefore = await allEvents(store);
    assert.equal(await store.transitionTask(leaseExpiryOf(id, T0 + 1_500, true)), null);
    const kept = await mustGet(store, id);
    assert.deepEqual(
      [kept.status, kept.workerId, kept.leaseExpiresAt],
      ["assigned", W1, T0 + 2_500],
    );
    assert.deepEqual(await allEvents(store), eventsBefore, "no event for a refused change");
    const reaped = await apply(store, leaseExpiryOf(id, T0 + 2_501, true));
    assert.deepEqual([reaped.status, reaped.workerId], ["pending", null]);
    assert.equal(must((await store.eventsFor(id, 1))[0]).kind, "task:lease_expired");
  });
}

// ---- guarded transitions ------------------------------------------------------------------------

function transitionContract(test: ContractTest): void {
  test("applies a change only from the given states, and logs it with from, to and its data", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id)], T0);
    const claimed = await claimExpecting(store, id, T0 + 1);
    const eventsBefore = await allEvents(store);
    const refused: TaskTransition = { ...cancellationOf(id, T0 + 2), from: ["pending"] };
    assert.equal(await store.transitionTask(refused), null);
    assert.equal(await store.transitionTask({ ...refused, from: [] }), null, "no state at all");
    assert.equal(await store.transitionTask({ ...refused, taskId: taskId(9) }), null);
    assert.deepEqual(await store.getTask(id), claimed, "nothing changed");
    assert.deepEqual(await allEvents(store), eventsBefore, "and nothing was logged");

    const started = await apply(store, startOf(id, W1, "agent-1", T0 + 3));
    assert.equal(started.status, "in_progress");
    assert.equal(started.updatedAt, T0 + 3);
    assert.deepEqual(await store.getTask(id), started);
    const event = must((await allEvents(store)).at(-1));
    assert.deepEqual(
      [event.kind, event.taskId, event.workerId, event.at],
      ["task:started", id, W1, T0 + 3],
    );
    assert.equal(event.data?.["from"], "assigned");
    assert.equal(event.data?.["to"], "in_progress");
    assert.equal(event.data?.["agentId"], "agent-1");

    // A guard that allows several states: the event names where the task went.
    await apply(store, cancellationOf(id, T0 + 4));
    const cancelled = must((await allEvents(store)).at(-1));
    assert.deepEqual([cancelled.kind, cancelled.data?.["to"]], ["task:cancelled", "cancelled"]);
  });

  test("with workerId, only the worker that holds the task may change it", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id)], T0);
    await claimExpecting(store, id, T0 + 1, W1);
    assert.equal(await store.transitionTask(completionOf(id, T0 + 2, W2)), null);
    assert.equal((await mustGet(store, id)).status, "assigned");
    assert.equal(countOf(await allEvents(store), "task:completed"), 0);
    const done = await apply(store, completionOf(id, T0 + 3, W1));
    assert.equal(done.status, "completed");
    assert.equal(must((await allEvents(store)).at(-1)).workerId, W1);
  });

  test("patch: an undefined field leaves its column, null clears it, a value sets it", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id)], T0);
    const claimed = await claimExpecting(store, id, T0 + 1);
    const started = await apply(store, {
      taskId: id,
      from: ["assigned"],
      to: "in_progress",
      now: T0 + 2,
      workerId: W1,
      patch: { assignedTo: "agent-1", startedAt: T0 + 2, backend: "claude", output: undefined },
      event: { kind: "task:started" },
    });
    assert.deepEqual(
      [started.assignedTo, started.startedAt, started.backend, started.output],
      ["agent-1", T0 + 2, "claude", null],
    );
    assert.deepEqual(
      [started.workerId, started.assignedAt, started.leaseExpiresAt, started.attempts],
      [W1, claimed.assignedAt, claimed.leaseExpiresAt, 1],
      "columns the patch does not name are left alone",
    );
    const retry = await apply(store, {
      taskId: id,
      from: ["in_progress"],
      to: "pending",
      now: T0 + 3,
      patch: {
        error: "boom",
        runAfter: T0 + 100,
        workerId: null,
        leaseExpiresAt: null,
        assignedTo: undefined,
        costUsd: 0.25,
        inputTokens: 900,
        outputTokens: 40,
        sessionId: "sess-1",
      },
      event: { kind: "task:retry_scheduled" },
    });
    assert.deepEqual(
      [retry.workerId, retry.leaseExpiresAt, retry.error, retry.runAfter],
      [null, null, "boom", T0 + 100],
    );
    assert.deepEqual(
      [retry.costUsd, retry.inputTokens, retry.outputTokens, retry.sessionId],
      [0.25, 900, 40, "sess-1"],
    );
    assert.deepEqual(
      [retry.assignedTo, retry.startedAt, retry.backend],
      ["agent-1", T0 + 2, "claude"],
    );
    await claimExpecting(store, id, T0 + 100);
    const done = await apply(store, {
      taskId: id,
      from: ["assigned"],
      to: "completed",
      now: T0 + 101,
      patch: {
        output: "ok",
        error: null,
        completedAt: T0 + 101,
        backend: null,
        sessionId: null,
        attempts: 7,
      },
      event: { kind: "task:completed" },
    });
    assert.deepEqual(
      [done.output, done.error, done.completedAt, done.backend, done.sessionId, done.attempts],
      ["ok", null, T0 + 101, null, null, 7],
    );
    assert.equal(done.costUsd, 0.25, "kept from the earlier attempt");
    assert.deepEqual(await store.getTask(id), done);
  });
}

// ---- startAgent / finishAgent -------------------------------------------------------------------

function agentContract(test: ContractTest): void {
  test("startAgent moves the task to in_progress and records its run with agent:started", async (store) => {
    const id = taskId(1);
    const { task, run } = await startedAgent(store, id, "agent-1", T0 + 1);
    assert.equal(task.status, "in_progress");
    assert.equal(task.assignedTo, "agent-1");
    assert.equal(task.startedAt, T0 + 1);
    assert.deepEqual(await store.agentRunsFor(id), [run]);
    assert.deepEqual(await store.runningAgents(), [run]);
    assert.deepEqual(await eventKinds(store, id), [
      "task:submitted",
      "task:claimed",
      "task:started",
      "agent:started",
    ]);
    const started = must((await allEvents(store)).at(-1));
    assert.deepEqual([started.taskId, started.workerId], [id, W1]);
    assert.equal(started.data?.["agentId"], "agent-1");
  });

  test("startAgent whose guard does not match returns null and records no run and no event", async (store) => {
    const [cancelled, others] = [taskId(1), taskId(2)];
    await store.insertTasks([newTask(cancelled), newTask(others)], T0);
    const claimed = await claimExpecting(store, cancelled, T0 + 1, W1);
    await apply(store, cancellationOf(cancelled, T0 + 2));
    const theirs = await claimExpecting(store, others, T0 + 3, W2);
    const eventsBefore = await allEvents(store);
    assert.equal(await store.startAgent(agentStartOf(claimed, "agent-1", T0 + 4)), null);
    assert.equal(
      await store.startAgent({
        ...agentStartOf(theirs, "agent-2", T0 + 4),
        transition: startOf(others, W1, "agent-2", T0 + 4),
      }),
      null,
      "another worker's task",
    );
    assert.deepEqual(await store.agentRunsFor(cancelled), []);
    assert.deepEqual(await store.agentRunsFor(others), []);
    assert.deepEqual(await store.runningAgents(), []);
    assert.deepEqual(await allEvents(store), eventsBefore);
    assert.equal((await mustGet(store, others)).status, "assigned");
  });

  test("finishAgent closes the run, applies the transition, and never closes a run twice", async (store) => {
    const id = taskId(1);
    const { run } = await startedAgent(store, id, "agent-1", T0 + 1);
    const end = {
      endedAt: T0 + 10,
      exitCode: 0,
      endReason: "exited",
      costUsd: 0.5,
      inputTokens: 10,
      outputTokens: 20,
      sessionId: "s-1",
    };
    const result = await store.finishAgent({
      agentRunId: run.id,
      end,
      transition: completionOf(id, T0 + 10, W1),
    });
    assert.equal(result.task?.status, "completed");
    assert.deepEqual(result.task, await store.getTask(id));
    assert.deepEqual([result.current, result.next], [null, null]);
    const closed = { ...run, ...end };
    assert.deepEqual(await store.agentRunsFor(id), [closed]);
    assert.deepEqual(await store.runningAgents(), []);

    const again = await store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + 20, exitCode: 9, endReason: "killed" },
    });
    assert.deepEqual(again, { task: null, current: null, next: null });
    assert.deepEqual(await store.agentRunsFor(id), [closed], "the first end stays");
    const ended = (await allEvents(store)).filter((e) => e.kind === "agent:ended");
    assert.equal(ended.length, 1);
    assert.deepEqual([ended[0]?.taskId, ended[0]?.at], [id, T0 + 10]);
    assert.equal(ended[0]?.data?.["agentId"], run.id);
    assert.equal(ended[0]?.data?.["exitCode"], 0);
  });

  test("finishAgent after another connection killed the agent: task null, current as left, one agent:ended", async (store, opened) => {
    const other = await opened.another();
    const id = taskId(1);
    const { run } = await startedAgent(store, id, "agent-1", T0 + 1);
    const killed = await other.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + 5, endReason: "killed" },
      transition: {
        taskId: id,
        from: LEASED_STATUSES,
        to: "failed",
        now: T0 + 5,
        patch: { error: "killed by user", completedAt: T0 + 5, leaseExpiresAt: null },
        event: { kind: "task:failed", data: { killed: true } },
      },
    });
    assert.equal(killed.task?.status, "failed");
    const own = await store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + 6, exitCode: 0, endReason: "exited" },
      transition: completionOf(id, T0 + 6, W1),
    });
    assert.equal(own.task, null);
    assert.deepEqual(own.current, await store.getTask(id));
    assert.deepEqual([own.current?.status, own.current?.error], ["failed", "killed by user"]);
    const [closed] = await store.agentRunsFor(id);
    assert.deepEqual(
      [closed?.endedAt, closed?.endReason, closed?.exitCode],
      [T0 + 5, "killed", 0],
      "the kill's end and reason stay; what the agent reported fills what the kill left empty",
    );
    assert.equal(countOf(await allEvents(store), "agent:ended"), 1);
    assert.equal(countOf(await allEvents(store), "task:completed"), 0);
  });

  test("finishAgent with claim also claims the next task (after the completion it applies)", async (store) => {
    const [a, b] = [taskId(1), taskId(2)];
    const { run } = await startedAgent(store, a, "agent-1", T0 + 1);
    await store.insertTasks([newTask(b, { dependsOn: [a] })], T0 + 2);
    const result = await store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + 10, exitCode: 0 },
      transition: completionOf(a, T0 + 10, W1),
      claim: claimAt(T0 + 10, W1),
    });
    assert.equal(result.task?.status, "completed");
    const next = must(result.next, "the next task");
    assert.deepEqual(
      [next.id, next.status, next.workerId, next.attempts, next.leaseExpiresAt],
      [b, "assigned", W1, 1, T0 + 10 + LEASE_MS],
    );
    assert.deepEqual(await store.getTask(b), next);
    assert.equal(countOf(await store.eventsFor(b, 10), "task:claimed"), 1);

    // A worker whose task was taken from it still gets its next task.
    const c = taskId(3);
    const start = agentStartOf(next, "agent-2", T0 + 11);
    must(await store.startAgent(start));
    await apply(store, cancellationOf(b, T0 + 12));
    await store.insertTasks([newTask(c)], T0 + 12);
    const lost = await store.finishAgent({
      agentRunId: start.run.id,
      end: { endedAt: T0 + 13 },
      transition: completionOf(b, T0 + 13, W1),
      claim: claimAt(T0 + 13, W1),
    });
    assert.deepEqual([lost.task, lost.current?.status, lost.next?.id], [null, "cancelled", c]);
  });

  test("finishAgent without a transition only closes the run", async (store) => {
    const id = taskId(1);
    const { task, run } = await startedAgent(store, id, "agent-1", T0 + 1);
    const result = await store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + 7, endReason: "run died" },
    });
    assert.deepEqual(result, { task: null, current: null, next: null });
    assert.deepEqual(await store.getTask(id), task, "the task is left as it was");
    assert.deepEqual(await store.agentRunsFor(id), [
      { ...run, endedAt: T0 + 7, endReason: "run died" },
    ]);
    assert.equal(countOf(await allEvents(store), "agent:ended"), 1);
  });

  test("a transition or renewal naming an agent applies only while the task is that agent's", async (store) => {
    const id = taskId(1);
    const { run } = await startedAgent(store, id, "agent-1", T0 + 1);
    // The worker lost the task and claimed it again for a second agent.
    await apply(store, leaseExpiryOf(id, T0 + LEASE_MS + 2, true));
    const again = await claimExpecting(store, id, T0 + LEASE_MS + 3);
    must(await store.startAgent(agentStartOf(again, "agent-2", T0 + LEASE_MS + 3)));
    const renewed = await store.recordProgress({
      workerId: W1,
      now: T0 + LEASE_MS + 4,
      renew: {
        leases: [
          { taskId: id, agentRunId: run.id },
          { taskId: id, agentRunId: "agent-2" },
        ],
        leaseExpiresAt: T0 + 99_000,
      },
    });
    assert.deepEqual(renewed.lost, [id], "the first agent's lease is lost, the second's renewed");
    const oldEnd = await store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: T0 + LEASE_MS + 5, exitCode: 0 },
      transition: { ...completionOf(id, T0 + LEASE_MS + 5, W1), agentId: run.id },
    });
    assert.equal(oldEnd.task, null, "the first agent's end does not complete the second's task");
    assert.deepEqual(
      [oldEnd.current?.status, oldEnd.current?.assignedTo],
      ["in_progress", "agent-2"],
    );
    const ownEnd = await store.finishAgent({
      agentRunId: "agent-2",
      end: { endedAt: T0 + LEASE_MS + 6, exitCode: 0 },
      transition: { ...completionOf(id, T0 + LEASE_MS + 6, W1), agentId: "agent-2" },
    });
    assert.equal(ownEnd.task?.status, "completed");
  });

  test("startAgent and finishAgent are all or nothing", async (store) => {
    const [a, b] = taskIds(2);
    const { run } = await startedAgent(store, a, "agent-1", T0 + 1);
    await store.insertTasks([newTask(b)], T0 + 2);
    const claimed = await claimExpecting(store, b, T0 + 2);
    const eventsBefore = await allEvents(store);
    // The run row cannot be inserted (its id is taken): the task's start is undone with it.
    const clash = { ...agentStartOf(claimed, "agent-1", T0 + 3) };
    await assert.rejects(store.startAgent(clash));
    assert.deepEqual(await store.getTask(b), claimed, "the task is still only claimed");
    assert.deepEqual(await store.agentRunsFor(b), []);
    // The transition cannot be applied (a state the store refuses): the run stays open.
    await assert.rejects(
      store.finishAgent({
        agentRunId: run.id,
        end: { endedAt: T0 + 4, exitCode: 0 },
        transition: { ...completionOf(a, T0 + 4, W1), to: "no-such-state" as TaskStatus },
      }),
    );
    assert.deepEqual(
      (await store.agentRunsFor(a)).map((r) => r.endedAt),
      [null],
      "the run is still open",
    );
    assert.equal((await mustGet(store, a)).status, "in_progress");
    assert.deepEqual(await allEvents(store), eventsBefore, "nothing of either was logged");
  });
}

// ---- workspaces ---------------------------------------------------------------------------------

function workspaceContract(test: ContractTest): void {
  test("insertTasks records a seeded task's workspace (new, merge pending or the seed's) and none without a seed", async (store) => {
    const [plain, resolver, unseeded, nulled] = taskIds(4);
    const resolves: ResolverSpec = {
      kind: "base",
      forTasks: [plain],
      merges: ["orchestrate/tasks/x", "orchestrate/tasks/y"],
      files: ["src/a.ts"],
    };
    await store.insertTasks(
      [
        newTask(plain, { workspace: seedOf(plain) }),
        newTask(resolver, { workspace: seedOf(resolver, { merge: "none", resolves }) }),
        newTask(unseeded),
        newTask(nulled, { workspace: null }),
      ],
      T0,
    );
    assert.deepEqual(await store.getWorkspace(plain), {
      taskId: plain,
      group: "tasks",
      branch: `orchestrate/tasks/${plain}`,
      baseCommit: BASE_COMMIT,
      startCommit: null,
      headCommit: null,
      path: null,
      filesChanged: [],
      state: "new",
      merge: "pending",
      resolverTaskId: null,
      resolves: null,
      setupLog: null,
      verifyLog: null,
      updatedAt: T0,
    });
    const seeded = must(await store.getWorkspace(resolver));
    assert.deepEqual(
      [seeded.state, seeded.merge, seeded.resolves, seeded.headCommit, seeded.filesChanged],
      ["new", "none", resolves, null, []],
    );
    assert.equal(await store.getWorkspace(unseeded), null);
    assert.equal(await store.getWorkspace(nulled), null);
    assert.equal(await store.getWorkspace(taskId(99)), null);
    assert.deepEqual(taskIdsOf(await store.listWorkspaces({})), [plain, resolver]);
    assert.deepEqual(
      (await allEvents(store)).map((e) => e.kind),
      range(4).map(() => "task:submitted"),
      "a seed is recorded with its task, not logged as a change",
    );
  });

  test("a seeded workspace is inserted with its task, all or nothing", async (store) => {
    const [kept, fresh, broken] = taskIds(3);
    await store.insertTasks([newTask(kept, { workspace: seedOf(kept) })], T0);
    const before = must(await store.getWorkspace(kept));
    await rejectsWith(
      store.insertTasks(
        [
          newTask(fresh, { workspace: seedOf(fresh) }),
          newTask(broken, { workspace: seedOf(broken), dependsOn: [taskId(99)] }),
        ],
        T0 + 1,
      ),
      NotFoundError,
      "dependency-missing",
    );
    const otherSeed = seedOf(kept, {
      branch: "orchestrate/tasks/other",
      baseCommit: "3".repeat(40),
    });
    await rejectsWith(
      store.insertTasks(
        [newTask(fresh, { workspace: seedOf(fresh) }), newTask(kept, { workspace: otherSeed })],
        T0 + 2,
      ),
      ConflictError,
      "task-exists",
    );
    assert.deepEqual(
      await store.listWorkspaces({}),
      [before],
      "no workspace of a refused batch, and the first task's is untouched",
    );
  });

  test("executePlan records the workspaces of its seeded tasks, once", async (store) => {
    const plan = newPlan(PLAN_A, T0);
    await approvedPlan(store, plan, T0 + 1);
    const group = `plan-${PLAN_A.slice(0, 8)}`;
    const seeded = (idOf: (key: string) => string) =>
      tasksToQueue(plan, idOf).map((t) => ({
        ...t,
        workspace: seedOf(t.id, { group, branch: `orchestrate/${group}/${t.key}` }),
      }));
    const idOf = idsFor("e");
    assert.equal((await store.executePlan(PLAN_A, seeded(idOf), T0 + 2)).queued, true);
    const recorded = await store.listWorkspaces({ group });
    assert.deepEqual(
      recorded.map((ws) => [ws.taskId, ws.branch, ws.baseCommit, ws.state, ws.merge, ws.updatedAt]),
      ["t1", "t2"].map((k) => [
        idOf(k),
        `orchestrate/${group}/${k}`,
        BASE_COMMIT,
        "new",
        "pending",
        T0 + 2,
      ]),
    );
    assert.equal((await store.executePlan(PLAN_A, seeded(idsFor("f")), T0 + 3)).queued, false);
    assert.deepEqual(await store.listWorkspaces({}), recorded, "no workspace recorded twice");
  });

  test("saveWorkspaces inserts or replaces workspaces with every field, as getWorkspace reads them back", async (store, opened) => {
    const other = await opened.another();
    const [conflicted, resolver, unseeded] = taskIds(3);
    await store.insertTasks(
      [
        newTask(conflicted, { workspace: seedOf(conflicted) }),
        newTask(resolver, { workspace: seedOf(resolver) }),
        newTask(unseeded),
      ],
      T0,
    );
    const inConflict = workspaceOf(conflicted, T0 + 1, {
      state: "idle",
      merge: "conflict",
      resolverTaskId: resolver,
      verifyLog: "tests: 3 failed",
    });
    const resolving = workspaceOf(resolver, T0 + 1, {
      merge: "none",
      resolves: {
        kind: "integration",
        forTasks: [conflicted],
        merges: ["orchestrate/tasks/integration", `orchestrate/tasks/${conflicted}`],
        files: ["src/a.ts", "src/b.ts"],
      },
    });
    const fresh = workspaceOf(unseeded, T0 + 2, {
      state: "new",
      startCommit: null,
      headCommit: null,
      path: null,
      filesChanged: [],
      setupLog: null,
    });
    await store.saveWorkspaces([inConflict, resolving, fresh]);
    for (const reader of [store, other]) {
      assert.deepEqual(await reader.getWorkspace(conflicted), inConflict);
      assert.deepEqual(await reader.getWorkspace(resolver), resolving);
      assert.deepEqual(await reader.getWorkspace(unseeded), fresh, "a task that had none gets one");
    }
    const replaced = changed(inConflict, {
      group: "plan-c3c3c3c3",
      branch: "orchestrate/plan-c3c3c3c3/t1",
      baseCommit: "4".repeat(40),
      startCommit: "6".repeat(40),
      headCommit: "5".repeat(40),
      path: null,
      filesChanged: ["src/c.ts"],
      state: "removed",
      merge: "merged",
      resolverTaskId: null,
      resolves: null,
      setupLog: null,
      verifyLog: null,
      updatedAt: T0 + 3,
    });
    await store.saveWorkspaces([replaced]);
    assert.deepEqual(
      await store.getWorkspace(conflicted),
      replaced,
      "every field replaced, to null too",
    );
    await store.saveWorkspaces([changed(resolving, { resolves: null, updatedAt: T0 + 4 })]);
    assert.equal(must(await store.getWorkspace(resolver)).resolves, null);
    await store.saveWorkspaces([]);
    assert.deepEqual(taskIdsOf(await store.listWorkspaces({})), [unseeded, conflicted, resolver]);
  });

  test("listWorkspaces lists the oldest change first (then by task id), of a group or of given tasks", async (store) => {
    const [a, b, c, d, none] = taskIds(5);
    await store.insertTasks(
      [a, b, c, d, none].map((id) => newTask(id)),
      T0,
    );
    const group = `plan-${PLAN_A.slice(0, 8)}`;
    await store.saveWorkspaces([
      workspaceOf(d, T0 + 3),
      workspaceOf(c, T0 + 2, { group }),
      workspaceOf(b, T0 + 1, { group }),
      workspaceOf(a, T0 + 2),
    ]);
    const list = async (filter: Parameters<Store["listWorkspaces"]>[0]) =>
      taskIdsOf(await store.listWorkspaces(filter));
    assert.deepEqual(await list({}), [b, a, c, d]);
    assert.deepEqual(await list({ group }), [b, c]);
    assert.deepEqual(await list({ group: "tasks" }), [a, d]);
    assert.deepEqual(await list({ taskIds: [d, a, none, taskId(99)] }), [a, d]);
    assert.deepEqual(await list({ group, taskIds: [a, c] }), [c]);
    assert.deepEqual(await list({ taskIds: [] }), []);
    assert.deepEqual(await list({ group: "plan-00000000" }), []);
    await store.saveWorkspaces([workspaceOf(b, T0 + 4, { group })]);
    assert.deepEqual(await list({}), [a, c, d, b], "a change moves a workspace last");
    assert.deepEqual(await store.listWorkspaces({ taskIds: [c] }), [
      must(await store.getWorkspace(c)),
    ]);
  });

  test("saveWorkspaces logs task:workspace (state, merge, branch, head) only when the state or merge state changed", async (store) => {
    const id = taskId(1);
    const branch = `orchestrate/tasks/${id}`;
    await store.insertTasks([newTask(id, { workspace: seedOf(id) })], T0);
    const active = workspaceOf(id, T0 + 1, { headCommit: "2".repeat(40) });
    await store.saveWorkspaces([active]);
    // The same state and merge state: a new head, files, logs and time are not a change to log.
    await store.saveWorkspaces([
      changed(active, {
        headCommit: "3".repeat(40),
        filesChanged: ["src/x.ts"],
        verifyLog: "ok",
        path: "/elsewhere",
        updatedAt: T0 + 2,
      }),
    ]);
    const idle = changed(active, { state: "idle", headCommit: "3".repeat(40), updatedAt: T0 + 3 });
    await store.saveWorkspaces([idle]);
    await store.saveWorkspaces([changed(idle, { updatedAt: T0 + 4 })]);
    await store.saveWorkspaces([changed(idle, { merge: "merged", updatedAt: T0 + 5 })]);
    await store.saveWorkspaces([changed(idle, { merge: "merged", updatedAt: T0 + 6 })]);
    const data = (state: string, merge: string, head: string) => ({ state, merge, branch, head });
    assert.deepEqual(await workspaceEvents(store), [
      [id, T0 + 1, data("active", "pending", "2".repeat(40))],
      [id, T0 + 3, data("idle", "pending", "3".repeat(40))],
      [id, T0 + 5, data("idle", "merged", "3".repeat(40))],
    ]);
    const logged = must((await store.eventsFor(id, 1))[0]);
    assert.deepEqual([logged.kind, logged.workerId], ["task:workspace", null]);

    await store.saveWorkspaces([
      changed(idle, { state: "removed", merge: "merged", headCommit: null, updatedAt: T0 + 7 }),
    ]);
    const removed = must((await store.eventsFor(id, 1))[0]);
    assert.deepEqual(
      [removed.kind, removed.data?.["state"], removed.data?.["head"] ?? null],
      ["task:workspace", "removed", null],
    );
  });

  test("saveWorkspaces is all or nothing: a workspace of a missing task saves none of them", async (store) => {
    const id = taskId(1);
    await store.insertTasks([newTask(id, { workspace: seedOf(id) })], T0);
    const seeded = must(await store.getWorkspace(id));
    const eventsBefore = await allEvents(store);
    await assert.rejects(
      store.saveWorkspaces([workspaceOf(id, T0 + 1), workspaceOf(taskId(99), T0 + 1)]),
    );
    assert.deepEqual(await store.listWorkspaces({}), [seeded]);
    assert.deepEqual(await allEvents(store), eventsBefore);
  });
}

function agentWorkspaceContract(test: ContractTest): void {
  test("startAgent saves the task's workspace with the start", async (store, opened) => {
    const id = taskId(1);
    const { workspace } = await startedInWorkspace(store, id, "agent-1", T0 + 1);
    assert.equal(workspace.state, "active");
    assert.deepEqual(await store.getWorkspace(id), workspace);
    assert.deepEqual(await (await opened.another()).getWorkspace(id), workspace);
    assert.deepEqual(await workspaceEvents(store), [
      [id, T0 + 1, { state: "active", merge: "pending", branch: workspace.branch }],
    ]);
  });

  test("startAgent whose guard does not match saves no workspace", async (store) => {
    const [cancelled, others] = taskIds(2);
    await store.insertTasks(
      [
        newTask(cancelled, { workspace: seedOf(cancelled) }),
        newTask(others, { workspace: seedOf(others) }),
      ],
      T0,
    );
    const claimed = await claimExpecting(store, cancelled, T0 + 1, W1);
    await apply(store, cancellationOf(cancelled, T0 + 2));
    const theirs = await claimExpecting(store, others, T0 + 3, W2);
    const seeded = await store.listWorkspaces({});
    const eventsBefore = await allEvents(store);
    const refused = await store.startAgent({
      ...agentStartOf(claimed, "agent-1", T0 + 4),
      workspace: workspaceOf(cancelled, T0 + 4),
    });
    assert.equal(refused, null, "a cancelled task");
    const notHeld = await store.startAgent({
      ...agentStartOf(theirs, "agent-2", T0 + 4),
      transition: startOf(others, W1, "agent-2", T0 + 4),
      workspace: workspaceOf(others, T0 + 4),
    });
    assert.equal(notHeld, null, "another worker's task");
    assert.deepEqual(await store.listWorkspaces({}), seeded);
    assert.deepEqual(await allEvents(store), eventsBefore);
  });

  test("finishAgent saves its workspaces whether or not its transition applies", async (store, opened) => {
    const other = await opened.another();
    const [done, cancelled, untouched] = taskIds(3);
    const first = await startedInWorkspace(store, done, "agent-1", T0 + 1);
    const second = await startedInWorkspace(store, cancelled, "agent-2", T0 + 1);
    const third = await startedInWorkspace(store, untouched, "agent-3", T0 + 1);
    await apply(other, cancellationOf(cancelled, T0 + 2));
    const ended = (ws: TaskWorkspace, now: number) =>
      changed(ws, {
        state: "idle",
        headCommit: "3".repeat(40),
        filesChanged: ["a"],
        updatedAt: now,
      });

    const completed = await store.finishAgent({
      agentRunId: first.run.id,
      end: { endedAt: T0 + 3, exitCode: 0 },
      transition: completionOf(done, T0 + 3, W1),
      workspaces: [ended(first.workspace, T0 + 3)],
    });
    assert.equal(completed.task?.status, "completed");
    assert.deepEqual(await store.getWorkspace(done), ended(first.workspace, T0 + 3));

    const refused = await store.finishAgent({
      agentRunId: second.run.id,
      end: { endedAt: T0 + 4, exitCode: 0 },
      transition: completionOf(cancelled, T0 + 4, W1),
      workspaces: [ended(second.workspace, T0 + 4)],
    });
    assert.deepEqual([refused.task, refused.current?.status], [null, "cancelled"]);
    assert.deepEqual(
      await store.getWorkspace(cancelled),
      ended(second.workspace, T0 + 4),
      "what git has is saved, whatever became of the task",
    );

    const closedOnly = await store.finishAgent({
      agentRunId: third.run.id,
      end: { endedAt: T0 + 5, endReason: "run died" },
      workspaces: [ended(third.workspace, T0 + 5)],
    });
    assert.deepEqual(closedOnly, { task: null, current: null, next: null });
    assert.deepEqual(await store.getWorkspace(untouched), ended(third.workspace, T0 + 5));
    assert.equal(countOf(await allEvents(store), "task:workspace"), 6, "three starts, three ends");
  });

  test("finishAgent's onCompletion inserts its tasks, then saves its workspaces, only when the transition applies", async (store, opened) => {
    const other = await opened.another();
    const [merged, resolver, lost, notQueued] = taskIds(4);
    const first = await startedInWorkspace(store, merged, "agent-1", T0 + 1);
    const record = changed(first.workspace, { state: "idle", updatedAt: T0 + 2 });
    const inConflict = changed(record, { merge: "conflict", resolverTaskId: resolver });
    const resolves: ResolverSpec = {
      kind: "integration",
      forTasks: [merged],
      merges: ["orchestrate/tasks/integration", record.branch],
      files: ["src/a.ts"],
    };
    // A workspace of the task inserted with it: saved only once that task exists.
    const resolverReady = workspaceOf(resolver, T0 + 2, { state: "new", merge: "none", resolves });
    const result = await store.finishAgent({
      agentRunId: first.run.id,
      end: { endedAt: T0 + 2, exitCode: 0 },
      transition: completionOf(merged, T0 + 2, W1),
      workspaces: [record],
      onCompletion: {
        // Of low priority, so that the next claim below takes the next task started, not it.
        insert: [
          newTask(resolver, {
            priority: 1,
            workspace: seedOf(resolver, { merge: "none", resolves }),
          }),
        ],
        workspaces: [inConflict, resolverReady],
      },
    });
    assert.equal(result.task?.status, "completed");
    const queued = must(await store.getTask(resolver), "the resolver");
    assert.deepEqual([queued.status, queued.createdAt], ["pending", T0 + 2]);
    assert.deepEqual(await eventKinds(store, resolver), ["task:submitted"]);
    assert.deepEqual(
      await store.getWorkspace(merged),
      inConflict,
      "the conflict's record is saved after the agent's own",
    );
    assert.deepEqual(await store.getWorkspace(resolver), resolverReady);
    assert.deepEqual(
      (await store.eventsFor(merged, ALL))
        .filter((e) => e.kind === "task:workspace")
        .map((e) => [e.data?.["state"], e.data?.["merge"]]),
      [
        ["active", "pending"],
        ["idle", "pending"],
        ["idle", "conflict"],
      ],
    );

    // Another terminal cancelled the task: the agent's record is saved, the completion's is not.
    const second = await startedInWorkspace(store, lost, "agent-2", T0 + 3);
    await apply(other, cancellationOf(lost, T0 + 4));
    const lostRecord = changed(second.workspace, { state: "idle", updatedAt: T0 + 5 });
    const refused = await store.finishAgent({
      agentRunId: second.run.id,
      end: { endedAt: T0 + 5, exitCode: 0 },
      transition: completionOf(lost, T0 + 5, W1),
      workspaces: [lostRecord],
      onCompletion: {
        insert: [newTask(notQueued, { workspace: seedOf(notQueued) })],
        workspaces: [changed(lostRecord, { merge: "conflict", resolverTaskId: notQueued })],
      },
    });
    assert.deepEqual([refused.task, refused.current?.status], [null, "cancelled"]);
    assert.equal(await store.getTask(notQueued), null);
    assert.equal(await store.getWorkspace(notQueued), null);
    assert.deepEqual(await store.getWorkspace(lost), lostRecord);
    assert.deepEqual(await eventKinds(store, notQueued), []);
  });

  test("startAgent and finishAgent with workspaces are all or nothing", async (store) => {
    const [a, b, taken] = taskIds(3);
    const started = await startedInWorkspace(store, a, "agent-1", T0 + 1);
    await store.insertTasks(
      [newTask(b, { workspace: seedOf(b) }), newTask(taken, { workspace: seedOf(taken) })],
      T0 + 2,
    );
    const claimed = await claimExpecting(store, b, T0 + 2);
    const workspacesBefore = await store.listWorkspaces({});
    const taskBefore = await mustGet(store, a);
    const eventsBefore = await allEvents(store);
    // The run row cannot be inserted (its id is taken): the workspace is not saved either.
    await assert.rejects(
      store.startAgent({
        ...agentStartOf(claimed, started.run.id, T0 + 3),
        workspace: workspaceOf(b, T0 + 3),
      }),
    );
    const finish = {
      agentRunId: started.run.id,
      end: { endedAt: T0 + 4, exitCode: 0 },
      transition: completionOf(a, T0 + 4, W1),
    };
    const record = changed(started.workspace, { state: "idle", updatedAt: T0 + 4 });
    // The completion's task cannot be inserted (its id is taken): the agent's record is undone too.
    await rejectsWith(
      store.finishAgent({
        ...finish,
        workspaces: [record],
        onCompletion: { insert: [newTask(taken)], workspaces: [] },
      }),
      ConflictError,
      "task-exists",
    );
    // A workspace of a missing task: the run stays open and the task is not completed.
    await assert.rejects(
      store.finishAgent({ ...finish, workspaces: [record, workspaceOf(taskId(99), T0 + 4)] }),
    );
    assert.deepEqual(await store.listWorkspaces({}), workspacesBefore);
    assert.deepEqual(await store.getTask(a), taskBefore);
    assert.deepEqual(await store.getTask(b), claimed);
    assert.deepEqual(
      (await store.agentRunsFor(a)).map((r) => r.endedAt),
      [null],
      "the run is still open",
    );
    assert.deepEqual(await store.agentRunsFor(b), []);
    assert.deepEqual(await allEvents(store), eventsBefore, "nothing of any was logged");
  });
}

// ---- deferring ----------------------------------------------------------------------------------

function deferContract(test: ContractTest): void {
  test("deferTask puts a claimed task back to pending behind a new task, inserted with its workspace", async (store) => {
    const [dep, deferred, resolver] = taskIds(3);
    await store.insertTasks([newTask(dep)], T0);
    await claimAndComplete(store, dep, T0 + 1);
    await store.insertTasks(
      [newTask(deferred, { dependsOn: [dep], workspace: seedOf(deferred) })],
      T0 + 2,
    );
    const claimed = await claimExpecting(store, deferred, T0 + 3);
    assert.deepEqual([claimed.attempts, claimed.unmetDependencies], [1, 0]);
    const resolves: ResolverSpec = {
      kind: "base",
      forTasks: [deferred],
      merges: [`orchestrate/tasks/${dep}`, "orchestrate/tasks/other"],
      files: ["src/a.ts"],
    };
    const waitFor = newTask(resolver, {
      priority: 3,
      workspace: seedOf(resolver, { merge: "none", resolves }),
    });
    const result = must(await store.deferTask(deferralOf(claimed, waitFor, T0 + 4)));
    assert.deepEqual(result, await store.getTask(deferred), "the task as stored after");
    assert.deepEqual(
      [result.status, result.attempts, result.workerId, result.assignedTo, result.assignedAt],
      ["pending", 0, null, null, null],
    );
    assert.deepEqual(
      [result.leaseExpiresAt, result.unmetDependencies, result.updatedAt],
      [null, 1, T0 + 4],
      "one more unmet dependency: the new task",
    );
    assert.deepEqual(
      sorted(await store.dependenciesOf(deferred)).map((d) => [d.id, d.status]),
      [
        [dep, "completed"],
        [resolver, "pending"],
      ],
    );
    assert.deepEqual(ids(await store.dependentsOf(resolver)), [deferred]);
    const inserted = must(await store.getTask(resolver), "the new task");
    assert.deepEqual(
      [inserted.status, inserted.priority, inserted.createdAt, inserted.unmetDependencies],
      ["pending", 3, T0 + 4, 0],
    );
    assert.deepEqual(await store.getWorkspace(resolver), {
      taskId: resolver,
      group: "tasks",
      branch: `orchestrate/tasks/${resolver}`,
      baseCommit: BASE_COMMIT,
      startCommit: null,
      headCommit: null,
      path: null,
      filesChanged: [],
      state: "new",
      merge: "none",
      resolverTaskId: null,
      resolves,
      setupLog: null,
      verifyLog: null,
      updatedAt: T0 + 4,
    });
    assert.equal(must(await store.getWorkspace(deferred)).state, "new", "its own is left alone");
    const logged = must((await store.eventsFor(deferred, 1))[0]);
    assert.deepEqual(
      [logged.kind, logged.at, logged.workerId, logged.data?.["from"], logged.data?.["to"]],
      ["task:deferred", T0 + 4, W1, "assigned", "pending"],
    );
    assert.equal(logged.data?.["waitsFor"], resolver);
    assert.deepEqual(await eventKinds(store, resolver), ["task:submitted"]);
    assert.deepEqual(await store.countByStatus(), { ...zeroCounts(), completed: 1, pending: 2 });

    // It waits for the new task, then runs again.
    assert.deepEqual(await claimAll(store, T0 + 5), [resolver]);
    await apply(store, completionOf(resolver, T0 + 6, W1));
    assert.equal((await mustGet(store, deferred)).unmetDependencies, 0);
    const again = await claimExpecting(store, deferred, T0 + 7);
    assert.equal(again.attempts, 1, "the deferral gave the attempt back");
  });

  test("deferTask whose guard does not match returns null and inserts nothing", async (store) => {
    const [theirs, cancelled, resolver] = taskIds(3);
    await store.insertTasks(
      [newTask(theirs, { workspace: seedOf(theirs) }), newTask(cancelled)],
      T0,
    );
    const held = await claimExpecting(store, theirs, T0 + 1, W2);
    const claimed = await claimExpecting(store, cancelled, T0 + 1, W1);
    await apply(store, cancellationOf(cancelled, T0 + 2));
    const snapshot = async () => ({
      tasks: await store.listTasks({ limit: ALL }),
      workspaces: await store.listWorkspaces({}),
      events: await allEvents(store),
    });
    const before = await snapshot();
    const waitFor = newTask(resolver, { workspace: seedOf(resolver) });
    assert.equal(
      await store.deferTask(deferralOf(held, waitFor, T0 + 3, W1)),
      null,
      "another worker's task",
    );
    assert.equal(
      await store.deferTask(deferralOf(claimed, waitFor, T0 + 3)),
      null,
      "a cancelled task",
    );
    assert.equal(await store.getTask(resolver), null);
    assert.equal(await store.getWorkspace(resolver), null);
    assert.deepEqual(await store.dependenciesOf(theirs), []);
    assert.deepEqual(await store.dependenciesOf(cancelled), []);
    assert.deepEqual(await snapshot(), before);
  });

  test("deferTask is all or nothing: a new task it cannot insert leaves the task claimed", async (store) => {
    const [a, taken, broken] = taskIds(3);
    await store.insertTasks([newTask(a), newTask(taken)], T0);
    const claimed = await claimExpecting(store, a, T0 + 1);
    const eventsBefore = await allEvents(store);
    await rejectsWith(
      store.deferTask(deferralOf(claimed, newTask(taken), T0 + 2)),
      ConflictError,
      "task-exists",
    );
    const dangling = newTask(broken, { dependsOn: [taskId(99)], workspace: seedOf(broken) });
    await rejectsWith(
      store.deferTask(deferralOf(claimed, dangling, T0 + 2)),
      NotFoundError,
      "dependency-missing",
    );
    assert.deepEqual(await store.getTask(a), claimed);
    assert.deepEqual(await store.dependenciesOf(a), []);
    assert.equal(await store.getTask(broken), null);
    assert.deepEqual(await store.listWorkspaces({}), []);
    assert.deepEqual(await allEvents(store), eventsBefore);
  });
}

// ---- agent runs ---------------------------------------------------------------------------------

function agentRunContract(test: ContractTest): void {
  test("runningAgents lists the runs without an end, oldest first, from any connection", async (store, opened) => {
    const other = await opened.another();
    const [a, b, c] = [taskId(1), taskId(2), taskId(3)];
    await store.insertTasks([newTask(a), newTask(b), newTask(c)], T0);
    const ta = await claimExpecting(store, a, T0, W1);
    const tb = await claimExpecting(other, b, T0, W2);
    const tc = await claimExpecting(store, c, T0, W1);
    const ra = agentStartOf(ta, "agent-a", T0 + 20);
    const rb = agentStartOf(tb, "agent-b", T0 + 10);
    const rc = agentStartOf(tc, "agent-c", T0 + 15);
    must(await store.startAgent(ra));
    must(await other.startAgent(rb));
    must(await store.startAgent(rc));
    await store.finishAgent({ agentRunId: rc.run.id, end: { endedAt: T0 + 30, exitCode: 0 } });
    assert.deepEqual(await store.runningAgents(), [rb.run, ra.run]);
    assert.deepEqual(await other.runningAgents(), [rb.run, ra.run]);
  });

  test("agentRunsFor lists one task's runs, oldest first, open and closed", async (store) => {
    const [a, b] = [taskId(1), taskId(2)];
    const first = await startedAgent(store, a, "agent-1", T0 + 1);
    await store.insertTasks([newTask(b)], T0 + 1);
    await store.finishAgent({
      agentRunId: first.run.id,
      end: { endedAt: T0 + 5, exitCode: 1, endReason: "exited" },
      transition: failureOf(a, T0 + 5, { workerId: W1, retryAt: T0 + 100 }),
    });
    const again = await claimExpecting(store, a, T0 + 100);
    assert.equal(again.attempts, 2);
    const second = agentStartOf(again, "agent-2", T0 + 101);
    must(await store.startAgent(second));
    assert.deepEqual(await store.agentRunsFor(a), [
      { ...first.run, endedAt: T0 + 5, exitCode: 1, endReason: "exited" },
      second.run,
    ]);
    assert.deepEqual(await store.agentRunsFor(b), []);
  });

  test("recordProgress saves the latest activity of open runs only", async (store) => {
    const open = await startedAgent(store, taskId(1), "agent-1", T0 + 1);
    const closed = await startedAgent(store, taskId(2), "agent-2", T0 + 2);
    await store.finishAgent({ agentRunId: closed.run.id, end: { endedAt: T0 + 3, exitCode: 0 } });
    const closedRow = await store.agentRunsFor(taskId(2));
    const { lost } = await store.recordProgress({
      workerId: W1,
      now: T0 + 5,
      agents: [
        { agentRunId: "agent-1", lastActivity: "editing a.ts", lastActivityAt: T0 + 5 },
        { agentRunId: "agent-2", lastActivity: "too late", lastActivityAt: T0 + 5 },
      ],
    });
    assert.deepEqual(lost, []);
    const saved = { ...open.run, lastActivity: "editing a.ts", lastActivityAt: T0 + 5 };
    assert.deepEqual(await store.agentRunsFor(taskId(1)), [saved]);
    assert.deepEqual(await store.agentRunsFor(taskId(2)), closedRow, "a closed run is left alone");

    await store.recordProgress({
      workerId: W1,
      now: T0 + 6,
      agents: [{ agentRunId: "agent-1", lastActivity: null, lastActivityAt: T0 + 6 }],
    });
    assert.deepEqual(await store.runningAgents(), [
      { ...saved, lastActivity: null, lastActivityAt: T0 + 6 },
    ]);
  });
}

// ---- counts and dependencies --------------------------------------------------------------------

function countContract(test: ContractTest): void {
  test("countByStatus equals a full recount through every kind of change", async (store, opened) => {
    const other = await opened.another();
    const check = async (step: string, expected: Partial<Record<TaskStatus, number>>) => {
      const counted = await store.countByStatus();
      assert.deepEqual(counted, await recount(store), `${step}: the counts match a recount`);
      assert.deepEqual(counted, { ...zeroCounts(), ...expected }, step);
      assert.deepEqual(
        await other.countByStatus(),
        counted,
        `${step}: the other connection agrees`,
      );
    };
    const t = range(12).map(taskId);
    const at = (i: number) => t[i - 1] ?? "";
    await check("empty", {});
    await store.insertTasks(
      t.map((id) => newTask(id)),
      T0,
    );
    await check("insert", { pending: 12 });
    for (const i of range(8)) await claimExpecting(store, at(i), T0 + 1);
    await check("claim", { pending: 4, assigned: 8 });
    const start = agentStartOf(await mustGet(store, at(1)), "agent-1", T0 + 2);
    must(await store.startAgent(start));
    await check("start", { pending: 4, assigned: 7, in_progress: 1 });
    await store.finishAgent({
      agentRunId: start.run.id,
      end: { endedAt: T0 + 3 },
      transition: completionOf(at(1), T0 + 3, W1),
    });
    await check("complete", { pending: 4, assigned: 7, completed: 1 });
    await apply(other, failureOf(at(2), T0 + 4, { workerId: W1 }));
    await check("fail", { pending: 4, assigned: 6, completed: 1, failed: 1 });
    await apply(store, failureOf(at(3), T0 + 5, { workerId: W1, retryAt: T0 + 500 }));
    await check("retry after a backoff", { pending: 5, assigned: 5, completed: 1, failed: 1 });
    await apply(store, cancellationOf(at(9), T0 + 6));
    await apply(other, cancellationOf(at(4), T0 + 6));
    await check("cancel", { pending: 4, assigned: 4, completed: 1, failed: 1, cancelled: 2 });
    await apply(store, requeueOf(at(9), T0 + 7));
    await check("requeue", { pending: 5, assigned: 4, completed: 1, failed: 1, cancelled: 1 });
    const expired = await store.expiredLeases(T0 + LEASE_MS + 2, 100);
    assert.deepEqual(ids(expired), [at(5), at(6), at(7), at(8)]);
    for (const task of expired) {
      await apply(store, leaseExpiryOf(task.id, T0 + LEASE_MS + 2, task.id <= at(6)));
    }
    await check("lease expiry", { pending: 7, completed: 1, failed: 3, cancelled: 1 });
    const { tasks } = await store.cleanupCandidates(T0 + 10 ** 9);
    assert.equal(tasks.length, 5);
    await store.deleteTasks(ids(tasks), T0 + 1_000);
    await check("cleanup", { pending: 7 });
  });

  test("blockedTasks counts the tasks waiting on dependencies and lists the first with what they wait on", async (store) => {
    const [a, b, x, c, d, e] = taskIds(6);
    await store.insertTasks([newTask(a)], T0);
    await store.insertTasks([newTask(b)], T0 + 1);
    await store.insertTasks([newTask(x)], T0 + 2);
    await store.insertTasks([newTask(c, { dependsOn: [a, b] })], T0 + 3);
    await store.insertTasks([newTask(d, { dependsOn: [a] })], T0 + 4);
    await store.insertTasks([newTask(e, { dependsOn: [c] })], T0 + 5);
    const dep = (id: string, status: TaskStatus) => ({ id, description: `task ${id}`, status });
    const blocked = async (limit: number) => {
      const result = await store.blockedTasks(limit);
      return {
        count: result.count,
        tasks: result.tasks.map((t) => ({ ...t, waitingOn: sorted(t.waitingOn) })),
      };
    };
    const entry = (id: string, waitingOn: ReturnType<typeof dep>[]) => ({
      id,
      description: `task ${id}`,
      waitingOn,
    });
    assert.deepEqual(await blocked(10), {
      count: 3,
      tasks: [
        entry(c, [dep(a, "pending"), dep(b, "pending")]),
        entry(d, [dep(a, "pending")]),
        entry(e, [dep(c, "pending")]),
      ],
    });
    await claimExpecting(store, a, T0 + 6);
    await claimAndComplete(store, b, T0 + 7);
    await apply(store, failureOf(a, T0 + 8, { workerId: W1 }));
    assert.deepEqual(await blocked(2), {
      count: 3,
      tasks: [entry(c, [dep(a, "failed")]), entry(d, [dep(a, "failed")])],
    });
    assert.deepEqual(await blocked(0), { count: 3, tasks: [] });
  });

  test("dependenciesOf and dependentsOf show the tasks on either side with their status", async (store) => {
    const [a, b, c, d] = taskIds(4);
    await store.insertTasks(
      [newTask(a), newTask(b), newTask(c, { dependsOn: [a, b] }), newTask(d, { dependsOn: [a] })],
      T0,
    );
    const info = (id: string, status: TaskStatus) => ({ id, description: `task ${id}`, status });
    assert.deepEqual(sorted(await store.dependenciesOf(c)), [
      info(a, "pending"),
      info(b, "pending"),
    ]);
    assert.deepEqual(sorted(await store.dependentsOf(a)), [info(c, "pending"), info(d, "pending")]);
    assert.deepEqual(await store.dependenciesOf(a), []);
    assert.deepEqual(await store.dependentsOf(c), []);
    await claimAndComplete(store, a, T0 + 1);
    assert.deepEqual(sorted(await store.dependenciesOf(c)), [
      info(a, "completed"),
      info(b, "pending"),
    ]);
    assert.deepEqual(await store.dependenciesOf(taskId(99)), []);
  });
}

// ---- events -------------------------------------------------------------------------------------

function eventContract(test: ContractTest): void {
  test("readEvents returns the events after a cursor, in id order, at most `limit`", async (store) => {
    const [a, b, c] = [taskId(1), taskId(2), taskId(3)];
    await store.insertTasks([newTask(a), newTask(b), newTask(c)], T0);
    const claimed = await claimExpecting(store, a, T0 + 1);
    await claimExpecting(store, b, T0 + 1);
    must(await store.startAgent(agentStartOf(claimed, "agent-1", T0 + 2)));
    await store.insertPlan(newPlan(PLAN_A, T0 + 3));
    const all = await allEvents(store);
    assert.deepEqual(
      all.map((e) => e.kind),
      [
        "task:submitted",
        "task:submitted",
        "task:submitted",
        "task:claimed",
        "task:claimed",
        "task:started",
        "agent:started",
        "plan:created",
      ],
    );
    for (let i = 1; i < all.length; i++) {
      assert.ok((all[i]?.id ?? 0) > (all[i - 1]?.id ?? 0), "ids strictly increase");
    }
    const cursor = must(all[2]).id;
    assert.deepEqual(await store.readEvents(cursor, 3), all.slice(3, 6));
    assert.deepEqual(await store.readEvents(0, 2), all.slice(0, 2));
    assert.deepEqual(await store.readEvents(must(all.at(-1)).id, 10), []);
    const planEvent = must(all.at(-1));
    assert.deepEqual([planEvent.taskId, planEvent.data?.["planId"]], [null, PLAN_A]);
  });

  test("reading in pages from the last id seen returns every event exactly once, from both connections", async (store, opened) => {
    const other = await opened.another();
    const seen: TaskEvent[] = [];
    let cursor = 0;
    const readPage = async (reader: Store): Promise<number> => {
      const page = await reader.readEvents(cursor, 3);
      assert.ok(
        page.every((e) => e.id > cursor),
        "a page starts after the cursor",
      );
      seen.push(...page);
      cursor = page.at(-1)?.id ?? cursor;
      return page.length;
    };
    for (const i of range(10)) {
      const [writer, reader] = i % 2 === 0 ? [other, store] : [store, other];
      await writer.insertTasks([newTask(taskId(i))], T0 + i);
      if (i % 3 === 0) must(await writer.claimTask(claimAt(T0 + i)));
      await readPage(reader);
    }
    while ((await readPage(store)) > 0);
    const all = await allEvents(store);
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen.map((e) => e.id)).size, seen.length, "no event twice");
    assert.deepEqual(
      seen.filter((e) => e.kind === "task:submitted").map((e) => e.taskId),
      range(10).map(taskId),
      "the other connection's events are there",
    );
    assert.equal(countOf(seen, "task:claimed"), 3);
  });

  test("eventsFor returns the latest `limit` events of one task, oldest first", async (store) => {
    const [a, b] = [taskId(1), taskId(2)];
    await store.insertTasks([newTask(a)], T0);
    await store.insertTasks([newTask(b)], T0 + 1);
    await claimExpecting(store, a, T0 + 2);
    await claimExpecting(store, b, T0 + 3);
    await apply(store, startOf(a, W1, "agent-1", T0 + 4));
    await apply(store, completionOf(a, T0 + 5, W1));
    const of = async (id: string, limit: number) =>
      (await store.eventsFor(id, limit)).map((e) => [e.kind, e.at, e.taskId]);
    assert.deepEqual(await of(a, 100), [
      ["task:submitted", T0, a],
      ["task:claimed", T0 + 2, a],
      ["task:started", T0 + 4, a],
      ["task:completed", T0 + 5, a],
    ]);
    assert.deepEqual(await of(a, 2), [
      ["task:started", T0 + 4, a],
      ["task:completed", T0 + 5, a],
    ]);
    assert.deepEqual(await of(b, 100), [
      ["task:submitted", T0 + 1, b],
      ["task:claimed", T0 + 3, b],
    ]);
    assert.deepEqual(await store.eventsFor(taskId(99), 10), []);
    const claim = must((await store.eventsFor(a, 100))[1]);
    assert.equal(claim.workerId, W1);
  });

  test("event ids are never used twice, not even after the newest events were deleted", async (store) => {
    const [a, b] = taskIds(2);
    await store.insertTasks([newTask(a)], T0);
    await claimAndComplete(store, a, T0 + 1);
    const seen = await allEvents(store);
    const cursor = must(seen.at(-1)).id;
    // Cleanup deletes the newest events (those of task a).
    assert.equal((await store.deleteTasks([a], T0 + 1_000)).length, 0);
    await store.insertTasks([newTask(b)], T0 + 2);
    const after = await store.readEvents(cursor, 100);
    assert.deepEqual(
      after.filter((e) => e.taskId !== null).map((e) => [e.kind, e.taskId]),
      [["task:submitted", b]],
      "a reader at the old cursor sees the new event",
    );
    assert.ok(after.every((e) => e.id > cursor));
  });
}

// ---- cleanup ------------------------------------------------------------------------------------

function cleanupContract(test: ContractTest): void {
  test("cleanupCandidates lists terminal tasks updated before the cut, keeping those unfinished work needs", async (store) => {
    const [done, failed, needed, neededByFinished, recent, cancelled, pending, waits, gaveUp] =
      taskIds(9);
    // Inserted in the order they are claimed.
    await store.insertTasks(
      [done, failed, needed, neededByFinished, recent, cancelled, pending].map((id) => newTask(id)),
      T0,
    );
    await store.insertTasks(
      [newTask(waits, { dependsOn: [needed] }), newTask(gaveUp, { dependsOn: [neededByFinished] })],
      T0,
    );
    await claimAndComplete(store, done, T0 + 10);
    await claimExpecting(store, failed, T0 + 11);
    await apply(store, failureOf(failed, T0 + 11, { workerId: W1 }));
    await apply(store, cancellationOf(cancelled, T0 + 12));
    await claimAndComplete(store, needed, T0 + 13);
    await claimAndComplete(store, neededByFinished, T0 + 14);
    await apply(store, cancellationOf(gaveUp, T0 + 15));
    await claimAndComplete(store, recent, T0 + 500);

    const candidates = await store.cleanupCandidates(T0 + 100);
    assert.deepEqual(
      sorted(candidates.tasks).map((t) => [t.id, t.status]),
      [
        [done, "completed"],
        [failed, "failed"],
        [neededByFinished, "completed"],
        [cancelled, "cancelled"],
        [gaveUp, "cancelled"],
      ].sort(),
    );
    assert.equal(candidates.keptForDependents, 1, "the task a pending task depends on stays");
    assert.deepEqual(sorted(candidates.tasks)[0], await store.getTask(done));
    const atCut = await store.cleanupCandidates(T0 + 500);
    assert.ok(!ids(atCut.tasks).includes(recent), "updated at the cut is not before it");
    assert.ok(ids((await store.cleanupCandidates(T0 + 501)).tasks).includes(recent));
    assert.deepEqual(await store.cleanupCandidates(T0), { tasks: [], keptForDependents: 0 });
  });

  test("deleteTasks removes tasks with their events and agent runs, returns the runs, leaves the rest", async (store) => {
    const [a, b, c, d] = taskIds(4);
    const runA = await startedAgent(store, a, "agent-a", T0 + 1);
    await store.finishAgent({
      agentRunId: runA.run.id,
      end: { endedAt: T0 + 2, exitCode: 0 },
      transition: completionOf(a, T0 + 2, W1),
    });
    const runB = await startedAgent(store, b, "agent-b", T0 + 3);
    await store.finishAgent({
      agentRunId: runB.run.id,
      end: { endedAt: T0 + 4, exitCode: 1 },
      transition: failureOf(b, T0 + 4, { workerId: W1 }),
    });
    await store.insertTasks([newTask(c), newTask(d, { dependsOn: [c] })], T0 + 5);
    const expectedRuns = [...(await store.agentRunsFor(a)), ...(await store.agentRunsFor(b))];
    const keptC = await mustGet(store, c);
    const keptD = await mustGet(store, d);
    const eventsOfC = await store.eventsFor(c, 100);

    const removed = await store.deleteTasks([a, b], T0 + 1_000);
    assert.deepEqual(sorted(removed), sorted(expectedRuns));
    for (const id of [a, b]) {
      assert.equal(await store.getTask(id), null);
      assert.deepEqual(await store.eventsFor(id, 100), []);
      assert.deepEqual(await store.agentRunsFor(id), []);
    }
    assert.ok((await allEvents(store)).every((e) => e.taskId !== a && e.taskId !== b));
    assert.deepEqual(await store.getTask(c), keptC);
    assert.deepEqual(await store.getTask(d), keptD);
    assert.deepEqual(await store.eventsFor(c, 100), eventsOfC);
    assert.deepEqual(await store.countByStatus(), { ...zeroCounts(), pending: 2 });
    assert.deepEqual(await store.deleteTasks([], T0 + 1_000), []);
    assert.deepEqual(await store.deleteTasks([taskId(99)], T0 + 1_000), []);
    assert.deepEqual(await claimAll(store, T0 + 6), [c]);
  });

  test("deleteTasks leaves a task retried since it was listed, and one an unfinished task now needs", async (store) => {
    const [retried, needed, waiting, gone] = taskIds(4);
    await store.insertTasks([newTask(retried), newTask(needed), newTask(gone)], T0);
    await claimExpecting(store, retried, T0 + 1);
    await apply(store, failureOf(retried, T0 + 1, { workerId: W1 }));
    await claimAndComplete(store, needed, T0 + 1);
    await claimAndComplete(store, gone, T0 + 1);
    // Listed as finished by cleanupCandidates, then retried and needed before the delete.
    const listed = ids((await store.cleanupCandidates(T0 + 10)).tasks);
    assert.deepEqual([...listed].sort(), [retried, needed, gone].sort());
    await apply(store, requeueOf(retried, T0 + 2));
    await store.insertTasks([newTask(waiting, { dependsOn: [needed] })], T0 + 3);
    const removed = await store.deleteTasks(listed, T0 + 1_000);
    assert.deepEqual(removed, []);
    assert.equal(
      (await mustGet(store, retried)).status,
      "pending",
      "retried: not finished any more",
    );
    assert.equal((await mustGet(store, needed)).status, "completed", "needed by a pending task");
    assert.equal(await store.getTask(gone), null);
    assert.deepEqual(
      (await store.dependenciesOf(waiting)).map((dep) => dep.id),
      [needed],
    );
  });
  test("deleteTasks removes the workspaces of the tasks it deletes, and only theirs", async (store) => {
    const [done, retried, pending] = taskIds(3);
    await store.insertTasks(
      [done, retried, pending].map((id) => newTask(id, { workspace: seedOf(id) })),
      T0,
    );
    await claimAndComplete(store, done, T0 + 1);
    await claimExpecting(store, retried, T0 + 1);
    await apply(store, failureOf(retried, T0 + 1, { workerId: W1 }));
    await store.saveWorkspaces([
      workspaceOf(done, T0 + 2, { state: "removed", path: null, merge: "merged" }),
      workspaceOf(retried, T0 + 2, { state: "idle" }),
    ]);
    const listed = ids((await store.cleanupCandidates(T0 + 10)).tasks);
    assert.deepEqual([...listed].sort(), [done, retried]);
    await apply(store, requeueOf(retried, T0 + 3));
    const kept = await store.listWorkspaces({ taskIds: [retried, pending] });
    assert.equal(kept.length, 2);
    await store.deleteTasks(listed, T0 + 1_000);
    assert.equal(await store.getTask(done), null);
    assert.equal(await store.getWorkspace(done), null);
    assert.deepEqual(await store.listWorkspaces({}), kept, "a task that stays keeps its workspace");
  });
}

// ---- plans --------------------------------------------------------------------------------------

function planContract(test: ContractTest): void {
  test("insertPlan and getPlan round-trip a plan with its tasks in order and its discussion", async (store) => {
    const plan = newPlan(PLAN_A, T0, {
      goal: "Build a REST API",
      planner: "anthropic-api:claude",
      tasks: [
        plannedTask("z", { phase: "Design", agentType: "architect", priority: 3 }),
        plannedTask("a", { dependsOn: ["z"] }),
        plannedTask("m", { phase: "Testing", dependsOn: ["z", "a"] }),
      ],
      discussion: [
        { at: T0, role: "user", content: "Build a REST API" },
        { at: T0 + 1, role: "assistant", content: "Here is a plan." },
      ],
      updatedAt: T0 + 1,
    });
    await store.insertPlan(plan);
    assert.deepEqual(await store.getPlan(PLAN_A), plan);
    assert.equal(await store.getPlan(PLAN_B), null);
    const [created] = await allEvents(store);
    assert.deepEqual([created?.kind, created?.taskId, created?.at], ["plan:created", null, T0]);
    assert.equal(created?.data?.["planId"], PLAN_A);
    await assert.rejects(
      store.insertPlan({ ...plan, goal: "another goal" }),
      (error: unknown) => error instanceof ConflictError && error.reason === "plan-exists",
    );
    assert.equal((await store.getPlan(PLAN_A))?.goal, "Build a REST API", "the first plan is kept");
  });

  test("a plan keeps the isolation it was made with (worktree, none, or null for as configured)", async (store) => {
    await store.insertPlan(newPlan(PLAN_A, T0, { isolation: "none" }));
    await store.insertPlan(newPlan(PLAN_B, T0, { isolation: "worktree" }));
    assert.equal((await store.getPlan(PLAN_A))?.isolation, "none");
    assert.equal((await store.getPlan(PLAN_B))?.isolation, "worktree");
    await store.insertPlan(newPlan("c1c1c1c1c1c1c1c1", T0));
    assert.equal((await store.getPlan("c1c1c1c1c1c1c1c1"))?.isolation, null);
  });

  test("findPlanIds finds plans by prefix, at most `limit`", async (store) => {
    const planIds = ["abc0000000000001", "abc0000000000002", "abd0000000000003"];
    for (const id of planIds) await store.insertPlan(newPlan(id, T0));
    assert.deepEqual([...(await store.findPlanIds("abc", 10))].sort(), planIds.slice(0, 2));
    assert.deepEqual([...(await store.findPlanIds("ab", 10))].sort(), planIds);
    const one = await store.findPlanIds("ab", 1);
    assert.equal(one.length, 1);
    assert.ok(planIds.includes(one[0] ?? ""));
    assert.deepEqual(await store.findPlanIds("abd0000000000003", 10), ["abd0000000000003"]);
    assert.deepEqual(await store.findPlanIds("f", 10), []);
  });

  test("listPlans lists the newest first, filters by status, and counts planned and queued tasks", async (store) => {
    await store.insertPlan(
      newPlan(PLAN_A, T0 + 1, { tasks: ["w", "x", "y", "z"].map((k) => plannedTask(k)) }),
    );
    await store.insertPlan(newPlan(PLAN_B, T0 + 2, { tasks: [plannedTask("only")] }));
    const threeTasks = { tasks: ["t1", "t2", "t3"].map((k) => plannedTask(k)) };
    const { idOf } = await executedPlan(store, newPlan(PLAN_C, T0 + 3, threeTasks), T0 + 4);
    await claimAndComplete(store, idOf("t1"), T0 + 5);
    const summaries = await store.listPlans(10);
    assert.deepEqual(
      summaries.map((p) => [p.id, p.status, p.taskCount, p.queued]),
      [
        [PLAN_C, "executing", 3, { completed: 1, pending: 2 }],
        [PLAN_B, "draft", 1, {}],
        [PLAN_A, "draft", 4, {}],
      ],
    );
    assert.deepEqual(
      summaries.map((p) => [p.goal, p.createdAt]),
      [
        [`goal of ${PLAN_C}`, T0 + 3],
        [`goal of ${PLAN_B}`, T0 + 2],
        [`goal of ${PLAN_A}`, T0 + 1],
      ],
    );
    assert.equal(summaries[2]?.updatedAt, T0 + 1);
    assert.deepEqual(ids(await store.listPlans(2)), [PLAN_C, PLAN_B]);
    assert.deepEqual(ids(await store.listPlans(10, ["draft"])), [PLAN_B, PLAN_A]);
    assert.deepEqual(ids(await store.listPlans(10, ["executing", "failed"])), [PLAN_C]);
    assert.deepEqual(await store.listPlans(10, ["completed"]), []);
  });

  test("savePlanTasks replaces a draft's tasks and bumps its version; a stale version is refused", async (store, opened) => {
    const other = await opened.another();
    await store.insertPlan(newPlan(PLAN_A, T0));
    const replaced = [plannedTask("b"), plannedTask("a", { dependsOn: ["b"] })];
    await store.savePlanTasks(PLAN_A, replaced, T0 + 1);
    const v2 = must(await store.getPlan(PLAN_A));
    assert.deepEqual([v2.tasks, v2.version, v2.updatedAt], [replaced, 2, T0 + 1]);
    await store.savePlanTasks(PLAN_A, [plannedTask("c")], T0 + 2, 2);
    const v3 = must(await store.getPlan(PLAN_A));
    assert.equal(v3.version, 3);
    await rejectsWith(
      store.savePlanTasks(PLAN_A, [plannedTask("stale")], T0 + 3, 2),
      ConflictError,
      "plan-changed",
    );
    assert.deepEqual(await store.getPlan(PLAN_A), v3, "a refused edit changes nothing");

    // Two sessions read version 3; the other saves first, so this one's edit is refused.
    const theirs = [plannedTask("theirs")];
    await other.savePlanTasks(PLAN_A, theirs, T0 + 4, v3.version);
    await rejectsWith(
      store.savePlanTasks(PLAN_A, [plannedTask("mine")], T0 + 5, v3.version),
      ConflictError,
      "plan-changed",
    );
    assert.deepEqual(must(await store.getPlan(PLAN_A)).tasks, theirs);
    await rejectsWith(store.savePlanTasks(PLAN_B, [], T0), NotFoundError, "plan-missing");
  });

  test("savePlanTasks refuses a plan that is no longer a draft, from either connection", async (store, opened) => {
    const other = await opened.another();
    const approved = await approvedPlan(store, newPlan(PLAN_A, T0), T0 + 1);
    await rejectsWith(store.savePlanTasks(PLAN_A, [], T0 + 2), ConflictError, "plan-not-draft");
    await rejectsWith(
      other.savePlanTasks(PLAN_A, [], T0 + 2, approved.version),
      ConflictError,
      "plan-not-draft",
    );
    assert.deepEqual(await store.getPlan(PLAN_A), approved);
  });

  test("appendPlanMessages appends to the discussion, all or none", async (store) => {
    const first = { at: T0, role: "user" as const, content: "Build it" };
    await store.insertPlan(newPlan(PLAN_A, T0, { discussion: [first] }));
    const more = [
      { at: T0 + 1, role: "assistant" as const, content: "A plan" },
      { at: T0 + 2, role: "user" as const, content: "Add tests" },
    ];
    await store.appendPlanMessages(PLAN_A, more);
    assert.deepEqual(must(await store.getPlan(PLAN_A)).discussion, [first, ...more]);
    const broken = { at: T0 + 4, role: "user" as const, content: null as unknown as string };
    await assert.rejects(
      store.appendPlanMessages(PLAN_A, [
        { at: T0 + 3, role: "assistant", content: "Tests added" },
        broken,
      ]),
    );
    assert.deepEqual(must(await store.getPlan(PLAN_A)).discussion, [first, ...more]);
    await rejectsWith(store.appendPlanMessages(PLAN_B, more), NotFoundError, "plan-missing");
  });

  test("setPlanStatus moves a plan only from the given states, and honours expectedVersion", async (store) => {
    await store.insertPlan(newPlan(PLAN_A, T0));
    await rejectsWith(
      store.setPlanStatus(PLAN_A, ["draft"], "approved", T0 + 1, 0),
      ConflictError,
      "plan-changed",
    );
    assert.equal(await planStatus(store, PLAN_A), "draft");
    const approved = must(await store.setPlanStatus(PLAN_A, ["draft"], "approved", T0 + 2, 1));
    assert.deepEqual(
      [approved.status, approved.approvedAt, approved.updatedAt, approved.version],
      ["approved", T0 + 2, T0 + 2, 2],
    );
    assert.deepEqual(await store.getPlan(PLAN_A), approved);
    assert.equal(await store.setPlanStatus(PLAN_A, ["draft"], "approved", T0 + 3), null);
    assert.deepEqual(await store.getPlan(PLAN_A), approved, "a refused move changes nothing");
    const moves = (await allEvents(store)).filter((e) => e.kind === "plan:approved");
    assert.equal(moves.length, 1);
    assert.deepEqual(
      [moves[0]?.data?.["planId"], moves[0]?.data?.["from"], moves[0]?.at],
      [PLAN_A, "draft", T0 + 2],
    );
    await rejectsWith(
      store.setPlanStatus(PLAN_B, ["draft"], "approved", T0),
      NotFoundError,
      "plan-missing",
    );
  });

  test("executePlan queues the tasks, links them to the plan and sets it executing, once", async (store, opened) => {
    const other = await opened.another();
    const plan = newPlan(PLAN_A, T0, {
      tasks: [
        plannedTask("t1"),
        plannedTask("t2", { dependsOn: ["t1"] }),
        plannedTask("t3", { dependsOn: ["t1", "t2"] }),
      ],
    });
    const approved = await approvedPlan(store, plan, T0 + 1);
    const idOf = idsFor("e");
    const result = await store.executePlan(PLAN_A, tasksToQueue(plan, idOf), T0 + 2);
    assert.equal(result.queued, true);
    const executed = result.plan;
    assert.deepEqual([executed.status, executed.executedAt], ["executing", T0 + 2]);
    assert.ok(executed.version > approved.version);
    assert.deepEqual(
      executed.tasks.map((t) => [t.key, t.taskId]),
      ["t1", "t2", "t3"].map((k) => [k, idOf(k)]),
    );
    assert.deepEqual(await store.getPlan(PLAN_A), executed);
    const queued = await store.listTasks({ planId: PLAN_A, limit: 10 });
    assert.deepEqual(ids(queued), ["t1", "t2", "t3"].map(idOf));
    assert.ok(queued.every((t) => t.planId === PLAN_A && t.status === "pending"));
    assert.deepEqual(ids(sorted(await store.dependenciesOf(idOf("t3")))), [idOf("t1"), idOf("t2")]);
    const moved = must((await allEvents(store)).find((e) => e.kind === "plan:executing"));
    assert.deepEqual([moved.data?.["planId"], moved.data?.["from"]], [PLAN_A, "approved"]);

    const otherIds = idsFor("f");
    for (const connection of [store, other]) {
      const again = await connection.executePlan(PLAN_A, tasksToQueue(plan, otherIds), T0 + 3);
      assert.deepEqual(again, { plan: executed, queued: false });
    }
    assert.equal((await store.listTasks({ limit: 100 })).length, 3, "no task queued twice");
    assert.equal(await store.getTask(otherIds("t1")), null);
  });

  test("executePlan from two connections at the same time queues the tasks once", async (store, opened) => {
    const other = await opened.another();
    const plan = newPlan(PLAN_A, T0);
    await approvedPlan(store, plan, T0 + 1);
    const [mine, theirs] = await Promise.all([
      store.executePlan(PLAN_A, tasksToQueue(plan, idsFor("1")), T0 + 2),
      other.executePlan(PLAN_A, tasksToQueue(plan, idsFor("2")), T0 + 2),
    ]);
    assert.equal([mine.queued, theirs.queued].filter(Boolean).length, 1);
    const tasks = await store.listTasks({ limit: 100 });
    assert.equal(tasks.length, plan.tasks.length);
    const linked = must(await store.getPlan(PLAN_A)).tasks.map((t) => t.taskId);
    assert.deepEqual([...linked].sort(), ids(tasks).sort());
  });

  test("executePlan refuses a draft (plan-is-draft) and a missing plan (plan-missing)", async (store) => {
    const plan = newPlan(PLAN_A, T0);
    await store.insertPlan(plan);
    const tasks = tasksToQueue(plan, idsFor("d"));
    await rejectsWith(store.executePlan(PLAN_A, tasks, T0 + 1), ConflictError, "plan-is-draft");
    await rejectsWith(store.executePlan(PLAN_B, tasks, T0 + 1), NotFoundError, "plan-missing");
    assert.deepEqual(await store.listTasks({ limit: 10 }), []);
    assert.equal(await planStatus(store, PLAN_A), "draft");
  });
}

function planFollowsTasksContract(test: ContractTest): void {
  test("failed when a task fails or is cancelled, executing again after a retry, completed when all completed", async (store, opened) => {
    const other = await opened.another();
    const plan = newPlan(PLAN_A, T0, { tasks: ["k1", "k2", "k3"].map((k) => plannedTask(k)) });
    const { idOf } = await executedPlan(store, plan, T0 + 1);
    const [k1, k2, k3] = ["k1", "k2", "k3"].map(idOf) as [string, string, string];
    const expectStatus = async (status: PlanStatus) => {
      assert.equal(await planStatus(store, PLAN_A), status);
      assert.equal(await planStatus(other, PLAN_A), status);
    };
    await claimAndComplete(store, k1, T0 + 10);
    await expectStatus("executing");
    await claimExpecting(store, k2, T0 + 11);
    await apply(store, failureOf(k2, T0 + 12, { workerId: W1 }));
    await expectStatus("failed");
    await apply(other, requeueOf(k2, T0 + 13));
    await expectStatus("executing");
    await apply(store, cancellationOf(k3, T0 + 14));
    await expectStatus("failed");
    await apply(store, requeueOf(k3, T0 + 15));
    await expectStatus("executing");
    await claimExpecting(store, k2, T0 + 16);
    const held = await claimExpecting(other, k3, T0 + 17, W2);
    const start = agentStartOf(held, "agent-3", T0 + 18);
    must(await other.startAgent(start));
    await other.finishAgent({
      agentRunId: start.run.id,
      end: { endedAt: T0 + 19, exitCode: 0 },
      transition: completionOf(k3, T0 + 19, W2),
    });
    await expectStatus("executing");
    await apply(store, completionOf(k2, T0 + 20, W1));
    await expectStatus("completed");

    const planEvents = (await allEvents(store)).filter((e) => e.kind.startsWith("plan:"));
    assert.deepEqual(
      planEvents.map((e) => [e.kind, e.data?.["planId"], e.data?.["from"] ?? null]),
      [
        ["plan:created", PLAN_A, null],
        ["plan:approved", PLAN_A, "draft"],
        ["plan:executing", PLAN_A, "approved"],
        ["plan:failed", PLAN_A, "executing"],
        ["plan:executing", PLAN_A, "failed"],
        ["plan:failed", PLAN_A, "executing"],
        ["plan:executing", PLAN_A, "failed"],
        ["plan:completed", PLAN_A, "executing"],
      ],
    );
    assert.deepEqual(
      planEvents.slice(3).map((e) => e.at),
      [T0 + 12, T0 + 13, T0 + 14, T0 + 15, T0 + 20],
    );
    const done = await store.executePlan(PLAN_A, tasksToQueue(plan, idOf), T0 + 21);
    assert.equal(done.queued, false, "a finished plan is not queued again");
  });

  test("a lease that expires for good fails the plan too", async (store) => {
    const plan = newPlan(PLAN_A, T0, { tasks: [plannedTask("only")] });
    const { idOf } = await executedPlan(store, plan, T0 + 1);
    await claimExpecting(store, idOf("only"), T0 + 2);
    await apply(store, leaseExpiryOf(idOf("only"), T0 + 2 + LEASE_MS + 1, false));
    assert.equal(await planStatus(store, PLAN_A), "failed");
  });
}
