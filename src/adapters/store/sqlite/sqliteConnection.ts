import type { DatabaseSync, StatementSync } from "node:sqlite";
import { translateSqliteError } from "./sqliteDatabase.ts";

/**
 * One open SQLite database with its prepared statements and the two ways the store touches it: a write
 * transaction that takes the write lock up front (`BEGIN IMMEDIATE`, so concurrent processes queue on
 * the busy timeout instead of failing a lock upgrade half way) and a read. Every aggregate of the store
 * (tasks, agent runs, plans, events, cleanup) runs its statements through it, so a compound change of
 * several aggregates is still one transaction.
 */
export class SqliteConnection {
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #commits = 0;

  constructor(db: DatabaseSync, location: string) {
    this.#db = db;
    this.location = location;
  }

  /** Write transactions this connection committed: a diagnostic for benchmarks. */
  get commits(): number {
    return this.#commits;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** The statement for `sql`, prepared once per connection. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in a write transaction, taking the write lock first; rolls back on any error. */
  write<T>(fn: () => T): T {
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw translateSqliteError(error, this.location);
    }
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      this.#commits++;
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw translateSqliteError(error, this.location);
    }
  }

  /** Runs reads in one snapshot (a deferred transaction), so related rows come from one moment. */
  snapshot<T>(fn: () => T): T {
    return this.read(() => {
      this.#db.exec("BEGIN");
      try {
        return fn();
      } finally {
        this.#db.exec("COMMIT");
      }
    });
  }

  /** Runs a single read statement (autocommit), translating SQLite's errors. */
  read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw translateSqliteError(error, this.location);
    }
  }
}
