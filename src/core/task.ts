import type { TaskStatus } from "./taskStatus.ts";
import type { WorkspaceSeed } from "./taskWorkspace.ts";

/**
 * A task as the domain sees it. Times are epoch milliseconds. The spec's columns come first; the rest is
 * what reliable execution needs (attempts and leases, the plan it belongs to, what the agent cost).
 */
export interface Task {
  id: string;
  description: string;
  /** Specialist type; `null` means `auto` (the orchestrator routes it by its description). */
  agentType: string | null;
  status: TaskStatus;
  priority: number;
  context: Record<string, unknown> | null;
  createdAt: number;
  assignedAt: number | null;
  completedAt: number | null;
  /** The agent (or, before one starts, the worker) that holds the task. */
  assignedTo: string | null;
  output: string | null;
  error: string | null;

  planId: string | null;
  /** Attempts started so far; a claim counts one. */
  attempts: number;
  maxAttempts: number;
  /** Per-task agent timeout; `null` leaves it to the runner's default. */
  timeoutMs: number | null;
  /** Earliest time the task may be claimed (retry backoff). */
  runAfter: number;
  leaseExpiresAt: number | null;
  workerId: string | null;
  backend: string | null;
  startedAt: number | null;
  updatedAt: number;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  sessionId: string | null;
  /** How many of its dependencies are not completed yet; claimable only at 0. */
  unmetDependencies: number;
}

/** What `submit` (or a plan) provides for a new task. */
export interface NewTask {
  id: string;
  description: string;
  agentType: string | null;
  priority: number;
  context: Record<string, unknown> | null;
  planId: string | null;
  maxAttempts: number;
  timeoutMs: number | null;
  backend: string | null;
  /** Ids of tasks this one waits for: existing tasks, or tasks earlier in the same batch. */
  dependsOn: readonly string[];
  /** With worktree isolation: the task's branch and base commit, recorded with the task. */
  workspace?: WorkspaceSeed | null;
}

/** One entry of the append-only event log. */
export interface TaskEvent {
  id: number;
  at: number;
  kind: TaskEventKind;
  taskId: string | null;
  workerId: string | null;
  data: Record<string, unknown> | null;
}

export type TaskEventKind =
  | "task:submitted"
  | "task:claimed"
  | "task:started"
  | "task:completed"
  | "task:failed"
  | "task:retry_scheduled"
  | "task:lease_expired"
  | "task:cancelled"
  | "task:requeued"
  | (string & {});

/** A dependency edge as shown to users: the other task and its state. */
export interface DependencyInfo {
  id: string;
  description: string;
  status: TaskStatus;
}

/** One spawned agent process (written by the runner; read by `status`, `agents` and `kill`). */
export interface AgentRun {
  id: string;
  taskId: string;
  agentType: string | null;
  backend: string;
  workerId: string;
  host: string;
  pid: number | null;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  endReason: string | null;
  outputPath: string | null;
  /** The `orchestrate run` process that owns the agent (`host:pid:random`). */
  runId: string | null;
  lastActivityAt: number | null;
  /** A one-line summary of the agent's latest event, for live views. */
  lastActivity: string | null;
  rawPath: string | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  sessionId: string | null;
}

/** Fields of an agent run that change while it lives and when it ends. */
export type AgentRunPatch = Partial<
  Pick<
    AgentRun,
    | "pid"
    | "endedAt"
    | "exitCode"
    | "endReason"
    | "lastActivityAt"
    | "lastActivity"
    | "costUsd"
    | "inputTokens"
    | "outputTokens"
    | "sessionId"
  >
>;
