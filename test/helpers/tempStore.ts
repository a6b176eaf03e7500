import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/adapters/store/sqlite/sqliteStore.ts";
import { TaskQueue, type TaskQueueOptions } from "../../src/core/taskQueue.ts";
import type { Store } from "../../src/ports/store.ts";

/** A real SQLite store file in a fresh temp dir; `dispose()` closes every connection and deletes it. */
export interface TempStore {
  dir: string;
  dbPath: string;
  store: Store;
  /** Another connection to the same file, as another process or terminal has; closed by `dispose()`. */
  another(options?: { busyTimeoutMs?: number }): Store;
  dispose(): Promise<void>;
}

/** A TempStore with a queue over it and an injected clock. */
export interface TempQueue extends TempStore {
  queue: TaskQueue;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  now(): number;
}

export function makeTempStore(options: { busyTimeoutMs?: number } = {}): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-test-"));
  const dbPath = join(dir, "tasks.db");
  const opened: Store[] = [];
  const open = (busyTimeoutMs = options.busyTimeoutMs ?? 5_000): Store => {
    const store = openSqliteStore({ path: dbPath, busyTimeoutMs });
    opened.push(store);
    return store;
  };
  return {
    dir,
    dbPath,
    store: open(),
    another: (another = {}) => open(another.busyTimeoutMs),
    dispose: async () => {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeTempQueue(
  options: Partial<TaskQueueOptions> & { realClock?: boolean } = {},
): TempQueue {
  const temp = makeTempStore();
  let now = 1_700_000_000_000;
  const clock = options.realClock ? Date.now : () => now;
  const queue = new TaskQueue({
    store: temp.store,
    clock,
    random: () => 0.5,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    reapIntervalMs: 0,
    ...options,
  });
  return {
    ...temp,
    queue,
    advance: (ms) => {
      now += ms;
    },
    now: () => clock(),
  };
}
