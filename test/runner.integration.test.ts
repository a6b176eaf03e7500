/**
 * The runner's error boundary and timers, in process, on a real SQLite file with real agent processes
 * (a tiny Node.js script as a custom CLI). Each test injects one failure between a task's claim and its
 * agent's start and checks that only that task is affected: the run goes on and the other tasks
 * complete. A Proxy around the store plays "another terminal" at exactly the right moment.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeCustomBackend } from "../src/adapters/backends/customBackend.ts";
import { killTree } from "../src/adapters/process/agentKillTree.ts";
import { findEnvValues } from "../src/adapters/process/processTable.ts";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { makeProjectDirectoryWorkspaces } from "../src/adapters/workspaces/projectDirectoryWorkspaces.ts";
import { AGENT_ID_ENV } from "../src/core/agentMarkers.ts";
import { BUILTIN_AGENT_TYPES } from "../src/core/agentTypes.ts";
import { ContextManager } from "../src/core/contextManager.ts";
import { Runner, type RunnerEvent, type RunnerOptions } from "../src/core/runner.ts";
import type { Task } from "../src/core/task.ts";
import { TaskQueue } from "../src/core/taskQueue.ts";
import type { AgentBackend } from "../src/ports/agentBackend.ts";
import type { Store } from "../src/ports/store.ts";
import { interceptStore } from "./helpers/interceptStore.ts";

const dirs: string[] = [];
const stores: Store[] = [];
after(async () => {
  for (const store of stores) await store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An agent that answers at once with a line naming its task. */
const quick = makeCustomBackend({
  name: "quick",
  binary: process.execPath,
  args: ["-e", "console.log('done: ' + process.argv[1].split('\\n').at(-1))", "{prompt}"],
  outputFormat: "text",
});

interface Harness {
  dir: string;
  store: Store;
  /** A second connection: another terminal. */
  other: TaskQueue;
  queue: TaskQueue;
  events: RunnerEvent[];
  runner: Runner;
}

/**
 * A temp project with its queue, the store given to `wrap` (to inject a failure), and a runner over it
 * with `backend` for every task.
 */
function harness(
  options: { wrap?: (store: Store, other: TaskQueue) => Store; backend?: AgentBackend } & Partial<
    Pick<RunnerOptions, "maxAgents" | "pollIntervalMs" | "graceMs">
  > & { leaseMs?: number } = {},
): Harness {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-runner-"));
  dirs.push(dir);
  const base = join(dir, ".orchestrator");
  const raw = openSqliteStore({ path: join(base, "tasks.db"), busyTimeoutMs: 5_000 });
  const otherStore = openSqliteStore({ path: join(base, "tasks.db"), busyTimeoutMs: 5_000 });
  stores.push(raw, otherStore);
  const other = new TaskQueue({ store: otherStore });
  const store = options.wrap ? options.wrap(raw, other) : raw;
  const queue = new TaskQueue({ store, leaseMs: options.leaseMs ?? 30_000, reapIntervalMs: 0 });
  const events: RunnerEvent[] = [];
  const backend = options.backend ?? quick;
  const runner = new Runner({
    queue,
    context: new ContextManager(base),
    workspaces: makeProjectDirectoryWorkspaces(dir),
    agentTypes: BUILTIN_AGENT_TYPES,
    resolveBackend: () => backend,
    maxAgents: options.maxAgents ?? 2,
    workerId: `${hostname()}:${process.pid}:test`,
    runId: `${hostname()}:${process.pid}:test`,
    host: hostname(),
    env: process.env,
    killTree,
    follow: false,
    defaultTimeoutMs: 30_000,
    graceMs: options.graceMs ?? 500,
    maxOutputBytes: 1_000_000,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    onEvent: (event) => events.push(event),
  });
  return { dir, store, other, queue, events, runner };
}

/** Three independent tasks, the middle one marked so an injected failure can pick it out. */
async function threeTasks(queue: TaskQueue): Promise<Task[]> {
  return queue.addMany([
    { description: "First task", priority: 3, maxAttempts: 1 },
    { description: "Second task TARGET", priority: 2, maxAttempts: 1 },
    { description: "Third task", priority: 1, maxAttempts: 1 },
  ]);
}

