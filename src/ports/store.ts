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
import type { TaskWorkspace } from "../core/taskWorkspace.ts";

/**
 * The storage port. Core code talks only to this interface; adapters (SQLite now, PostgreSQL next)
 * implement it with real transactions, and one contract suite (`test/store/storeContract.ts`) pins every
 * adapter to the same behaviour. Every method is atomic on its own: the compound ones (`startAgent`,
 * `finishAgent`, `recordProgress`) exist so that a task's transition and the agent-run rows that belong
 * to it commit together. Methods are async so that a networked store fits the same shape.
 *
 * What the store decides is limited to what it must decide atomically: guards on the current state, the
 * dependency counter that makes a claim one indexed statement, and per-status counts. The rules
 * themselves (which transition, retries, a plan's status following its tasks) are core's, passed in or
 * computed by core functions the adapters call.
 *
 * Errors: adapters throw core's typed errors (NotFoundError, ConflictError, ConfigError) with a neutral
 * message and a `reason` (see `StoreErrorReason`); they never carry front-end wording. The app layer adds
 * the advice a person needs.
 */
export interface Store {
  /** Where the data lives, for messages (a file path or a connection string without secrets). */
  readonly location: string;
  close(): Promise<void>;

  // ---- tasks ---------------------------------------------------------------------------------

  /**
   * Inserts tasks with their dependency edges and a `task:submitted` event each, all or nothing, in the
   * order given (a task's dependencies exist already or come earlier). NotFoundError for a dependency
   * on a missing task, ConflictError for an id taken.
   */
  insertTasks(tasks: readonly NewTask[], now: number): Promise<void>;

  /**
   * Atomically takes the most urgent claimable task (pending, every dependency completed, backoff over):
   * highest priority first, then oldest (insertion order within a millisecond). Sets it `assigned` to
   * the worker with a lease and attempts+1, and logs `task:claimed`. Two connections never get one task.
   */
  claimTask(request: ClaimRequest): Promise<Task | null>;

  /**
   * Applies one guarded state change and records its event, whose data holds `to`, `from` when the
   * guard names a single state, then the transition's own data; `null`, with nothing changed or logged,
   * when the guard did not match.
   */
  transitionTask(transition: TaskTransition): Promise<Task | null>;

  /**
   * A claimed task's agent starts: the transition (to `in_progress`, guarded by the worker) and the
   * agent-run row (with an `agent:started` event) in one transaction; no row when the guard did not
   * match, and then `null`. The row's usage fields (cost, tokens, session) start empty.
   */
  startAgent(start: AgentStart): Promise<Task | null>;

  /**
   * An agent ended: its run row is closed, the task's transition is applied if given, and, if asked,
   * the next task is claimed, all in one transaction. A row another process closed already (a `kill`
   * from another terminal) keeps its end and reason and logs no second `agent:ended`; what the agent
   * itself reported (exit code, usage, session, last activity) fills the fields that row left empty.
   * When the transition's guard did not match, `task` is null and `current` is the task as another
   * process left it (cancelled, killed, taken over).
   */
  finishAgent(finish: AgentFinish): Promise<AgentFinishResult>;

  /**
   * One transaction for a worker's periodic bookkeeping: renews the leases it still holds and saves
   * its agents' latest activity (and pid). Returns the ids of tasks whose lease it no longer holds.
   */
  recordProgress(progress: WorkerProgress): Promise<{ lost: string[] }>;

  /**
   * The earliest time a pending task whose dependencies are complete may be claimed (its retry backoff),
   * or null when there is none: tells a runner whether waiting can still yield work.
   */
  nextClaimableAt(): Promise<number | null>;

  /** Leased tasks whose lease ran out strictly before `now`, oldest lease first. */
  expiredLeases(now: number, limit: number): Promise<Task[]>;

  getTask(id: string): Promise<Task | null>;
  /**
   * Ids starting with `prefix` (at most `limit`, in id order), for git-like short ids. Task and plan ids
   * are lowercase hex.
   */
  findTaskIds(prefix: string, limit: number): Promise<string[]>;
  listTasks(filter: TaskFilter): Promise<Task[]>;
  countByStatus(): Promise<Record<TaskStatus, number>>;
  /** Pending tasks waiting on dependencies: how many, and the first `limit` with what they wait on. */
  blockedTasks(limit: number): Promise<{ count: number; tasks: BlockedTask[] }>;
  dependenciesOf(taskId: string): Promise<DependencyInfo[]>;
  dependentsOf(taskId: string): Promise<DependencyInfo[]>;

