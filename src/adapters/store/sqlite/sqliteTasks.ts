import type { SQLInputValue } from "node:sqlite";
import { ConflictError, NotFoundError } from "../../../core/errors.ts";
import type { DependencyInfo, NewTask, Task } from "../../../core/task.ts";
import { TASK_STATUSES, type TaskStatus } from "../../../core/taskStatus.ts";
import type {
  BlockedTask,
  ClaimRequest,
  HeldLease,
  TaskFilter,
  TaskPatch,
  TaskTransition,
} from "../../../ports/store.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import type { SqliteEvents } from "./sqliteEvents.ts";
import { type DbTask, sqlList, TASK_PATCH_COLUMNS, toDependency, toTask } from "./sqliteRows.ts";

/**
 * Tasks, their dependency edges and claims. Write methods run inside the caller's write transaction;
 * read methods are single statements. `unmet_deps` (a task's dependencies not completed yet) is a
 * derived counter kept here so that a claim is one indexed statement with no join; the Store contract
 * pins its behaviour.
 */
export class SqliteTasks {
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;
  /** Called after a task of a plan changed status, in the same transaction. */
  readonly #statusChanged: (planId: string, now: number) => void;

  constructor(
    conn: SqliteConnection,
    events: SqliteEvents,
    statusChanged: (planId: string, now: number) => void,
  ) {
    this.#conn = conn;
    this.#events = events;
    this.#statusChanged = statusChanged;
  }

