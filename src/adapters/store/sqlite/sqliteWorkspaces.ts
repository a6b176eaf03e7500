import type { TaskWorkspace, WorkspaceSeed } from "../../../core/taskWorkspace.ts";
import { workspaceFromSeed } from "../../../core/taskWorkspace.ts";
import type { WorkspaceFilter } from "../../../ports/store.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import type { SqliteEvents } from "./sqliteEvents.ts";

interface DbWorkspace {
  task_id: string;
  grp: string;
  branch: string;
  base_commit: string;
  start_commit: string | null;
  head_commit: string | null;
  path: string | null;
  files_changed: string;
  state: string;
  merge_state: string;
  resolver_task_id: string | null;
  resolves: string | null;
  setup_log: string | null;
  verify_log: string | null;
  updated_at: number;
}

/**
 * Task workspaces (one row per task with a git branch). Written inside the transactions of the task
 * changes they belong to (submission, an agent's start and end) or on their own (a merge); a change of
 * worktree state or merge state logs `task:workspace`.
 */
export class SqliteWorkspaces {
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;

  constructor(conn: SqliteConnection, events: SqliteEvents) {
    this.#conn = conn;
    this.#events = events;
  }

  /** Records a new task's workspace (inside the insert's transaction). */
  insertSeed(taskId: string, seed: WorkspaceSeed, now: number): void {
    this.save(workspaceFromSeed(taskId, seed, now), false);
  }

  /** Inserts or replaces a workspace; logs `task:workspace` when its state or merge state changed. */
  save(ws: TaskWorkspace, logChange = true): void {
    const before = logChange ? this.get(ws.taskId) : null;
    this.#conn
      .stmt(`INSERT INTO task_workspaces
          (task_id, grp, branch, base_commit, start_commit, head_commit, path, files_changed, state, merge_state,
           resolver_task_id, resolves, setup_log, verify_log, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (task_id) DO UPDATE SET
            grp = excluded.grp, branch = excluded.branch, base_commit = excluded.base_commit,
            start_commit = excluded.start_commit,
            head_commit = excluded.head_commit, path = excluded.path,
            files_changed = excluded.files_changed, state = excluded.state,
            merge_state = excluded.merge_state, resolver_task_id = excluded.resolver_task_id,
            resolves = excluded.resolves, setup_log = excluded.setup_log,
            verify_log = excluded.verify_log, updated_at = excluded.updated_at`)
      .run(
        ws.taskId,
        ws.group,
        ws.branch,
        ws.baseCommit,
        ws.startCommit,
        ws.headCommit,
        ws.path,
        JSON.stringify(ws.filesChanged),
        ws.state,
        ws.merge,
        ws.resolverTaskId,
        ws.resolves ? JSON.stringify(ws.resolves) : null,
        ws.setupLog,
        ws.verifyLog,
        ws.updatedAt,
      );
    if (logChange && (before?.state !== ws.state || before?.merge !== ws.merge)) {
      this.#events.append(ws.updatedAt, "task:workspace", ws.taskId, null, {
        state: ws.state,
        merge: ws.merge,
        branch: ws.branch,
        head: ws.headCommit ?? undefined,
      });
    }
  }

  get(taskId: string): TaskWorkspace | null {
    const row = this.#conn.stmt("SELECT * FROM task_workspaces WHERE task_id = ?").get(taskId) as
      | DbWorkspace
      | undefined;
    return row ? toWorkspace(row) : null;
  }

  list(filter: WorkspaceFilter): TaskWorkspace[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.group !== undefined) {
      where.push("grp = ?");
      args.push(filter.group);
    }
    if (filter.taskIds !== undefined) {
      where.push("task_id IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.taskIds));
    }
    const sql = `SELECT * FROM task_workspaces${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
      ORDER BY updated_at, task_id`;
    return (this.#conn.stmt(sql).all(...args) as unknown as DbWorkspace[]).map(toWorkspace);
  }
}

function toWorkspace(row: DbWorkspace): TaskWorkspace {
  return {
    taskId: row.task_id,
    group: row.grp,
    branch: row.branch,
    baseCommit: row.base_commit,
    startCommit: row.start_commit,
    headCommit: row.head_commit,
    path: row.path,
    filesChanged: JSON.parse(row.files_changed) as string[],
    state: row.state as TaskWorkspace["state"],
    merge: row.merge_state as TaskWorkspace["merge"],
    resolverTaskId: row.resolver_task_id,
    resolves: row.resolves ? (JSON.parse(row.resolves) as TaskWorkspace["resolves"]) : null,
    setupLog: row.setup_log,
    verifyLog: row.verify_log,
    updatedAt: Number(row.updated_at),
  };
}
