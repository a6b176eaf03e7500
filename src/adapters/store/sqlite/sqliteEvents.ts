import type { TaskEvent } from "../../../core/task.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import { type DbEvent, toEvent } from "./sqliteRows.ts";

/** The append-only event log: written inside other aggregates' transactions, read by views and streams. */
export class SqliteEvents {
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  /** Appends one event (inside the caller's transaction). `data` without a defined value is stored as null. */
  append(
    at: number,
    kind: string,
    taskId: string | null,
    workerId: string | null,
    data?: object,
  ): void {
    const json =
      data && Object.values(data).some((v) => v !== undefined) ? JSON.stringify(data) : null;
    this.#conn
      .stmt("INSERT INTO events (at, kind, task_id, worker_id, data) VALUES (?, ?, ?, ?, ?)")
      .run(at, kind, taskId, workerId, json);
  }

  /** The latest `limit` events of a task, oldest first (index events_task, newest `limit` rows only). */
  forTask(taskId: string, limit: number): TaskEvent[] {
    return (
      this.#conn
        .stmt(`SELECT * FROM (SELECT * FROM events WHERE task_id = ? ORDER BY id DESC LIMIT ?)
          ORDER BY id`)
        .all(taskId, limit) as unknown as DbEvent[]
    ).map(toEvent);
  }

  /** Events after the cursor `afterId`, oldest first: a range scan of the primary key. */
  after(afterId: number, limit: number): TaskEvent[] {
    return (
      this.#conn
        .stmt("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?")
        .all(afterId, limit) as unknown as DbEvent[]
    ).map(toEvent);
  }
}