  insert(tasks: readonly NewTask[], now: number): void {
    const insert = this.#conn.stmt(`INSERT INTO tasks
      (id, description, agent_type, status, priority, context, created_at, plan_id, attempts, max_attempts,
       timeout_ms, run_after, backend, updated_at, unmet_deps)
      VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`);
    const statusOf = this.#conn.stmt("SELECT status FROM tasks WHERE id = ?");
    const edge = this.#conn.stmt(
      "INSERT OR IGNORE INTO task_dependencies (task_id, depends_on) VALUES (?, ?)",
    );
    for (const task of tasks) {
      // A dependency named twice is one edge, so it must count once.
      const dependsOn = [...new Set(task.dependsOn)];
      let unmet = 0;
      for (const dep of dependsOn) {
        const row = statusOf.get(dep) as { status: string } | undefined;
        if (!row) {
          throw new NotFoundError(
            `task ${task.id.slice(0, 8)} depends on ${dep}, which does not exist`,
            undefined,
            { reason: "dependency-missing" },
          );
        }
        if (row.status !== "completed") unmet++;
      }
      try {
        insert.run(
          task.id,
          task.description,
          task.agentType,
          task.priority,
          task.context === null ? null : JSON.stringify(task.context),
          now,
          task.planId,
          task.maxAttempts,
          task.timeoutMs,
          now,
          task.backend,
          now,
          unmet,
        );
      } catch (error) {
        if ((error as { errcode?: number }).errcode === 1555 /* SQLITE_CONSTRAINT_PRIMARYKEY */) {
          throw new ConflictError(`a task with id ${task.id} already exists`, undefined, {
            reason: "task-exists",
          });
        }
        throw error;
      }
      for (const dep of dependsOn) edge.run(task.id, dep);
      this.#events.append(now, "task:submitted", task.id, null, {
        priority: task.priority,
        agentType: task.agentType,
        dependsOn: task.dependsOn.length > 0 ? task.dependsOn : undefined,
        planId: task.planId ?? undefined,
      });
    }
  }

  /**
   * Makes an existing task wait for another one as well (inside the caller's transaction): the edge,
   * and one more unmet dependency unless that task is complete already.
   */
  addDependency(taskId: string, dependsOn: string, now: number): void {
    const added = this.#conn
      .stmt("INSERT OR IGNORE INTO task_dependencies (task_id, depends_on) VALUES (?, ?)")
      .run(taskId, dependsOn);
    if (Number(added.changes) === 0) return;
    this.#conn
      .stmt(`UPDATE tasks SET unmet_deps = unmet_deps + 1, updated_at = ?
        WHERE id = ? AND (SELECT status FROM tasks WHERE id = ?) <> 'completed'`)
      .run(now, taskId, dependsOn);
  }

  /**
   * Whether a claim could find a task now, read without the write lock: an idle worker's poll then
   * costs a read instead of a write transaction that every other process would queue behind.
   */
  hasClaimable(now: number): boolean {
    return (
      this.#conn
        .stmt(`SELECT 1 FROM tasks INDEXED BY tasks_claimable
          WHERE status = 'pending' AND unmet_deps = 0 AND run_after <= ? LIMIT 1`)
        .get(now) !== undefined
    );
  }

  /** The claim, inside a write transaction. */
  claim(request: ClaimRequest): Task | null {
    // One statement picks and takes the task, so no other process can take it between the two.
    // The subquery walks the partial index tasks_claimable in claim order and stops at the first
    // task whose backoff is over. INDEXED BY, because without statistics the planner picks
    // tasks_status and sorts every pending task on each claim (measured: 6 ms a claim at 20k tasks).
    const row = this.#conn
      .stmt(`UPDATE tasks
        SET status = 'assigned', attempts = attempts + 1, worker_id = :worker, assigned_to = :worker,
            assigned_at = :now, lease_expires_at = :lease, updated_at = :now
      WHERE id = (SELECT id FROM tasks INDEXED BY tasks_claimable
                   WHERE status = 'pending' AND unmet_deps = 0 AND run_after <= :now
                   ORDER BY priority DESC, created_at, rowid LIMIT 1)
      RETURNING *`)
      .get({
        worker: request.workerId,
        now: request.now,
        lease: request.now + request.leaseMs,
      }) as DbTask | undefined;
    if (!row) return null;
    this.#events.append(request.now, "task:claimed", row.id, request.workerId, {
      attempt: row.attempts,
    });
    return toTask(row);
  }

  /** A guarded transition, inside a write transaction; null when the guard did not match. */
  transition(t: TaskTransition): Task | null {
    if (t.from.length === 0) return null;
    const patch = t.patch ?? {};
    const keys = (Object.keys(patch) as (keyof TaskPatch)[]).filter((k) => patch[k] !== undefined);
    const sets = [
      "status = :to",
      "updated_at = :now",
      ...keys.map((k) => `${TASK_PATCH_COLUMNS[k]} = :${k}`),
    ];
    const guards = [`id = :id`, `status IN (${sqlList(t.from)})`];
    if (t.workerId !== undefined) guards.push("worker_id = :guardWorker");
    if (t.agentId !== undefined) guards.push("assigned_to = :guardAgent");
    if (t.leaseExpiredBefore !== undefined) guards.push("lease_expires_at < :guardLease");
    const sql = `UPDATE tasks SET ${sets.join(", ")} WHERE ${guards.join(" AND ")} RETURNING *`;
    const params: Record<string, SQLInputValue> = { id: t.taskId, to: t.to, now: t.now };
    for (const k of keys) params[k] = patch[k] as SQLInputValue;
    if (t.workerId !== undefined) params["guardWorker"] = t.workerId;
    if (t.agentId !== undefined) params["guardAgent"] = t.agentId;
    if (t.leaseExpiredBefore !== undefined) params["guardLease"] = t.leaseExpiredBefore;

    const row = this.#conn.stmt(sql).get(params) as DbTask | undefined;
    if (!row) return null;
    if (t.to === "completed") {
      // Dependents keep a count of unfinished dependencies so the claim needs no join.
      this.#conn
        .stmt(`UPDATE tasks SET unmet_deps = unmet_deps - 1, updated_at = ?
          WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on = ?)`)
        .run(t.now, row.id);
    }
    // `from` only when the guard names one state: which of several the task left would cost a read
    // on every completion, and the task's previous event says it anyway.
    this.#events.append(t.now, t.event.kind, row.id, t.workerId ?? row.worker_id, {
      from: t.from.length === 1 ? t.from[0] : undefined,
      to: t.to,
      ...t.event.data,
    });
    // The guard never allows the target state itself, so the status did change.
    if (row.plan_id !== null && !t.from.includes(t.to)) this.#statusChanged(row.plan_id, t.now);
    return toTask(row);
  }

  /**
   * Renews the leases `workerId` still holds among `leases` (each still assigned to its agent, when one
   * is named); returns the ids of the tasks it no longer holds.
   */
  renewLeases(
    workerId: string,
    leases: readonly HeldLease[],
    leaseExpiresAt: number,
    now: number,
  ): string[] {
    const renew = this.#conn.stmt(`UPDATE tasks SET lease_expires_at = :lease, updated_at = :now
        WHERE id = :id AND worker_id = :worker AND status IN ('assigned', 'in_progress')
          AND (:agent IS NULL OR assigned_to = :agent)`);
    return leases
      .filter(
        (held) =>
          renew.run({
            lease: leaseExpiresAt,
            now,
            id: held.taskId,
            worker: workerId,
            agent: held.agentRunId ?? null,
          }).changes === 0,
      )
      .map((held) => held.taskId);
  }

  nextClaimableAt(): number | null {
    const row = this.#conn
      .stmt(`SELECT MIN(run_after) AS at FROM tasks INDEXED BY tasks_claimable
          WHERE status = 'pending' AND unmet_deps = 0`)
      .get() as { at: number | null };
    return row.at === null ? null : Number(row.at);
  }

  expiredLeases(now: number, limit: number): Task[] {
    return (
      this.#conn
        .stmt(`SELECT * FROM tasks INDEXED BY tasks_leased
            WHERE status IN ('assigned', 'in_progress') AND lease_expires_at < ?
            ORDER BY lease_expires_at LIMIT ?`)
        .all(now, limit) as unknown as DbTask[]
    ).map(toTask);
  }

  get(id: string): Task | null {
    const row = this.#conn.stmt("SELECT * FROM tasks WHERE id = ?").get(id) as DbTask | undefined;
    return row ? toTask(row) : null;
  }

  findIds(prefix: string, limit: number): string[] {
    // A range scan on the primary key: ids are lowercase hex, and 'g' sorts after every hex digit.
    return (
      this.#conn
        .stmt("SELECT id FROM tasks WHERE id >= ? AND id < ? ORDER BY id LIMIT ?")
        .all(prefix, `${prefix}g`, limit) as { id: string }[]
    ).map((r) => r.id);
  }

  list(filter: TaskFilter): Task[] {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (filter.status) {
      where.push("status = ?");
      params.push(filter.status);
    }
    if (filter.planId) {
      where.push("plan_id = ?");
      params.push(filter.planId);
    }
    const order = filter.newestFirst ? "DESC" : "ASC";
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at ${order}, rowid ${order} LIMIT ?`;
    return (this.#conn.stmt(sql).all(...params, filter.limit) as unknown as DbTask[]).map(toTask);
  }