  /**
   * Puts a claimed task back to `pending` behind a new task it must now wait for (a resolver of the
   * conflict its dependencies' branches had), in one transaction: the new task is inserted (with its
   * workspace), the edge added, and the transition applied, whose patch gives the attempt back. Nothing
   * happens, and null is returned, when the transition's guard did not match.
   */
  deferTask(deferral: TaskDeferral): Promise<Task | null>;

  // ---- workspaces ----------------------------------------------------------------------------

  /** A task's git workspace, or null when it has none (isolation `none`). */
  getWorkspace(taskId: string): Promise<TaskWorkspace | null>;
  /** Workspaces, oldest change first, of one group or of given tasks when asked. */
  listWorkspaces(filter: WorkspaceFilter): Promise<TaskWorkspace[]>;
  /**
   * Records workspaces as they are now (insert or replace), all in one transaction; a change of
   * worktree state or merge state logs `task:workspace`. A workspace belongs to an existing task.
   */
  saveWorkspaces(workspaces: readonly TaskWorkspace[]): Promise<void>;

  // ---- events ------------------------------------------------------------------------------

  /** The latest `limit` events of one task, oldest first. */
  eventsFor(taskId: string, limit: number): Promise<TaskEvent[]>;
  /**
   * Events with an id above `afterId`, oldest first, at most `limit`: the log read as a stream. Ids only
   * grow, are never used twice (not even after cleanup deleted the newest events), and become visible
   * in id order, so a reader that keeps the last id it saw resumes exactly where it stopped. (An adapter
   * whose ids can commit out of order, like a PostgreSQL sequence, must serialise event writes or hold
   * back ids not yet safe to read.)
   */
  readEvents(afterId: number, limit: number): Promise<TaskEvent[]>;

  // ---- agent runs --------------------------------------------------------------------------

  /** Agent processes without an end time (possibly from other machines), oldest first. */
  runningAgents(): Promise<AgentRun[]>;
  agentRunsFor(taskId: string): Promise<AgentRun[]>;

  // ---- cleanup ------------------------------------------------------------------------------

  /**
   * Terminal tasks last updated strictly before `before`, except those an unfinished task still depends on
   * (deleting them would strand that task). Returns the candidates and how many were kept back.
   */
  cleanupCandidates(before: number): Promise<{ tasks: Task[]; keptForDependents: number }>;
  /**
   * Deletes tasks with their dependency edges, events and agent runs; returns the agent runs removed.
   * Only tasks that are still finished and that no unfinished task depends on are deleted (checked in
   * the deleting transaction): a task retried since `cleanupCandidates` listed it stays. The event log
   * may record the deletion (with `now`); its ids stay unique either way.
   */
  deleteTasks(ids: readonly string[], now: number): Promise<AgentRun[]>;

  // ---- plans --------------------------------------------------------------------------------

