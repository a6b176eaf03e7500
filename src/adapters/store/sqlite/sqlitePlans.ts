import { ConflictError, NotFoundError } from "../../../core/errors.ts";
import type {
  Plan,
  PlanMessage,
  PlannedTask,
  PlanStatus,
  PlanSummary,
} from "../../../core/plan.ts";
import { planStatusFollowingTasks } from "../../../core/planProgress.ts";
import type { TaskStatus } from "../../../core/taskStatus.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import type { SqliteEvents } from "./sqliteEvents.ts";
import {
  type DbPlan,
  type DbPlanTask,
  numberOrNull,
  toPlanMessage,
  toPlannedTask,
  toPlanStatus,
} from "./sqliteRows.ts";

/**
 * Planning sessions: a plan row, its planned tasks and its discussion. `version` counts every change
 * so that an edit or approval based on an older reading is refused. Methods run inside the caller's
 * transaction.
 */
export class SqlitePlans {
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;

  constructor(conn: SqliteConnection, events: SqliteEvents) {
    this.#conn = conn;
    this.#events = events;
  }

  insert(plan: Plan): void {
    if (this.#conn.stmt("SELECT 1 FROM plans WHERE id = ?").get(plan.id)) {
      throw new ConflictError(`a plan with id ${plan.id} already exists`, undefined, {
        reason: "plan-exists",
      });
    }
    this.#conn
      .stmt(`INSERT INTO plans (id, goal, status, planner, version, created_at, updated_at, approved_at,
          executed_at, isolation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        plan.id,
        plan.goal,
        plan.status,
        plan.planner,
        plan.version,
        plan.createdAt,
        plan.updatedAt,
        plan.approvedAt,
        plan.executedAt,
        plan.isolation ?? null,
      );
    this.#writeTasks(plan.id, plan.tasks);
    for (const m of plan.discussion) this.#insertMessage(plan.id, m);
    this.#events.append(plan.createdAt, "plan:created", null, null, {
      planId: plan.id,
      status: plan.status,
      tasks: plan.tasks.length,
    });
  }

  get(id: string): Plan | null {
    const row = this.#conn.stmt("SELECT * FROM plans WHERE id = ?").get(id) as DbPlan | undefined;
    if (!row) return null;
    const tasks = (
      this.#conn
        .stmt("SELECT * FROM plan_tasks WHERE plan_id = ? ORDER BY position")
        .all(id) as unknown as DbPlanTask[]
    ).map(toPlannedTask);
    const discussion = (
      this.#conn
        .stmt("SELECT at, role, content FROM plan_messages WHERE plan_id = ? ORDER BY id")
        .all(id) as { at: number; role: string; content: string }[]
    ).map(toPlanMessage);
    return {
      id: row.id,
      goal: row.goal,
      status: toPlanStatus(row.status),
      planner: row.planner,
      version: Number(row.version),
      tasks,
      discussion,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
      approvedAt: numberOrNull(row.approved_at),
      executedAt: numberOrNull(row.executed_at),
      isolation: row.isolation === "worktree" || row.isolation === "none" ? row.isolation : null,
    };
  }

  findIds(prefix: string, limit: number): string[] {
    return (
      this.#conn
        .stmt("SELECT id FROM plans WHERE id >= ? AND id < ? ORDER BY id LIMIT ?")
        .all(prefix, `${prefix}g`, limit) as { id: string }[]
    ).map((r) => r.id);
  }

  list(limit: number, statuses?: readonly PlanStatus[]): PlanSummary[] {
    const where = statuses ? "WHERE p.status IN (SELECT value FROM json_each(?))" : "";
    const params = statuses ? [JSON.stringify(statuses), limit] : [limit];
    const rows = this.#conn
      .stmt(`SELECT p.*, (SELECT COUNT(*) FROM plan_tasks WHERE plan_id = p.id) AS task_count
          FROM plans p ${where} ORDER BY created_at DESC, id LIMIT ?`)
      .all(...params) as unknown as (DbPlan & { task_count: number })[];
    const counts = this.#conn.stmt(
      "SELECT status, COUNT(*) AS n FROM tasks WHERE plan_id = ? GROUP BY status",
    );
    return rows.map((row) => {
      const queued: Record<string, number> = {};
      for (const c of counts.all(row.id) as { status: string; n: number }[]) {
        queued[c.status] = Number(c.n);
      }
      return {
        id: row.id,
        goal: row.goal,
        status: toPlanStatus(row.status),
        taskCount: Number(row.task_count),
        queued,
        createdAt: Number(row.created_at),
        updatedAt: Number(row.updated_at),
      };
    });
  }

  /** Replaces a draft's tasks, refusing a plan that is no longer a draft or changed since it was read. */
  saveTasks(
    planId: string,
    tasks: readonly PlannedTask[],
    now: number,
    expectedVersion?: number,
  ): void {
    const status = this.status(planId);
    if (status !== "draft") {
      throw new ConflictError(
        `plan ${planId.slice(0, 8)} is ${status}; only a draft plan can be changed`,
        undefined,
        { reason: "plan-not-draft" },
      );
    }
    this.#checkVersion(planId, expectedVersion);
    this.#conn.stmt("DELETE FROM plan_tasks WHERE plan_id = ?").run(planId);
    this.#writeTasks(planId, tasks);
    this.#touch(planId, now);
  }

  appendMessages(planId: string, messages: readonly PlanMessage[]): void {
    this.status(planId);
    for (const m of messages) this.#insertMessage(planId, m);
    const last = messages.at(-1);
    if (last) this.#touch(planId, last.at);
  }

  setStatus(
    planId: string,
    from: readonly PlanStatus[],
    to: PlanStatus,
    now: number,
    expectedVersion?: number,
  ): Plan | null {
    const current = this.status(planId);
    this.#checkVersion(planId, expectedVersion);
    const changed = this.#conn
      .stmt(`UPDATE plans SET status = ?, updated_at = ?, version = version + 1,
          approved_at = CASE WHEN ? = 'approved' THEN ? ELSE approved_at END
        WHERE id = ? AND status IN (SELECT value FROM json_each(?))`)
      .run(to, now, to, now, planId, JSON.stringify(from));
    if (changed.changes === 0) return null;
    if (current !== to) this.#logStatus(planId, current, to, now);
    return this.get(planId);
  }

  /** Links each planned task to its queued task and marks the plan executing (after the inserts). */
  markExecuting(planId: string, links: readonly { key: string; id: string }[], now: number): void {
    const link = this.#conn.stmt("UPDATE plan_tasks SET task_id = ? WHERE plan_id = ? AND key = ?");
    for (const t of links) link.run(t.id, planId, t.key);
    const from = this.status(planId);
    this.#conn
      .stmt(
        "UPDATE plans SET status = 'executing', executed_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
      )
      .run(now, now, planId);
    this.#logStatus(planId, from, "executing", now);
  }

  /**
   * An executed plan follows its tasks: called after one of its tasks changed status, in the same
   * transaction. Core decides the status; this applies it and logs `plan:<status>` when it moved.
   */
  followTasks(planId: string, counts: Partial<Record<TaskStatus, number>>, now: number): void {
    const row = this.#conn.stmt("SELECT status FROM plans WHERE id = ?").get(planId) as
      | { status: string }
      | undefined;
    if (!row) return;
    const current = toPlanStatus(row.status);
    const next = planStatusFollowingTasks(current, counts);
    if (next === current) return;
    this.#conn
      .stmt("UPDATE plans SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?")
      .run(next, now, planId);
    this.#logStatus(planId, current, next, now);
  }

  /** The plan's status; NotFoundError when there is no such plan. */
  status(planId: string): PlanStatus {
    const row = this.#conn.stmt("SELECT status FROM plans WHERE id = ?").get(planId) as
      | { status: string }
      | undefined;
    if (!row) throw new NotFoundError(`no plan ${planId}`, undefined, { reason: "plan-missing" });
    return toPlanStatus(row.status);
  }

  /** Refuses a write based on a reading older than the plan's current version. */
  #checkVersion(planId: string, expectedVersion: number | undefined): void {
    if (expectedVersion === undefined) return;
    const row = this.#conn.stmt("SELECT version FROM plans WHERE id = ?").get(planId) as {
      version: number;
    };
    if (Number(row.version) !== expectedVersion) {
      throw new ConflictError(
        `plan ${planId.slice(0, 8)} was changed in another session meanwhile`,
        undefined,
        { reason: "plan-changed" },
      );
    }
  }

  #touch(planId: string, now: number): void {
    this.#conn
      .stmt("UPDATE plans SET updated_at = ?, version = version + 1 WHERE id = ?")
      .run(now, planId);
  }

  #logStatus(planId: string, from: PlanStatus, to: PlanStatus, now: number): void {
    this.#events.append(now, `plan:${to}`, null, null, { planId, from });
  }

  #writeTasks(planId: string, tasks: readonly PlannedTask[]): void {
    const insert = this.#conn.stmt(`INSERT INTO plan_tasks
      (plan_id, key, position, phase, description, agent_type, priority, depends_on, task_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    tasks.forEach((t, position) => {
      insert.run(
        planId,
        t.key,
        position,
        t.phase,
        t.description,
        t.agentType,
        t.priority,
        JSON.stringify(t.dependsOn),
        t.taskId ?? null,
      );
    });
  }

  #insertMessage(planId: string, m: PlanMessage): void {
    this.#conn
      .stmt("INSERT INTO plan_messages (plan_id, at, role, content) VALUES (?, ?, ?, ?)")
      .run(planId, m.at, m.role, m.content);
  }
}