/** No process of any agent of this test is left. */
function agentProcessesLeft(agentIds: readonly string[]): number[] {
  const left: number[] = [];
  for (const [pid, id] of findEnvValues(AGENT_ID_ENV)) if (agentIds.includes(id)) left.push(pid);
  return left;
}

describe("the runner's error boundary", () => {
  it("a task cancelled between its claim and its agent's start is dropped; the run goes on", async () => {
    let cancelled: string | null = null;
    const h = harness({
      maxAgents: 1,
      // Another terminal cancels the target task the moment this worker has claimed it.
      wrap: (store, other) => {
        const cancelOnClaim = async (claimed: Task | null) => {
          if (claimed?.description.includes("TARGET") && !cancelled) {
            cancelled = claimed.id;
            await other.cancel(claimed.id);
          }
        };
        return interceptStore(store, {
          claimTask: async (original, args) => {
            const claimed = (await original(...args)) as Task | null;
            await cancelOnClaim(claimed);
            return claimed;
          },
          finishAgent: async (original, args) => {
            const result = (await original(...args)) as { next: Task | null };
            await cancelOnClaim(result.next);
            return result;
          },
        });
      },
    });
    const [first, target, third] = await threeTasks(h.queue);
    const summary = await h.runner.run();
    assert.equal(cancelled, target?.id, "the injection hit the target task");
    assert.deepEqual(
      { completed: summary.completed, failed: summary.failed, cancelled: summary.cancelled },
      { completed: 2, failed: 0, cancelled: 1 },
    );
    assert.equal((await h.queue.get(first?.id ?? "")).status, "completed");
    assert.equal((await h.queue.get(third?.id ?? "")).status, "completed");
    assert.equal((await h.queue.get(target?.id ?? "")).status, "cancelled");
    assert.deepEqual(await h.queue.agentRunsOf(target?.id ?? ""), [], "no agent run recorded");
    const notStarted = h.events.filter((e) => e.type === "task:not-started");
    assert.equal(notStarted.length, 1);
    assert.equal(notStarted[0]?.type === "task:not-started" && notStarted[0].result, "cancelled");
    const started = h.events.flatMap((e) => (e.type === "agent:started" ? [e.agent.agentId] : []));
    assert.deepEqual(agentProcessesLeft(started), []);
  });

  it("a backend that throws while building its command fails that task only", async () => {
    const throwing: AgentBackend = {
      ...quick,
      command(request) {
        if (request.prompt.includes("TARGET")) throw new Error("no template for this task");
        return quick.command(request);
      },
    };
    const h = harness({ backend: throwing });
    const [first, target, third] = await threeTasks(h.queue);
    const summary = await h.runner.run();
    assert.deepEqual([summary.completed, summary.failed], [2, 1]);
    const failed = await h.queue.get(target?.id ?? "");
    assert.equal(failed.status, "failed");
    assert.match(failed.error ?? "", /could not start its agent: no template for this task/);
    assert.equal((await h.queue.get(first?.id ?? "")).status, "completed");
    assert.equal((await h.queue.get(third?.id ?? "")).status, "completed");
  });

  it("a scratch directory that cannot be made fails the tasks with the reason, and the run ends normally", async () => {
    const h = harness();
    // A file where the scratch directory should be: no agent can get its scratch dir.
    writeFileSync(join(h.dir, ".orchestrator", "scratch"), "not a directory");
    await threeTasks(h.queue);
    const summary = await h.runner.run();
    assert.deepEqual([summary.completed, summary.failed], [0, 3]);
    for (const task of await h.queue.list()) {
      assert.equal(task.status, "failed");
      assert.match(task.error ?? "", /could not start its agent: .*(ENOTDIR|EEXIST)/);
    }
  });

  it("a backend the resolver refuses fails that task without a retry", async () => {
    const h = harness();
    const refusing = new Runner({
      ...h.runner.options,
      resolveBackend: (task) => {
        if (task.description.includes("TARGET")) throw new Error("backend 'nope' cannot run here");
        return quick;
      },
    });
    const [, target] = await h.queue.addMany([
      { description: "First task", maxAttempts: 3 },
      { description: "Second task TARGET", maxAttempts: 3 },
    ]);
    const summary = await refusing.run();
    assert.deepEqual([summary.completed, summary.failed], [1, 1]);
    const failed = await h.queue.get(target?.id ?? "");
    assert.equal(failed.status, "failed", "not retried: the configuration would refuse it again");
    assert.equal(failed.attempts, 1);
    assert.match(failed.error ?? "", /cannot run: backend 'nope' cannot run here/);
  });
});

