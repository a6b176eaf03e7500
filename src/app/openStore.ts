import { existsSync } from "node:fs";
import { openSqliteStore } from "../adapters/store/sqlite/sqliteStore.ts";
import type { Config } from "../core/config.ts";
import type { Store } from "../ports/store.ts";

/**
 * Opens the store the configuration names: the one place that picks a Store adapter (SQLite in the
 * base dir today; a PostgreSQL URL will select its adapter here). With `create: false` a database that
 * does not exist yet is not created and `null` comes back, so that a read-only command run in the
 * wrong directory leaves no stray `.orchestrator/` behind.
 */
export function openStore(config: Config, options: { create: boolean }): Store | null {
  if (!options.create && !existsSync(config.dbPath)) return null;
  return openSqliteStore({ path: config.dbPath, busyTimeoutMs: config.busyTimeoutMs });
}
