import type { PlanMessage, PlannedTask, PlanStatus } from "../../../core/plan.ts";
import type {
  AgentRun,
  AgentRunPatch,
  DependencyInfo,
  Task,
  TaskEvent,
} from "../../../core/task.ts";
import type { TaskStatus } from "../../../core/taskStatus.ts";
import type { TaskPatch } from "../../../ports/store.ts";

/**
 * Rows as SQLite returns them (`Db*`, snake_case columns, integers that may come back as bigint), and
 * their mapping to the domain types. Nothing outside the SQLite adapter sees a `Db*` type.
 */

/** A row of `tasks`. */
export interface DbTask {
  id: string;
  description: string;
  agent_type: string | null;
  status: string;
  priority: number;
  context: string | null;
  created_at: number;
  assigned_at: number | null;
  completed_at: number | null;
  assigned_to: string | null;
  output: string | null;
  error: string | null;
  plan_id: string | null;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_after: number;
  lease_expires_at: number | null;
  worker_id: string | null;
  backend: string | null;
  started_at: number | null;
  updated_at: number;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  session_id: string | null;
  unmet_deps: number;
}

/** A row of `plans`. */
export interface DbPlan {
  id: string;
  goal: string;
  status: string;
  planner: string;
  version: number;
  created_at: number;
  updated_at: number;
  approved_at: number | null;
  executed_at: number | null;
  isolation: string | null;
}

/** A row of `plan_tasks`. */
export interface DbPlanTask {
  plan_id: string;
  key: string;
  position: number;
  phase: string;
  description: string;
  agent_type: string;
  priority: number;
  depends_on: string;
  task_id: string | null;
}

/** A row of `events`. */
export interface DbEvent {
  id: number;
  at: number;
  kind: string;
  task_id: string | null;
  worker_id: string | null;
  data: string | null;
}

/** A row of `agent_runs`. */
export interface DbAgentRun {
  id: string;
  task_id: string;
  agent_type: string | null;
  backend: string;
  worker_id: string;
  host: string;
  pid: number | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  end_reason: string | null;
  output_path: string | null;
  run_id: string | null;
  last_activity_at: number | null;
  last_activity: string | null;
  raw_path: string | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  session_id: string | null;
}

/** Domain field -> column, for the columns a task transition may patch. */
export const TASK_PATCH_COLUMNS: Record<keyof TaskPatch, string> = {
  output: "output",
  error: "error",
  runAfter: "run_after",
  attempts: "attempts",
  leaseExpiresAt: "lease_expires_at",
  workerId: "worker_id",
  assignedTo: "assigned_to",
  assignedAt: "assigned_at",
  startedAt: "started_at",
  completedAt: "completed_at",
  backend: "backend",
  costUsd: "cost_usd",
  inputTokens: "input_tokens",
  outputTokens: "output_tokens",
  sessionId: "session_id",
};

/** Agent-run field -> column, for updates. */
export const AGENT_RUN_PATCH_COLUMNS: Record<keyof AgentRunPatch, string> = {
  pid: "pid",
  endedAt: "ended_at",
  exitCode: "exit_code",
  endReason: "end_reason",
  lastActivityAt: "last_activity_at",
  lastActivity: "last_activity",
  costUsd: "cost_usd",
  inputTokens: "input_tokens",
  outputTokens: "output_tokens",
  sessionId: "session_id",
};

/** A literal SQL list of strings: only ever built from the state machine's own constants. */
export function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ");
}

export function numberOrNull(value: number | bigint | null): number | null {
  return value === null ? null : Number(value);
}

export function toTask(row: DbTask): Task {
  return {
    id: row.id,
    description: row.description,
    agentType: row.agent_type,
    status: row.status as TaskStatus,
    priority: Number(row.priority),
    context: row.context ? (JSON.parse(row.context) as Record<string, unknown>) : null,
    createdAt: Number(row.created_at),
    assignedAt: numberOrNull(row.assigned_at),
    completedAt: numberOrNull(row.completed_at),
    assignedTo: row.assigned_to,
    output: row.output,
    error: row.error,
    planId: row.plan_id,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    timeoutMs: numberOrNull(row.timeout_ms),
    runAfter: Number(row.run_after),
    leaseExpiresAt: numberOrNull(row.lease_expires_at),
    workerId: row.worker_id,
    backend: row.backend,
    startedAt: numberOrNull(row.started_at),
    updatedAt: Number(row.updated_at),
    costUsd: numberOrNull(row.cost_usd),
    inputTokens: numberOrNull(row.input_tokens),
    outputTokens: numberOrNull(row.output_tokens),
    sessionId: row.session_id,
    unmetDependencies: Number(row.unmet_deps),
  };
}

/** Rows come back with a null prototype; hand out plain objects. */
export function toDependency(row: DependencyInfo): DependencyInfo {
  return { id: row.id, description: row.description, status: row.status };
}

export function toEvent(row: DbEvent): TaskEvent {
  return {
    id: Number(row.id),
    at: Number(row.at),
    kind: row.kind,
    taskId: row.task_id,
    workerId: row.worker_id,
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : null,
  };
}

export function toAgentRun(row: DbAgentRun): AgentRun {
  return {
    id: row.id,
    taskId: row.task_id,
    agentType: row.agent_type,
    backend: row.backend,
    workerId: row.worker_id,
    host: row.host,
    pid: numberOrNull(row.pid),
    startedAt: Number(row.started_at),
    endedAt: numberOrNull(row.ended_at),
    exitCode: numberOrNull(row.exit_code),
    endReason: row.end_reason,
    outputPath: row.output_path,
    runId: row.run_id,
    lastActivityAt: numberOrNull(row.last_activity_at),
    lastActivity: row.last_activity,
    rawPath: row.raw_path,
    costUsd: numberOrNull(row.cost_usd),
    inputTokens: numberOrNull(row.input_tokens),
    outputTokens: numberOrNull(row.output_tokens),
    sessionId: row.session_id,
  };
}

export function toPlannedTask(row: DbPlanTask): PlannedTask {
  return {
    key: row.key,
    phase: row.phase,
    description: row.description,
    agentType: row.agent_type,
    priority: Number(row.priority),
    dependsOn: JSON.parse(row.depends_on) as string[],
    taskId: row.task_id,
  };
}

export function toPlanMessage(row: { at: number; role: string; content: string }): PlanMessage {
  return { at: Number(row.at), role: row.role as PlanMessage["role"], content: row.content };
}

export function toPlanStatus(value: string): PlanStatus {
  return value as PlanStatus;
}