describe("the runner's bookkeeping tick", () => {
  it("never overlaps itself, even when the store is slower than the tick interval", async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const slow = makeCustomBackend({
      name: "slow",
      binary: process.execPath,
      args: ["-e", "setTimeout(() => console.log('slept'), 1500)"],
      outputFormat: "text",
    });
    const h = harness({
      backend: slow,
      wrap: (store) =>
        interceptStore(store, {
          recordProgress: async (original, args) => {
            calls++;
            inFlight++;
            most = Math.max(most, inFlight);
            // Four times the 200 ms tick of a 600 ms lease: overlapping ticks would pile up.
            await new Promise((r) => setTimeout(r, 800));
            try {
              return await original(...args);
            } finally {
              inFlight--;
            }
          },
        }),
    });
    // The reaper runs as usual: the worker's own leases lapse between slow renewals, and it must
    // neither reap them itself nor start the task a second time.
    const leased = new Runner({
      ...h.runner.options,
      queue: new TaskQueue({ store: h.store, leaseMs: 600, reapIntervalMs: 100 }),
    });
    const task = await h.queue.add({ description: "Sleeps a while", maxAttempts: 2 });
    const summary = await leased.run();
    assert.deepEqual([summary.completed, summary.retried], [1, 0]);
    assert.ok(calls >= 2, "the tick ran while the agent slept");
    assert.equal(most, 1, "one tick at a time");
    const kinds = (await h.queue.eventsOf(task.id, 100)).map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === "agent:started").length, 1, kinds.join(" "));
    assert.equal(kinds.filter((k) => k === "task:lease_expired").length, 0, kinds.join(" "));
  });

  it("keeps renewing the other agents' leases while it ends one that ignores SIGTERM", async () => {
    const stubborn = makeCustomBackend({
      name: "stubborn",
      binary: process.execPath,
      args: ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"],
      outputFormat: "text",
    });
    const patient = makeCustomBackend({
      name: "patient",
      binary: process.execPath,
      args: ["-e", "setTimeout(() => console.log('done'), 2500)"],
      outputFormat: "text",
    });
    const either: AgentBackend = {
      ...patient,
      command: (request) =>
        (request.prompt.includes("STUBBORN") ? stubborn : patient).command(request),
    };
    // A 900 ms lease, and ending the stubborn agent takes its 2 s grace period.
    const h = harness({ backend: either, leaseMs: 900, graceMs: 2_000 });
    const [innocent, cancelled] = await h.queue.addMany([
      { description: "Patient work", maxAttempts: 2 },
      { description: "Stubborn work STUBBORN", maxAttempts: 1 },
    ]);
    const running = h.runner.run();
    // Another worker reaps expired leases all along, and a person cancels the stubborn task.
    let reaping = true;
    const reaper = (async () => {
      while (reaping) {
        await h.other.reapExpired();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const deadline = Date.now() + 10_000;
    while (!h.events.some((e) => e.type === "agent:started" && e.agent.task.id === cancelled?.id)) {
      if (Date.now() > deadline) throw new Error("the stubborn agent did not start");
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.other.cancel(cancelled?.id ?? "");
    const summary = await running;
    reaping = false;
    await reaper;
    assert.deepEqual([summary.completed, summary.cancelled], [1, 1]);
    const kinds = (await h.queue.eventsOf(innocent?.id ?? "", 100)).map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === "agent:started").length, 1, kinds.join(" "));
    assert.ok(!kinds.includes("task:lease_expired"), kinds.join(" "));
  });
});
