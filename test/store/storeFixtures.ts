// Builders of the values the Store port takes (tasks, agent runs, plans, transitions), shared by the
// Store contract and the TaskQueue tests. They only use the domain types: no adapter is named here.
import type { Plan, PlannedTask } from "../../src/core/plan.ts";
import type { AgentRun, NewTask, Task } from "../../src/core/task.ts";
import { LEASED_STATUSES } from "../../src/core/taskStatus.ts";
import type { TaskWorkspace, WorkspaceSeed } from "../../src/core/taskWorkspace.ts";
import type {
  AgentStart,
  ClaimRequest,
  PlanTaskToQueue,
  TaskDeferral,
  TaskTransition,
} from "../../src/ports/store.ts";

/** A fixed start of time for tests that pass `now` explicitly. */
export const T0 = 1_700_000_000_000;
/** The lease a test claim takes unless it says otherwise. */
export const LEASE_MS = 10_000;
export const W1 = "host-a:101:aaaaaa";
export const W2 = "host-b:202:bbbbbb";

/** A task id as core makes them (16 lowercase hex digits), from a number: `taskId(10)` = `000…00a`. */
export function taskId(n: number): string {
  return n.toString(16).padStart(16, "0");
}

export function newTask(id: string, fields: Partial<NewTask> = {}): NewTask {
  return {
    id,
    description: `task ${id}`,
    agentType: null,
    priority: 2,
    context: null,
    planId: null,
    maxAttempts: 3,
    timeoutMs: null,
    backend: null,
    dependsOn: [],
    ...fields,
  };
}

export function claimAt(now: number, workerId = W1, leaseMs = LEASE_MS): ClaimRequest {
  return { workerId, now, leaseMs };
}

/** A claimed task's agent starts (the transition `TaskQueue.startAgent` makes). */
export function startOf(
  id: string,
  workerId: string,
  agentId: string,
  now: number,
  leaseMs = LEASE_MS,
): TaskTransition {
  return {
    taskId: id,
    from: ["assigned"],
    to: "in_progress",
    now,
    workerId,
    patch: { startedAt: now, assignedTo: agentId, leaseExpiresAt: now + leaseMs },
    event: { kind: "task:started", data: { agentId } },
  };
}

/** A held task completes; with `workerId`, only while that worker still holds it. */
export function completionOf(id: string, now: number, workerId?: string): TaskTransition {
  return {
    taskId: id,
    from: LEASED_STATUSES,
    to: "completed",
    now,
    ...(workerId === undefined ? {} : { workerId }),
    patch: { output: `output of ${id}`, error: null, completedAt: now, leaseExpiresAt: null },
    event: { kind: "task:completed" },
  };
}

/** A held task's attempt fails: back to pending until `retryAt` when given, else failed for good. */
export function failureOf(
  id: string,
  now: number,
  options: { workerId?: string; retryAt?: number } = {},
): TaskTransition {
  const { workerId, retryAt } = options;
  const guard = workerId === undefined ? {} : { workerId };
  if (retryAt !== undefined) {
    return {
      taskId: id,
      from: LEASED_STATUSES,
      to: "pending",
      now,
      ...guard,
      patch: { error: "attempt failed", runAfter: retryAt, leaseExpiresAt: null, workerId: null },
      event: { kind: "task:retry_scheduled", data: { error: "attempt failed" } },
    };
  }
  return {
    taskId: id,
    from: LEASED_STATUSES,
    to: "failed",
    now,
    ...guard,
    patch: { error: "failed for good", completedAt: now, leaseExpiresAt: null },
    event: { kind: "task:failed", data: { error: "failed for good" } },
  };
}

export function cancellationOf(id: string, now: number): TaskTransition {
  return {
    taskId: id,
    from: ["pending", "assigned", "in_progress"],
    to: "cancelled",
    now,
    patch: { error: "cancelled by user", completedAt: now, leaseExpiresAt: null },
    event: { kind: "task:cancelled", data: { reason: "cancelled by user" } },
  };
}

/** A failed or cancelled task goes back to pending with fresh attempts (`retry`). */
export function requeueOf(id: string, now: number): TaskTransition {
  return {
    taskId: id,
    from: ["failed", "cancelled"],
    to: "pending",
    now,
    patch: {
      attempts: 0,
      error: null,
      runAfter: now,
      completedAt: null,
      workerId: null,
      assignedTo: null,
      leaseExpiresAt: null,
    },
    event: { kind: "task:requeued" },
  };
}