  /** Counts per status, from `task_counts` (kept by migration 3's triggers): six rows, not a scan. */
  countByStatus(): Record<TaskStatus, number> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
      TaskStatus,
      number
    >;
    const rows = this.#conn.stmt("SELECT status, n FROM task_counts").all() as {
      status: TaskStatus;
      n: number;
    }[];
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  /** Counts per status of one plan's tasks (index tasks_plan). */
  countForPlan(planId: string): Partial<Record<TaskStatus, number>> {
    const counts: Partial<Record<TaskStatus, number>> = {};
    const rows = this.#conn
      .stmt("SELECT status, COUNT(*) AS n FROM tasks WHERE plan_id = ? GROUP BY status")
      .all(planId) as { status: TaskStatus; n: number }[];
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  blocked(limit: number): { count: number; tasks: BlockedTask[] } {
    const { n } = this.#conn
      .stmt(
        "SELECT COUNT(*) AS n FROM tasks INDEXED BY tasks_blocked WHERE status = 'pending' AND unmet_deps > 0",
      )
      .get() as { n: number };
    const rows = this.#conn
      .stmt(`SELECT id, description FROM tasks INDEXED BY tasks_blocked
          WHERE status = 'pending' AND unmet_deps > 0 ORDER BY created_at LIMIT ?`)
      .all(limit) as { id: string; description: string }[];
    const waiting = this.#conn.stmt(`SELECT t.id, t.description, t.status FROM task_dependencies d
          JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? AND t.status <> 'completed'
          ORDER BY t.created_at`);
    const tasks = rows.map((r) => ({
      id: r.id,
      description: r.description,
      waitingOn: (waiting.all(r.id) as unknown as DependencyInfo[]).map(toDependency),
    }));
    return { count: Number(n), tasks };
  }

  dependenciesOf(taskId: string): DependencyInfo[] {
    return (
      this.#conn
        .stmt(`SELECT t.id, t.description, t.status FROM task_dependencies d
            JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? ORDER BY t.created_at`)
        .all(taskId) as unknown as DependencyInfo[]
    ).map(toDependency);
  }

  dependentsOf(taskId: string): DependencyInfo[] {
    return (
      this.#conn
        .stmt(`SELECT t.id, t.description, t.status FROM task_dependencies d
            JOIN tasks t ON t.id = d.task_id WHERE d.depends_on = ? ORDER BY t.created_at`)
        .all(taskId) as unknown as DependencyInfo[]
    ).map(toDependency);
  }
}
