import { existsSync } from "node:fs";
import { openSqliteStore } from "../adapters/store/sqlite/sqliteStore.ts";
import { type Config, type ConfigFlags, loadConfig } from "../core/config.ts";
import { TaskQueue } from "../core/taskQueue.ts";

/** Options every command accepts (defined on the root program). */
export interface GlobalOptions {
  baseDir?: string;
  maxAgents?: string;
  busyTimeout?: string;
  debug?: boolean;
}

/** The configuration for this invocation: environment, `.env` in the working directory, flags. */
export function configFrom(globals: GlobalOptions): Config {
  const flags: ConfigFlags = {};
  if (globals.baseDir !== undefined) flags.baseDir = globals.baseDir;
  if (globals.busyTimeout !== undefined) flags.busyTimeoutMs = globals.busyTimeout;
  if (globals.maxAgents !== undefined) flags.maxAgents = globals.maxAgents;
  return loadConfig({ env: process.env, cwd: process.cwd(), flags });
}

/**
 * Opens the queue for one command and closes it afterwards. With `create: false` (read-only commands)
 * a missing database is not created: `fn` receives `null`, so that `status` in the wrong directory does
 * not leave a stray `.orchestrator/` behind.
 */
export async function withQueue<T>(
  config: Config,
  options: { create: boolean; leaseMs?: number },
  fn: (queue: TaskQueue | null) => Promise<T>,
): Promise<T> {
  if (!options.create && !existsSync(config.dbPath)) return fn(null);
  const store = openSqliteStore({ path: config.dbPath, busyTimeoutMs: config.busyTimeoutMs });
  try {
    return await fn(
      new TaskQueue(
        options.leaseMs === undefined ? { store } : { store, leaseMs: options.leaseMs },
      ),
    );
  } finally {
    await store.close();
  }
}