/** The reaper gives back a task whose lease ran out: to pending (retry) or failed. */
export function leaseExpiryOf(id: string, now: number, retry: boolean): TaskTransition {
  return {
    taskId: id,
    from: LEASED_STATUSES,
    to: retry ? "pending" : "failed",
    now,
    leaseExpiredBefore: now,
    patch: retry
      ? { error: "lease expired", runAfter: now, leaseExpiresAt: null, workerId: null }
      : { error: "lease expired", completedAt: now, leaseExpiresAt: null },
    event: { kind: "task:lease_expired", data: { outcome: retry ? "retry" : "failed" } },
  };
}

export function agentRun(
  id: string,
  task: string,
  workerId: string,
  startedAt: number,
  fields: Partial<AgentRun> = {},
): AgentRun {
  return {
    id,
    taskId: task,
    agentType: "backend-developer",
    backend: "claude",
    workerId,
    host: workerId.split(":")[0] ?? "host",
    pid: 4000,
    startedAt,
    endedAt: null,
    exitCode: null,
    endReason: null,
    outputPath: `agent_outputs/${id}_output.md`,
    runId: `${workerId}:run`,
    lastActivityAt: startedAt,
    lastActivity: "starting",
    rawPath: `agent_outputs/${id}_output.raw.jsonl`,
    costUsd: null,
    inputTokens: null,
    outputTokens: null,
    sessionId: null,
    ...fields,
  };
}

/** The start of agent `agentId` on a task its worker claimed. */
export function agentStartOf(task: Task, agentId: string, now: number): AgentStart {
  const workerId = task.workerId ?? W1;
  return {
    transition: startOf(task.id, workerId, agentId, now),
    run: agentRun(agentId, task.id, workerId, now),
  };
}

export function plannedTask(key: string, fields: Partial<PlannedTask> = {}): PlannedTask {
  return {
    key,
    phase: "Implementation",
    description: `do ${key}`,
    agentType: "backend-developer",
    priority: 2,
    dependsOn: [],
    taskId: null,
    ...fields,
  };
}

/** A draft plan with two planned tasks (`t2` after `t1`) and no discussion, made at `now`. */
export function newPlan(id: string, now: number, fields: Partial<Plan> = {}): Plan {
  return {
    id,
    goal: `goal of ${id}`,
    status: "draft",
    planner: "heuristic",
    version: 1,
    tasks: [plannedTask("t1"), plannedTask("t2", { dependsOn: ["t1"] })],
    discussion: [],
    createdAt: now,
    updatedAt: now,
    approvedAt: null,
    executedAt: null,
    isolation: null,
    ...fields,
  };
}

/** A plan's tasks as `executePlan` takes them, with the task ids `idOf` gives each key. */
export function tasksToQueue(plan: Plan, idOf: (key: string) => string): PlanTaskToQueue[] {
  return plan.tasks.map((t) => ({
    ...newTask(idOf(t.key), {
      description: t.description,
      agentType: t.agentType,
      priority: t.priority,
      planId: plan.id,
      dependsOn: t.dependsOn.map(idOf),
    }),
    key: t.key,
  }));
}

/** The commit a test task's workspace starts from. */
export const BASE_COMMIT = "1".repeat(40);

/** A new ad-hoc task's workspace seed: its own branch off `BASE_COMMIT`. */
export function seedOf(id: string, fields: Partial<WorkspaceSeed> = {}): WorkspaceSeed {
  return { group: "tasks", branch: `orchestrate/tasks/${id}`, baseCommit: BASE_COMMIT, ...fields };
}

/** A task's workspace with every field set (an agent in its worktree), updated at `now`. */
export function workspaceOf(
  id: string,
  now: number,
  fields: Partial<TaskWorkspace> = {},
): TaskWorkspace {
  return {
    taskId: id,
    group: "tasks",
    branch: `orchestrate/tasks/${id}`,
    baseCommit: BASE_COMMIT,
    startCommit: BASE_COMMIT,
    headCommit: "2".repeat(40),
    path: `/work/.worktrees/${id}`,
    filesChanged: ["src/a.ts", "docs/b.md"],
    state: "active",
    merge: "pending",
    resolverTaskId: null,
    resolves: null,
    setupLog: "npm ci: ok",
    verifyLog: null,
    updatedAt: now,
    ...fields,
  };
}

/**
 * A claimed task goes back to pending behind `waitFor` (the deferral `TaskQueue.deferBehind` makes):
 * only while `workerId` holds it, with the attempt given back.
 */
export function deferralOf(
  task: Task,
  waitFor: NewTask,
  now: number,
  workerId = task.workerId ?? W1,
): TaskDeferral {
  return {
    now,
    waitFor,
    transition: {
      taskId: task.id,
      from: ["assigned"],
      to: "pending",
      now,
      workerId,
      patch: {
        attempts: Math.max(0, task.attempts - 1),
        workerId: null,
        assignedTo: null,
        assignedAt: null,
        leaseExpiresAt: null,
      },
      event: { kind: "task:deferred", data: { waitsFor: waitFor.id } },
    },
  };
}
