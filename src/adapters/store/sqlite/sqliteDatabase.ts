import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ConfigError, ConflictError } from "../../../core/errors.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations/index.ts";

/** SQLite result codes we turn into user-facing errors. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

export interface OpenDatabaseOptions {
  path: string;
  /** How long a statement waits for another process's write lock before giving up. */
  busyTimeoutMs: number;
}

/**
 * Opens (creating if needed) the SQLite database at `path`, configured for many processes at once:
 * WAL (readers never wait for the writer), synchronous=NORMAL (durable at checkpoints, fast commits),
 * a busy timeout, foreign keys on; then brings the schema up to date.
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  ensureDirectory(dirname(options.path));
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw translateSqliteError(error, options.path);
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string } | undefined;
    if (mode?.journal_mode !== "wal") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    migrate(db, options.path);
    return db;
  } catch (error) {
    db.close();
    throw translateSqliteError(error, options.path);
  }
}

function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory())
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown";
    const why: Record<string, string> = {
      EACCES: "permission denied",
      EPERM: "operation not permitted",
      EROFS: "the file system is read-only",
      ENOTDIR: "a part of the path is a file, not a directory",
      EEXIST: "a file stands where the directory should be",
      ENOSPC: "the disk is full",
    };
    throw new ConfigError(`cannot use base directory ${dir}: ${why[code] ?? code}`, undefined, {
      cause: error,
      reason: "store-location-unusable",
    });
  }
}

/**
 * Applies missing migrations inside one IMMEDIATE transaction, re-reading the ledger after taking the
 * write lock so that processes starting together apply each migration exactly once.
 * Refuses a database written by a newer orchestrate.
 */
function migrate(db: DatabaseSync, path: string): void {
  let current = readSchemaVersion(db);
  if (current === LATEST_SCHEMA_VERSION) return;
  checkNotNewer(current, path);
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    current = readSchemaVersion(db);
    checkNotNewer(current, path);
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function readSchemaVersion(db: DatabaseSync): number {
  const ledger = db
    .prepare(
      "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
    .get();
  if (!ledger) return 0;
  const row = db
    .prepare("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
    .get() as {
    version: number;
  };
  return Number(row.version);
}

function checkNotNewer(version: number, path: string): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new ConfigError(
      `the database ${path} has schema version ${version}, newer than this orchestrate understands (${LATEST_SCHEMA_VERSION})`,
      undefined,
      { reason: "store-schema-newer" },
    );
  }
}

/** Maps SQLite's errors to our typed errors with advice; anything else passes through unchanged. */
export function translateSqliteError(error: unknown, path: string): unknown {
  const errcode = (error as { errcode?: number }).errcode;
  if (errcode === undefined || error instanceof ConfigError) return error;
  switch (errcode & 0xff) {
    case SQLITE_NOTADB:
      return new ConfigError(`${path} is not an SQLite database`, undefined, {
        cause: error,
        reason: "store-not-a-database",
      });
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new ConflictError(
        `the database ${path} is locked by another process and stayed locked past the busy timeout`,
        undefined,
        { cause: error, reason: "store-busy" },
      );
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return new ConfigError(
        `cannot write the database ${path}: ${(error as { errstr?: string }).errstr ?? "read-only"}`,
        undefined,
        { cause: error, reason: "store-unwritable" },
      );
    default:
      return error;
  }
}
