import type { Plan, PlanMessage, PlannedTask, PlanStatus, PlanSummary } from "../core/plan.ts";
import type {
  AgentRun,
  AgentRunPatch,
  DependencyInfo,
  NewTask,
  Task,
  TaskEvent,
  TaskEventKind,
} from "../core/task.ts";
import type { TaskStatus } from "../core/taskStatus.ts";

/**
 * The storage port. Core code talks only to this interface; adapters (SQLite now, PostgreSQL later)
 * implement it with real transactions. Every method is atomic on its own. Methods are async so that
 * a networked store fits the same shape.
 */
export interface Store {
  /** Where the data lives, for messages (a file path or a connection string without secrets). */
  readonly location: string;
  close(): Promise<void>;

  /**
   * Inserts tasks with their dependency edges and a `task:submitted` event each, all or nothing.
   * Throws NotFoundError for a dependency on a missing task, ConflictError for a cycle or an id taken.
   */
  insertTasks(tasks: readonly NewTask[], now: number): Promise<void>;

  /** Adds one dependency edge to a task not yet started; refuses (ConflictError) an edge that closes a cycle. */
  addDependency(taskId: string, dependsOn: string, now: number): Promise<void>;

  /**
   * Atomically takes the most urgent claimable task (pending, every dependency completed, backoff over):
   * highest priority first, then oldest. Sets it `assigned` with a lease and attempts+1.
   */
  claimTask(request: ClaimRequest): Promise<Task | null>;

  /** Applies one guarded state change and records its event; `null` when the guard did not match. */
  transitionTask(transition: TaskTransition): Promise<Task | null>;

  /**
   * A transition and, if it applied, a claim, in one transaction: a worker finishing a task and taking
   * the next pays for one commit instead of two.
   */
  transitionAndClaim(
    transition: TaskTransition,
    request: ClaimRequest,
  ): Promise<{ task: Task | null; next: Task | null }>;

  /** Extends the lease of a task still held by `workerId`; false when the worker lost it. */
  renewLease(
    taskId: string,
    workerId: string,
    leaseExpiresAt: number,
    now: number,
  ): Promise<boolean>;

  /**
   * The earliest time a pending task whose dependencies are complete may be claimed (its retry backoff),
   * or null when there is none: tells a runner whether waiting can still yield work.
   */
  nextClaimableAt(): Promise<number | null>;

  /** Leased tasks whose lease ran out before `now`, oldest first. */
  expiredLeases(now: number, limit: number): Promise<Task[]>;

  getTask(id: string): Promise<Task | null>;
  /** Ids starting with `prefix` (at most `limit`), for git-like short ids. */
  findTaskIds(prefix: string, limit: number): Promise<string[]>;
  listTasks(filter: TaskFilter): Promise<Task[]>;
  countByStatus(): Promise<Record<TaskStatus, number>>;
  /** Pending tasks waiting on dependencies: how many, and the first `limit` with what they wait on. */
  blockedTasks(limit: number): Promise<{ count: number; tasks: BlockedTask[] }>;
  dependenciesOf(taskId: string): Promise<DependencyInfo[]>;
  dependentsOf(taskId: string): Promise<DependencyInfo[]>;
  eventsFor(taskId: string, limit: number): Promise<TaskEvent[]>;

  /** Agent processes without an end time (possibly from other machines). */
  runningAgents(): Promise<AgentRun[]>;
  agentRunsFor(taskId: string): Promise<AgentRun[]>;
  /** Records a spawned agent (with a `agent:started` event). */
  insertAgentRun(run: AgentRun): Promise<void>;
  /** Updates a live agent run; setting `endedAt` also records an `agent:ended` event. */
  updateAgentRun(id: string, patch: AgentRunPatch, now: number): Promise<void>;

  /**
   * Terminal tasks last updated before `before`, except those an unfinished task still depends on
   * (deleting them would strand that task). Returns the candidates and how many were kept back.
   */
  cleanupCandidates(before: number): Promise<{ tasks: Task[]; keptForDependents: number }>;
  /** Deletes tasks with their dependency edges, events and agent runs; returns the agent runs removed. */
  deleteTasks(ids: readonly string[]): Promise<AgentRun[]>;

  /** Stores a new planning session with its tasks and discussion (and a `plan:created` event). */
  insertPlan(plan: Plan): Promise<void>;
  getPlan(id: string): Promise<Plan | null>;
  /** Plan ids starting with `prefix` (at most `limit`). */
  findPlanIds(prefix: string, limit: number): Promise<string[]>;
  /** The newest plans first (only those in `statuses` when given), with task counts. */
  listPlans(limit: number, statuses?: readonly PlanStatus[]): Promise<PlanSummary[]>;
  /**
   * Replaces a draft plan's tasks in one transaction. ConflictError when the plan is no longer a draft
   * (another terminal approved it meanwhile), or when `expectedVersion` is given and the plan has
   * changed since (another terminal edited it between our read and this write); NotFoundError when it
   * does not exist.
   */
  savePlanTasks(
    planId: string,
    tasks: readonly PlannedTask[],
    now: number,
    expectedVersion?: number,
  ): Promise<void>;
  appendPlanMessage(planId: string, message: PlanMessage): Promise<void>;
  /**
   * Moves a plan from one of `from` to `to`; `null` when it was not in one of `from`. With
   * `expectedVersion`, ConflictError when the plan changed since that version was read (an approval
   * must approve the plan the person reviewed).
   */
  setPlanStatus(
    planId: string,
    from: readonly PlanStatus[],
    to: PlanStatus,
    now: number,
    expectedVersion?: number,
  ): Promise<Plan | null>;
  /**
   * Queues an approved plan: inserts its tasks (each `NewTask` names its plan key), links each planned
   * task to its queued task and sets the plan `executing`, all in one transaction. A plan that is already
   * executing (or finished) is returned as it is with `queued: false`, so running this twice never queues
   * duplicates. ConflictError for a draft.
   */
  executePlan(
    planId: string,
    tasks: readonly PlanTaskToQueue[],
    now: number,
  ): Promise<{ plan: Plan; queued: boolean }>;
}

/** A queued task made from a planned task. */
export interface PlanTaskToQueue extends NewTask {
  key: string;
}

export interface ClaimRequest {
  workerId: string;
  now: number;
  leaseMs: number;
}

/** Columns a transition may change besides status. `undefined` leaves a column alone; `null` clears it. */
export interface TaskPatch {
  output?: string | null;
  error?: string | null;
  runAfter?: number;
  attempts?: number;
  leaseExpiresAt?: number | null;
  workerId?: string | null;
  assignedTo?: string | null;
  assignedAt?: number | null;
  startedAt?: number | null;
  completedAt?: number | null;
  backend?: string | null;
  costUsd?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  sessionId?: string | null;
}

export interface TaskTransition {
  taskId: string;
  /** The task must be in one of these states (the optimistic guard). */
  from: readonly TaskStatus[];
  to: TaskStatus;
  now: number;
  /** When set, the task must also still be held by this worker. */
  workerId?: string;
  /** When set, the task's lease must have expired before this time (guards the reaper against renewals). */
  leaseExpiredBefore?: number;
  patch?: TaskPatch;
  event: { kind: TaskEventKind; data?: Record<string, unknown> };
}

export interface TaskFilter {
  status?: TaskStatus;
  planId?: string;
  limit: number;
  /** Newest first when true (status views); oldest first otherwise. */
  newestFirst?: boolean;
}

export interface BlockedTask {
  id: string;
  description: string;
  waitingOn: DependencyInfo[];
}
