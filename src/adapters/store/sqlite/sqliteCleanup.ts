import type { AgentRun, Task } from "../../../core/task.ts";
import { TERMINAL_STATUSES } from "../../../core/taskStatus.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import type { SqliteEvents } from "./sqliteEvents.ts";
import { type DbAgentRun, type DbTask, sqlList, toAgentRun, toTask } from "./sqliteRows.ts";

const TERMINAL_SQL = sqlList(TERMINAL_STATUSES);
/** Tasks deleted per transaction: a long cleanup never holds the write lock for long. */
export const CLEANUP_CHUNK = 500;

/** Finding and deleting old finished tasks, never one an unfinished task still depends on. */
export class SqliteCleanup {
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;

  constructor(conn: SqliteConnection, events: SqliteEvents) {
    this.#conn = conn;
    this.#events = events;
  }

  candidates(before: number): { tasks: Task[]; keptForDependents: number } {
    const rows = this.#conn
      .stmt(`SELECT t.*, EXISTS (
            SELECT 1 FROM task_dependencies d JOIN tasks x ON x.id = d.task_id
             WHERE d.depends_on = t.id AND x.status NOT IN (${TERMINAL_SQL})) AS needed
          FROM tasks t WHERE t.status IN (${TERMINAL_SQL}) AND t.updated_at < ?
          ORDER BY t.updated_at`)
      .all(before) as unknown as (DbTask & { needed: number })[];
    const tasks = rows.filter((r) => !r.needed).map(toTask);
    return { tasks, keptForDependents: rows.length - tasks.length };
  }

  /**
   * Deletes one chunk of tasks with their events and agent runs (inside the caller's transaction),
   * only those that are still finished and needed by no unfinished task: one retried since the
   * candidates were read stays. A `tasks:deleted` event is written first: SQLite gives a new row the
   * highest id plus one, so without it, deleting the newest events would hand their ids out again and
   * a reader of the log past them would miss what comes next.
   */
  deleteChunk(ids: readonly string[], now: number): AgentRun[] {
    const still = JSON.stringify(
      (
        this.#conn
          .stmt(`SELECT t.id FROM tasks t WHERE t.id IN (SELECT value FROM json_each(?))
            AND t.status IN (${TERMINAL_SQL})
            AND NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks x ON x.id = d.task_id
                             WHERE d.depends_on = t.id AND x.status NOT IN (${TERMINAL_SQL}))`)
          .all(JSON.stringify(ids)) as { id: string }[]
      ).map((r) => r.id),
    );
    const count = (JSON.parse(still) as string[]).length;
    if (count === 0) return [];
    this.#events.append(now, "tasks:deleted", null, null, { tasks: count });
    const runs = (
      this.#conn
        .stmt("SELECT * FROM agent_runs WHERE task_id IN (SELECT value FROM json_each(?))")
        .all(still) as unknown as DbAgentRun[]
    ).map(toAgentRun);
    this.#conn
      .stmt("DELETE FROM events WHERE task_id IN (SELECT value FROM json_each(?))")
      .run(still);
    this.#conn
      .stmt("DELETE FROM agent_runs WHERE task_id IN (SELECT value FROM json_each(?))")
      .run(still);
    this.#conn.stmt("DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))").run(still);
    return runs;
  }
}
