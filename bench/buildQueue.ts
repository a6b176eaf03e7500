// Builds large task queues quickly for the `status` benchmark, with direct SQL on a connection of its
// own once the store has created the schema (see buildQueue below for the shape of the queue).
import { statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { BUILTIN_AGENT_TYPES } from "../src/core/agentTypes.ts";
import { TASK_STATUSES } from "../src/core/taskStatus.ts";

/** The task statuses in the state machine's order (their index is how this file counts them). */
export const STATUS_NAMES: readonly string[] = TASK_STATUSES;
const STATUS = Object.fromEntries(TASK_STATUSES.map((s, i) => [s, i])) as Record<
  (typeof TASK_STATUSES)[number],
  number
>;
/** How many tasks are in flight (claimed) in a generated queue, whatever its size: a few agents run at once. */
export const IN_PROGRESS = 8;
export const ASSIGNED = 4;

/** A small seeded generator (mulberry32), so every run builds the same queue. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface BuiltQueue {
  seconds: number;
  /** Size of the database file after a checkpoint. */
  bytes: number;
  /** Tasks per status (keys of STATUS_NAMES). */
  counts: Record<string, number>;
  /** Pending tasks with a dependency not completed. */
  blocked: number;
  edges: number;
}

/**
 * Builds a queue of `n` tasks with direct SQL in one transaction, shaped like a long-lived queue: the
 * oldest 95% finished (97% completed, 2.5% failed, 0.5% cancelled), the newest 5% mostly pending with a
 * few in flight (the oldest of them, as the claim order would have it) and one running agent each; 5% of
 * tasks depend on one of the 1,000 tasks before them. Started or finished tasks only depend on completed
 * ones; `unmet_deps` counts the dependencies not completed, so a pending task waiting on an unfinished one
 * is blocked. Events are not generated: `status` never reads them.
 */
