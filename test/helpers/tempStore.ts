import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore, type SqliteStore } from "../../src/adapters/store/sqlite/sqliteStore.ts";
import { TaskQueue, type TaskQueueOptions } from "../../src/core/taskQueue.ts";

/** A real SQLite file in a fresh temp dir, with a queue over it; `dispose()` closes and deletes it. */
export interface TempQueue {
  dir: string;
  dbPath: string;
  store: SqliteStore;
  queue: TaskQueue;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  now(): number;
  dispose(): Promise<void>;
}

export function makeTempQueue(
  options: Partial<TaskQueueOptions> & { realClock?: boolean } = {},
): TempQueue {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-test-"));
  const dbPath = join(dir, "tasks.db");
  const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 5_000 });
  let now = 1_700_000_000_000;
  const clock = options.realClock ? Date.now : () => now;
  const queue = new TaskQueue({
    store,
    clock,
    random: () => 0.5,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    reapIntervalMs: 0,
    ...options,
  });
  return {
    dir,
    dbPath,
    store,
    queue,
    advance: (ms) => {
      now += ms;
    },
    now: () => clock(),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