  /**
   * Stores a new planning session with its tasks and discussion (and a `plan:created` event);
   * ConflictError (`plan-exists`) for an id taken.
   */
  insertPlan(plan: Plan): Promise<void>;
  getPlan(id: string): Promise<Plan | null>;
  /** Plan ids starting with `prefix` (at most `limit`). */
  findPlanIds(prefix: string, limit: number): Promise<string[]>;
  /** The newest plans first (only those in `statuses` when given), with task counts. */
  listPlans(limit: number, statuses?: readonly PlanStatus[]): Promise<PlanSummary[]>;
  /**
   * Replaces a draft plan's tasks in one transaction. ConflictError (`plan-not-draft`) when the plan is
   * no longer a draft, or (`plan-changed`) when `expectedVersion` is given and the plan has changed
   * since; NotFoundError when it does not exist.
   */
  savePlanTasks(
    planId: string,
    tasks: readonly PlannedTask[],
    now: number,
    expectedVersion?: number,
  ): Promise<void>;
  /**
   * Appends messages to a plan's discussion, all or none, and bumps its version: the discussion is part
   * of what a person reviews before approving. NotFoundError (`plan-missing`) for a missing plan.
   */
  appendPlanMessages(planId: string, messages: readonly PlanMessage[]): Promise<void>;
  /**
   * Moves a plan from one of `from` to `to` (logging `plan:<to>`); `null` when it was not in one of
   * `from`. With `expectedVersion`, ConflictError (`plan-changed`) when the plan changed since that
   * version was read; NotFoundError (`plan-missing`) when there is no such plan.
   */
  setPlanStatus(
    planId: string,
    from: readonly PlanStatus[],
    to: PlanStatus,
    now: number,
    expectedVersion?: number,
  ): Promise<Plan | null>;
  /**
   * Queues an approved plan: inserts its tasks (each names its plan key), links each planned task to its
   * queued task and sets the plan `executing`, all in one transaction. A plan that is already executing
   * (or finished) is returned as it is with `queued: false`, so running this twice never queues
   * duplicates. ConflictError (`plan-is-draft`) for a draft.
   *
   * Once executing, a plan's status follows its tasks in the same transaction as each task's change
   * (`planStatusFollowingTasks` in core decides it), whichever process makes the change.
   */
  executePlan(
    planId: string,
    tasks: readonly PlanTaskToQueue[],
    now: number,
  ): Promise<{ plan: Plan; queued: boolean }>;
}

/** Why a store refused or failed, for the layer that explains it to a person. */
export type StoreErrorReason =
  | "task-exists"
  | "dependency-missing"
  | "plan-missing"
  | "plan-exists"
  | "plan-not-draft"
  | "plan-changed"
  | "plan-is-draft"
  | "store-busy"
  | "store-unwritable"
  | "store-not-a-database"
  | "store-schema-newer"
  | "store-location-unusable";

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
  /**
   * When set, the task must also still be assigned to this agent (`assignedTo`): a worker that lost a
   * task and claimed it again for a new agent must not let the old agent's end decide it.
   */
  agentId?: string;
  /** When set, the task's lease must have expired before this time (guards the reaper against renewals). */
  leaseExpiredBefore?: number;
  patch?: TaskPatch;
  event: { kind: TaskEventKind; data?: Record<string, unknown> };
}

export interface AgentStart {
  transition: TaskTransition;
  run: AgentRun;
  /** The task's workspace as its agent starts, saved only when the transition applies. */
  workspace?: TaskWorkspace;
}

export interface TaskDeferral {
  transition: TaskTransition;
  /** The task the deferred one waits for from now on (it is inserted). */
  waitFor: NewTask;
  now: number;
}

export interface WorkspaceFilter {
  group?: string;
  taskIds?: readonly string[];
}

export interface AgentFinish {
  agentRunId: string;
  /** What the run row records about the end; `endedAt` is required. */
  end: AgentRunPatch & { endedAt: number };
  transition?: TaskTransition;
  /** Claim the next task in the same transaction (a busy worker's hot path). */
  claim?: ClaimRequest;
  /** Workspaces as the agent's end left them, saved whatever the guard decides: they say what is in git. */
  workspaces?: readonly TaskWorkspace[];
  /**
   * Applied only when the transition applies: tasks to insert (a resolver of a conflict this task's
   * branch met in the merge queue) and workspaces saved after them (the conflict's records).
   */
  onCompletion?: { insert: readonly NewTask[]; workspaces: readonly TaskWorkspace[] };
}

export interface AgentFinishResult {
  /** The task after the transition; null when there was none or its guard did not match. */
  task: Task | null;
  /** When the guard did not match: the task as it is now (null if it no longer exists). */
  current: Task | null;
  next: Task | null;
}

export interface WorkerProgress {
  workerId: string;
  now: number;
  /** Leases to renew: tasks the worker believes it holds (each for this agent, when given), and the new expiry. */
  renew?: { leases: readonly HeldLease[]; leaseExpiresAt: number };
  /** Agent runs whose latest activity changed since the last save. */
  agents?: readonly AgentProgress[];
}

/** A lease a worker renews: the task, and the agent it runs it with (once started). */
export interface HeldLease {
  taskId: string;
  agentRunId?: string;
}

export interface AgentProgress {
  agentRunId: string;
  lastActivity?: string | null;
  lastActivityAt?: number | null;
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