export function buildQueue(
  dir: string,
  n: number,
  progress: (rows: number) => void = () => {},
): BuiltQueue {
  const t0 = performance.now();
  const path = join(dir, "tasks.db");
  void openSqliteStore({ path, busyTimeoutMs: 30_000 }).close(); // creates and migrates the schema
  const db = new DatabaseSync(path, { timeout: 30_000 });
  db.exec("PRAGMA cache_size = -524288"); // 512 MiB, so the random-id index does not thrash while building
  const random = seeded(n);
  const status = new Uint8Array(n);
  const activeFrom = Math.floor(n * 0.95);
  for (let i = 0; i < n; i++) {
    if (i < activeFrom) {
      const r = random();
      status[i] = r < 0.97 ? STATUS.completed : r < 0.995 ? STATUS.failed : STATUS.cancelled;
    } else {
      const k = i - activeFrom;
      status[i] =
        k < IN_PROGRESS ? STATUS.in_progress : k < IN_PROGRESS + ASSIGNED ? STATUS.assigned : 0;
    }
  }
  const insertTask = db.prepare(`INSERT INTO tasks (id, description, agent_type, status, priority,
      context, created_at, assigned_at, completed_at, assigned_to, output, error, plan_id, attempts,
      max_attempts, timeout_ms, run_after, lease_expires_at, worker_id, backend, started_at, updated_at,
      cost_usd, input_tokens, output_tokens, session_id, unmet_deps)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertEdge = db.prepare(
    "INSERT INTO task_dependencies (task_id, depends_on) VALUES (?, ?)",
  );
  const insertRun = db.prepare(`INSERT INTO agent_runs (id, task_id, agent_type, backend, worker_id,
      host, pid, started_at) VALUES (?, ?, ?, 'claude-cli', ?, 'bench-host', ?, ?)`);
  const ids: string[] = new Array(n);
  const agentTypes = [null, ...BUILTIN_AGENT_TYPES.map((t) => t.name)];
  const priorities = [2, 2, 2, 2, 2, 3, 3, 1, 1, 4];
  const now = Date.now();
  const step = 500; // one task every half second: 1M tasks span about six days
  let edges = 0;
  let lastLog = performance.now();
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let i = 0; i < n; i++) {
      // Random first half (short ids stay unique, as with real ids), index in the second: no collisions.
      const id =
        Math.floor(random() * 0x1_0000_0000)
          .toString(16)
          .padStart(8, "0") + i.toString(16).padStart(8, "0");
      ids[i] = id;
      const s = status[i] ?? 0;
      let dep: string | null = null;
      let unmet = 0;
      if (i > 0 && random() < 0.05) {
        let j = Math.max(0, i - 1 - Math.floor(random() * 1_000));
        const claimed = s === STATUS.assigned || s === STATUS.in_progress;
        if (claimed || s === STATUS.completed || s === STATUS.failed) {
          const stop = Math.max(0, j - 50);
          while (j > stop && status[j] !== STATUS.completed) j--;
        }
        const depDone = status[j] === STATUS.completed;
        const needsDone = s !== STATUS.pending && s !== STATUS.cancelled;
        if (depDone || !needsDone) {
          dep = ids[j] ?? null;
          unmet = depDone ? 0 : 1;
        }
      }
      const created = now - (n - i) * step - 60_000;
      const finished = s === STATUS.completed || s === STATUS.failed || s === STATUS.cancelled;
      const ran = s !== STATUS.pending && s !== STATUS.cancelled;
      const assignedAt = ran ? created + 400 : null;
      const startedAt = ran && s !== STATUS.assigned ? created + 900 : null;
      const completedAt = finished ? created + 45_000 + Math.floor(random() * 600_000) : null;
      const worker = ran ? `bench-host:${1000 + (i % 7)}:a1b2c3` : null;
      const agentType = agentTypes[i % agentTypes.length] ?? null;
      insertTask.run(
        id,
        `Benchmark task ${i}: add input validation to the orders endpoint and cover it with tests`,
        agentType,
        STATUS_NAMES[s] ?? "pending",
        priorities[i % priorities.length] ?? 2,
        i % 10 === 0 ? JSON.stringify({ repo: "api", branch: `feature/${i % 97}` }) : null,
        created,
        assignedAt,
        completedAt,
        ran ? `agent-${id.slice(0, 6)}` : null,
        s === STATUS.completed
          ? `Added validation for quantity and currency; 12 new tests pass. See branch feature/${i % 97}.`
          : null,
        s === STATUS.failed
          ? "agent exited with code 1: tests failed (3 of 40)"
          : s === STATUS.cancelled
            ? "cancelled by user"
            : null,
        i % 5 === 0 ? `plan-${Math.floor(i / 50)}` : null,
        s === STATUS.failed ? 3 : ran ? 1 : 0,
        3,
        i % 4 === 0 ? 1_800_000 : null,
        created,
        s === STATUS.assigned || s === STATUS.in_progress ? now + 600_000 : null,
        worker,
        ran ? "claude-cli" : null,
        startedAt,
        completedAt ?? startedAt ?? assignedAt ?? created,
        s === STATUS.completed ? 0.02 + (i % 50) / 100 : null,
        s === STATUS.completed ? 20_000 + (i % 1000) * 10 : null,
        s === STATUS.completed ? 3_000 + (i % 500) * 4 : null,
        ran ? `session-${id}` : null,
        unmet,
      );
      if (dep !== null) {
        insertEdge.run(id, dep);
        edges++;
      }
      if (s === STATUS.in_progress) {
        insertRun.run(
          `run-${id}`,
          id,
          agentType,
          worker,
          40_000 + (i % 1000),
          startedAt ?? created,
        );
      }
      if ((i + 1) % 100_000 === 0 || performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        progress(i + 1);
      }
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");

  // Check the generated queue is consistent before timing anything on it.
  const count = (sql: string): number =>
    Number((db.prepare(sql).get() as { n: number | bigint } | undefined)?.n ?? Number.NaN);
  const wrong = count(
    `SELECT COUNT(*) AS n FROM tasks t WHERE unmet_deps <> (SELECT COUNT(*) FROM task_dependencies d
       JOIN tasks x ON x.id = d.depends_on WHERE d.task_id = t.id AND x.status <> 'completed')`,
  );
  if (wrong !== 0) throw new Error(`${wrong} generated tasks have an inconsistent unmet_deps`);
  const blocked = count(
    "SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending' AND unmet_deps > 0",
  );
  const counted = db.prepare("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status").all() as {
    status: string;
    n: number;
  }[];
  const counts: Record<string, number> = {};
  for (const name of STATUS_NAMES) {
    counts[name] = Number(counted.find((c) => c.status === name)?.n ?? 0);
  }
  db.close();
  const bytes = statSync(join(dir, "tasks.db")).size;
  return { seconds: (performance.now() - t0) / 1000, bytes, counts, blocked, edges };
}
