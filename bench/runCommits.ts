// The run loop's commits per task: a real run (the app layer's startRun, as `orchestrate run` uses it,
// in this process) of tasks whose agent is `true`. The SQLite store counts the write transactions it
// commits; a Proxy counts the calls of each Store method that writes, to show where they come from.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { Session } from "../src/app/session.ts";
import { startRun } from "../src/app/startRun.ts";
import { loadAgentConfig } from "../src/core/agentConfig.ts";
import { loadConfig } from "../src/core/config.ts";
import type { WorkerProgress } from "../src/ports/store.ts";

/** Store methods that write (one transaction each), by name. */
const WRITES = new Set<string>([
  "insertTasks",
  "claimTask",
  "transitionTask",
  "startAgent",
  "finishAgent",
  "recordProgress",
  "deleteTasks",
  "insertPlan",
  "savePlanTasks",
  "appendPlanMessages",
  "setPlanStatus",
  "executePlan",
]);

export interface RunCommits {
  tasks: number;
  /** Write transactions the run committed. */
  commits: number;
  /** Calls of each Store method that writes (a claim that finds nothing commits nothing). */
  byMethod: Record<string, number>;
}

/** Runs `count` instant tasks at `maxAgents` and counts the commits the run made. */
export async function measureRunCommits(
  tmp: string,
  count: number,
  maxAgents: number,
): Promise<RunCommits> {
  const dir = mkdtempSync(join(tmp, "commits-"));
  const base = join(dir, ".orchestrator");
  mkdirSync(base);
  writeFileSync(
    join(base, "agents.json"),
    JSON.stringify({ backends: { instant: { binary: "true", args: [], outputFormat: "text" } } }),
  );
  const config = loadConfig({ env: { ORCHESTRATOR_BASE_DIR: base }, cwd: dir });
  const store = openSqliteStore({ path: config.dbPath, busyTimeoutMs: config.busyTimeoutMs });
  const setup = new Session(config, store, {});
  await setup.queue.addMany(
    Array.from({ length: count }, (_, i) => ({ description: `instant task ${i}`, maxAttempts: 1 })),
  );
  const byMethod: Record<string, number> = {};
  const counting = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (!WRITES.has(String(key))) return method;
      return (...args: unknown[]) => {
        // recordProgress with nothing to renew or save opens no transaction.
        const progress = args[0] as WorkerProgress;
        const idle =
          key === "recordProgress" && !progress.renew?.leases.length && !progress.agents?.length;
        if (!idle) byMethod[String(key)] = (byMethod[String(key)] ?? 0) + 1;
        return method(...args);
      };
    },
  });
  const before = store.commits;
  const session = new Session(config, counting, {});
  const run = await startRun(session, {
    agentConfig: loadAgentConfig(base),
    backend: "instant",
    follow: false,
    timeoutMs: 60_000,
    maxAgents,
    cwd: dir,
    env: process.env,
  });
  const summary = await run.done;
  const commits = store.commits - before;
  await store.close();
  if (summary.completed !== count) {
    throw new Error(`the commits run completed ${summary.completed} of ${count} tasks`);
  }
  return { tasks: count, commits, byMethod };
}
