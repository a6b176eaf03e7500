import { DatabaseSync, type SQLInputValue } from "node:sqlite";

/**
 * Test-only SQL on a store's SQLite file, through a connection of the test's own (the store's connection
 * is private). For the SQLite-specific checks only: schema, ledger, pragmas, locks. Behaviour that every
 * adapter shares is tested through the Store port, in the contract.
 */

/** Rows of one query, read on a read-only connection opened and closed around it. */
export function readSqliteFile<T = Record<string, unknown>>(
  path: string,
  sql: string,
  ...params: SQLInputValue[]
): T[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(sql)
      .all(...params)
      .map((row) => ({ ...row }) as T);
  } finally {
    db.close();
  }
}

/** Runs SQL that changes the file behind the store's back (a future schema version, an old schema). */
export function writeSqliteFile(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Takes the file's write lock, as another process in the middle of a long write would. */
export function holdWriteLock(path: string): { release(): void } {
  const db = new DatabaseSync(path);
  db.exec("BEGIN IMMEDIATE");
  return {
    release: () => {
      if (db.isTransaction) db.exec("ROLLBACK");
      db.close();
    },
  };
}
