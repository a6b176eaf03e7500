import type { SQLInputValue } from "node:sqlite";
import type { AgentRun, AgentRunPatch } from "../../../core/task.ts";
import type { AgentProgress } from "../../../ports/store.ts";
import type { SqliteConnection } from "./sqliteConnection.ts";
import type { SqliteEvents } from "./sqliteEvents.ts";
import { AGENT_RUN_PATCH_COLUMNS, type DbAgentRun, toAgentRun } from "./sqliteRows.ts";

/**
 * One row per spawned agent process. Rows are written inside the transaction of the task change they
 * belong to (see SqliteStore.startAgent and finishAgent); `orchestrate agents` and `kill` read them
 * from any terminal.
 */
export class SqliteAgentRuns {
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;

  constructor(conn: SqliteConnection, events: SqliteEvents) {
    this.#conn = conn;
    this.#events = events;
  }

  /** Records a spawned agent and logs `agent:started` (inside the caller's transaction). */
  insert(run: AgentRun): void {
    this.#conn
      .stmt(`INSERT INTO agent_runs
          (id, task_id, agent_type, backend, worker_id, host, pid, started_at, ended_at, exit_code, end_reason,
           output_path, run_id, last_activity_at, last_activity, raw_path)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        run.id,
        run.taskId,
        run.agentType,
        run.backend,
        run.workerId,
        run.host,
        run.pid,
        run.startedAt,
        run.endedAt,
        run.exitCode,
        run.endReason,
        run.outputPath,
        run.runId,
        run.lastActivityAt,
        run.lastActivity,
        run.rawPath,
      );
    this.#events.append(run.startedAt, "agent:started", run.taskId, run.workerId, {
      agentId: run.id,
      backend: run.backend,
      pid: run.pid ?? undefined,
    });
  }

  /**
   * Closes a run that is still open and logs `agent:ended`, once. A run another process closed already
   * (a `kill` from another terminal) keeps its end and reason; what the agent reported fills the
   * fields that close left empty (exit code, usage, session, last activity), with no second event.
   * Returns whether this call closed it.
   */
  end(id: string, end: AgentRunPatch & { endedAt: number }): boolean {
    const keys = patchKeys(end);
    const row = this.#conn
      .stmt(`UPDATE agent_runs SET ${keys.map((k) => `${AGENT_RUN_PATCH_COLUMNS[k]} = :${k}`).join(", ")}
        WHERE id = :id AND ended_at IS NULL RETURNING task_id, worker_id`)
      .get(params(id, end, keys)) as { task_id: string; worker_id: string } | undefined;
    if (!row) {
      const reported = keys.filter((k) => k !== "endedAt" && k !== "endReason");
      if (reported.length > 0) {
        this.#conn
          .stmt(
            `UPDATE agent_runs SET ${reported
              .map(
                (k) =>
                  `${AGENT_RUN_PATCH_COLUMNS[k]} = COALESCE(${AGENT_RUN_PATCH_COLUMNS[k]}, :${k})`,
              )
              .join(", ")} WHERE id = :id`,
          )
          .run(params(id, end, reported));
      }
      return false;
    }
    this.#events.append(end.endedAt, "agent:ended", row.task_id, row.worker_id, {
      agentId: id,
      exitCode: end.exitCode ?? undefined,
      reason: end.endReason ?? undefined,
    });
    return true;
  }

  /** Saves a live run's latest activity (no event: activity is not history). */
  saveProgress(progress: AgentProgress): void {
    const patch: AgentRunPatch = {};
    if (progress.lastActivity !== undefined) patch.lastActivity = progress.lastActivity;
    if (progress.lastActivityAt !== undefined) patch.lastActivityAt = progress.lastActivityAt;
    const keys = patchKeys(patch);
    if (keys.length === 0) return;
    this.#conn
      .stmt(`UPDATE agent_runs SET ${keys.map((k) => `${AGENT_RUN_PATCH_COLUMNS[k]} = :${k}`).join(", ")}
        WHERE id = :id AND ended_at IS NULL`)
      .run(params(progress.agentRunId, patch, keys));
  }

  running(): AgentRun[] {
    return (
      this.#conn
        .stmt("SELECT * FROM agent_runs WHERE ended_at IS NULL ORDER BY started_at")
        .all() as unknown as DbAgentRun[]
    ).map(toAgentRun);
  }

  forTask(taskId: string): AgentRun[] {
    return (
      this.#conn
        .stmt("SELECT * FROM agent_runs WHERE task_id = ? ORDER BY started_at")
        .all(taskId) as unknown as DbAgentRun[]
    ).map(toAgentRun);
  }
}

function patchKeys(patch: AgentRunPatch): (keyof AgentRunPatch)[] {
  return (Object.keys(patch) as (keyof AgentRunPatch)[]).filter(
    (k) => k in AGENT_RUN_PATCH_COLUMNS && patch[k] !== undefined,
  );
}

function params(
  id: string,
  patch: AgentRunPatch,
  keys: readonly (keyof AgentRunPatch)[],
): Record<string, SQLInputValue> {
  const values: Record<string, SQLInputValue> = { id };
  for (const k of keys) values[k] = patch[k] as SQLInputValue;
  return values;
}
