import type {
  AgentProgress,
  BlockedTask,
  ClaimRequest,
  HeldLease,
  PlanTaskToQueue,
  Store,
  TaskFilter,
  TaskTransition,
} from "../ports/store.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelayMs } from "./backoff.ts";
import { topologicalOrder } from "./dependencyGraph.ts";
import { ConflictError, NotFoundError, UsageError } from "./errors.ts";
import { looksLikeIdPrefix, newTaskId } from "./ids.ts";
import type { Plan } from "./plan.ts";
import { DEFAULT_PRIORITY, PRIORITIES } from "./priority.ts";
import type { AgentRun, AgentRunPatch, DependencyInfo, NewTask, Task, TaskEvent } from "./task.ts";
import { LEASED_STATUSES, statusesLeadingTo, type TaskStatus } from "./taskStatus.ts";
import { type TaskWorkspace, type WorkspaceSeed, workspaceSeed } from "./taskWorkspace.ts";

/** What a caller gives to add a task; everything but the description has a default. */
export interface SubmitInput {
  description: string;
  /** A name other tasks of the same batch use in `dependsOn` (plans use their task keys). */
  key?: string;
  agentType?: string | null;
  priority?: number;
  context?: Record<string, unknown> | null;
  dependsOn?: readonly string[];
  maxAttempts?: number;
  timeoutMs?: number | null;
  planId?: string | null;
  backend?: string | null;
}

/** How tasks being added are kept apart. */
export interface AddOptions {
  /** With worktree isolation: the commit their branches start from (HEAD now). */
  baseCommit?: string | null;
}

export interface TaskQueueOptions {
  store: Store;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  clock?: () => number;
  backoff?: BackoffPolicy;
  /** How long a claim holds a task before it is given back, unless renewed. */
  leaseMs?: number;
  random?: () => number;
  /** Expired leases are looked for at most this often by `next()`. */
  reapIntervalMs?: number;
}

/** Outcome details a worker reports with a finished task. */
export interface CompletionDetails {
  workerId?: string;
  costUsd?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  sessionId?: string | null;
}

/** The part of a transition a queue operation chooses; the rest is filled in by `#apply`. */
type Change = Pick<TaskTransition, "patch" | "event" | "workerId">;

export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 100;
export const DEFAULT_LEASE_MS = 30_000;
export const MAX_DESCRIPTION_LENGTH = 100_000;

/** What an agent's end means for its task, decided by the runner from the agent's outcome. */
export type AgentVerdict =
  | { kind: "completed"; output: string; details: CompletionDetails }
  | { kind: "failed"; error: string; retryable: boolean; details: CompletionDetails };

/** What became of a task when its agent finished. */
export interface AgentFinished {
  /**
   * `completed`, `retry` (back to pending after a backoff), `failed` (no attempts left, or not
   * retryable); or another process decided first, and `task` is how it left it: `cancelled`, `killed`
   * (`orchestrate kill`), or `lost` (its lease expired and it was given back or failed meanwhile).
   */
  outcome: "completed" | "retry" | "failed" | "cancelled" | "killed" | "lost";
  task: Task | null;
  /** The next task claimed in the same transaction, when asked for. */
  next: Task | null;
}

/**
 * The task queue of the spec (add, next, complete, fail, list) over the Store port, with the lifecycle of
 * DESIGN.md. It owns every decision (validation, which transition, when to retry and after what delay);
 * the store only applies guarded changes atomically. Safe to use from many processes at once.
 *
 * It is the only way into the tasks' half of the store: an agent's run rows change through it, in the
 * same transaction as the task transition they belong to.
 */
export class TaskQueue {
  readonly leaseMs: number;
  readonly #store: Store;
  readonly #clock: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #random: () => number;
  readonly #reapIntervalMs: number;
  #lastReapAt = Number.NEGATIVE_INFINITY;

  constructor(options: TaskQueueOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#random = options.random ?? Math.random;
    this.#reapIntervalMs = options.reapIntervalMs ?? 1_000;
  }

  /** Adds one task and returns it. Dependencies may be given as unique id prefixes. */
  async add(input: SubmitInput, options: AddOptions = {}): Promise<Task> {
    const [task] = await this.addMany([input], options);
    if (!task) throw new Error("insert returned no task");
    return task;
  }

  /**
   * Adds several tasks in one transaction (all or nothing). A task's `dependsOn` may name tasks that
   * already exist (by id or unique prefix) or other tasks of the batch (by their `key`); the batch is
   * inserted in dependency order, and a cycle among its tasks is refused.
   */
  async addMany(inputs: readonly SubmitInput[], options: AddOptions = {}): Promise<Task[]> {
    const now = this.#clock();
    const idsByKey = new Map<string, string>();
    const drafts = inputs.map((input) => ({ input, id: newTaskId() }));
    for (const { input, id } of drafts) {
      if (input.key === undefined) continue;
      if (idsByKey.has(input.key)) throw new UsageError(`two tasks share the key '${input.key}'`);
      idsByKey.set(input.key, id);
    }
    const tasks = new Map<string, NewTask>();
    for (const { input, id } of drafts) {
      tasks.set(id, await this.#validate(input, id, idsByKey, options.baseCommit ?? null));
    }
    const sorted = topologicalOrder([...tasks.keys()], (id) => tasks.get(id)?.dependsOn ?? []);
    if ("cycle" in sorted) {
      const names = sorted.cycle.map((id) => {
        const key = [...idsByKey].find(([, v]) => v === id)?.[0];
        return key ?? id.slice(0, 8);
      });
      throw new ConflictError(
        `the tasks depend on each other in a cycle: ${names.join(" -> ")}`,
        "remove one of these dependencies so the work has an order",
      );
    }
    const ordered = sorted.order
      .map((id) => tasks.get(id))
      .filter((t): t is NewTask => t !== undefined);
    await this.#store.insertTasks(ordered, now);
    const stored = await Promise.all(drafts.map((d) => this.#store.getTask(d.id)));
    return stored.filter((t): t is Task => t !== null);
  }

  async #validate(
    input: SubmitInput,
    id: string,
    idsByKey: ReadonlyMap<string, string>,
    baseCommit: string | null,
  ): Promise<NewTask> {
    const description = input.description.trim();
    if (description === "") {
      throw new UsageError(
        "the task description is empty",
        'describe the work, e.g. orchestrate submit "Add a login endpoint"',
      );
    }
    if (description.length > MAX_DESCRIPTION_LENGTH) {
      throw new UsageError(
        `the task description is ${description.length} characters long (at most ${MAX_DESCRIPTION_LENGTH})`,
        "put long material in --context or in a file the task refers to",
      );
    }
    const priority = input.priority ?? DEFAULT_PRIORITY;
    if (!Object.values(PRIORITIES).includes(priority as 1)) {
      throw new UsageError(`invalid priority ${priority}`, "use low, normal, high or urgent");
    }
    const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
      throw new UsageError(
        `invalid max attempts '${maxAttempts}'`,
        `give a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}`,
      );
    }
    if (input.timeoutMs != null && !(input.timeoutMs > 0)) {
      throw new UsageError(
        `invalid timeout ${input.timeoutMs}`,
        "give a positive duration such as 30m",
      );
    }
    const context = input.context ?? null;
    if (context !== null && (typeof context !== "object" || Array.isArray(context))) {
      throw new UsageError(
        "the task context must be a JSON object",
        `for example --context '{"repo":"api"}'`,
      );
    }
    const dependsOn: string[] = [];
    for (const ref of input.dependsOn ?? []) {
      const depId = idsByKey.get(ref) ?? (await this.resolveId(ref));
      if (depId === id) throw new ConflictError("a task cannot depend on itself");
      if (!dependsOn.includes(depId)) dependsOn.push(depId);
    }
    return {
      id,
      description,
      agentType: input.agentType ?? null,
      priority,
      context,
      planId: input.planId ?? null,
      maxAttempts,
      timeoutMs: input.timeoutMs ?? null,
      backend: input.backend ?? null,
      dependsOn,
      workspace:
        baseCommit === null
          ? null
          : workspaceSeed({ id, planId: input.planId ?? null, key: input.key ?? null }, baseCommit),
    };
  }

  /**
   * Queues an approved plan's tasks (validated like any other submission) with their dependencies by
   * key, once: asking again, or from two terminals at once, queues nothing more (`queued: false`).
   */
  async queuePlan(
    planId: string,
    inputs: readonly (SubmitInput & { key: string })[],
    options: AddOptions = {},
  ): Promise<{ plan: Plan; queued: boolean }> {
    const idsByKey = new Map(inputs.map((input) => [input.key, newTaskId()]));
    const tasks: PlanTaskToQueue[] = [];
    for (const input of inputs) {
      const id = idsByKey.get(input.key) as string;
      const task = await this.#validate(
        { ...input, planId },
        id,
        idsByKey,
        options.baseCommit ?? null,
      );
      tasks.push({ ...task, key: input.key });
    }
    return this.#store.executePlan(planId, tasks, this.#clock());
  }

  /**
   * Claims the next runnable task for `workerId` (the spec's get_next_task), giving back expired leases
   * first. Returns `null` when nothing is runnable now.
   */
  async next(workerId: string): Promise<Task | null> {
    const now = this.#clock();
    await this.reapIfDue(workerId);
    return this.#store.claimTask(this.#claimRequest(workerId, now));
  }

  /**
   * Gives back other workers' expired leases, at most every `reapIntervalMs`. A worker never reaps its
   * own: its agents still run, and its next renewal extends the lease even after it lapsed.
   */
  async reapIfDue(workerId: string): Promise<void> {
    const now = this.#clock();
    if (now - this.#lastReapAt < this.#reapIntervalMs) return;
    this.#lastReapAt = now;
    await this.reapExpired({ exceptWorker: workerId });
  }

  /**
   * A claimed task's agent has started: the task becomes `in_progress` under the agent and the agent's
   * run row is recorded, in one transaction. `null` when the worker no longer holds the task (it was
   * cancelled or taken over since the claim): then nothing is recorded.
   */
  async startAgent(task: Task, run: AgentRun, workspace?: TaskWorkspace): Promise<Task | null> {
    const now = this.#clock();
    return this.#store.startAgent({
      ...(workspace ? { workspace } : {}),
      transition: {
        taskId: task.id,
        from: ["assigned"],
        to: "in_progress",
        now,
        workerId: run.workerId,
        patch: {
          startedAt: now,
          assignedTo: run.id,
          leaseExpiresAt: now + this.leaseMs,
          backend: run.backend,
        },
        event: { kind: "task:started", data: { agentId: run.id } },
      },
      run,
    });
  }

  /**
   * An agent ended: its run row is closed, its task completed, retried or failed as `verdict` says, and
   * (with `claimNext`) the worker's next task claimed, all in one transaction: a crash leaves either
   * all of it recorded or none (and then the task runs again once its lease expires). The change
   * applies only while the task is still this agent's. `task` is the task as the worker holds it (its
   * attempts decide whether a failure is retried).
   */
  async finishAgent(
    task: Task,
    agent: { agentRunId: string; workerId: string; end: AgentRunPatch },
    verdict: AgentVerdict,
    options: {
      claimNext: boolean;
      /** Workspaces as the agent's end left them (saved whatever became of the task). */
      workspaces?: readonly TaskWorkspace[];
      /** A resolver task to queue with the completion, and the workspaces that name it. */
      onCompletion?: { insert: readonly NewTask[]; workspaces: readonly TaskWorkspace[] };
    },
  ): Promise<AgentFinished> {
    const now = this.#clock();
    let outcome: AgentFinished["outcome"];
    let change: Change;
    let to: TaskStatus;
    if (verdict.kind === "completed") {
      outcome = "completed";
      to = "completed";
      change = this.#completion(verdict.output, { ...verdict.details, workerId: agent.workerId });
    } else {
      const failure = this.#failure(task, verdict.error, {
        ...verdict.details,
        workerId: agent.workerId,
        retryable: verdict.retryable,
      });
      outcome = failure.to === "pending" ? "retry" : "failed";
      to = failure.to;
      change = failure.change;
    }
    const result = await this.#store.finishAgent({
      agentRunId: agent.agentRunId,
      end: { ...agent.end, endedAt: agent.end.endedAt ?? now },
      transition: {
        taskId: task.id,
        from: to === "completed" ? statusesLeadingTo("completed") : LEASED_STATUSES,
        to,
        now,
        agentId: agent.agentRunId,
        ...change,
      },
      ...(options.claimNext ? { claim: this.#claimRequest(agent.workerId, now) } : {}),
      ...(options.workspaces ? { workspaces: options.workspaces } : {}),
      ...(options.onCompletion ? { onCompletion: options.onCompletion } : {}),
    });
    if (result.task) return { outcome, task: result.task, next: result.next };
    return { outcome: decidedElsewhere(result.current), task: result.current, next: result.next };
  }

  /**
   * A claimed task cannot start yet because building its starting tree met a conflict: it goes back to
   * `pending` behind `waitFor` (the resolver, inserted in the same transaction), with the attempt given
   * back, since nothing was tried. Null when the worker no longer holds the task.
   */
  async deferBehind(task: Task, workerId: string, waitFor: NewTask): Promise<Task | null> {
    const now = this.#clock();
    return this.#store.deferTask({
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
    });
  }

  /** A task's git workspace (null with isolation `none`). */
  workspaceOf(taskId: string): Promise<TaskWorkspace | null> {
    return this.#store.getWorkspace(taskId);
  }

  /** Workspaces of a group, of given tasks, or all. */
  workspaces(
    filter: { group?: string; taskIds?: readonly string[] } = {},
  ): Promise<TaskWorkspace[]> {
    return this.#store.listWorkspaces(filter);
  }

  /** Records workspaces as git now has them (one transaction). */
  saveWorkspaces(workspaces: readonly TaskWorkspace[]): Promise<void> {
    return this.#store.saveWorkspaces(workspaces);
  }

  /**
   * Builds a new task for the queue (validated like a submission) without adding it: a resolver that
   * goes in with another change's transaction.
   */
  async draft(input: SubmitInput, seed: (id: string) => WorkspaceSeed | null): Promise<NewTask> {
    const id = newTaskId();
    const task = await this.#validate(input, id, new Map(), null);
    return { ...task, workspace: seed(id) };
  }

  /**
   * Ends an agent from outside its run (`orchestrate kill`): its task fails without a retry, with
   * `reason`, and its run row is closed as killed, in one transaction; a task that has moved on to
   * another agent meanwhile is left alone. The run that owns the agent then finds the task already
   * ended and reports it so, once.
   */
  async killAgent(run: AgentRun, reason: string): Promise<Task | null> {
    const now = this.#clock();
    const result = await this.#store.finishAgent({
      agentRunId: run.id,
      end: { endedAt: now, endReason: "killed" },
      transition: {
        taskId: run.taskId,
        from: LEASED_STATUSES,
        to: "failed",
        now,
        agentId: run.id,
        patch: { error: reason, completedAt: now, leaseExpiresAt: null },
        event: { kind: "task:failed", data: { error: reason, agentId: run.id, killed: true } },
      },
    });
    return result.task ?? result.current;
  }

  /** Closes the rows of agents whose run died without recording their end (their leases expire). */
  async closeAgentRuns(runs: readonly AgentRun[], endReason: string): Promise<void> {
    const now = this.#clock();
    for (const run of runs) {
      await this.#store.finishAgent({ agentRunId: run.id, end: { endedAt: now, endReason } });
    }
  }

  /**
   * A worker's periodic bookkeeping in one transaction: renews the leases of `renew` (the tasks its
   * agents work on, each still assigned to its agent) and saves what its agents did lately. Returns the
   * tasks it no longer holds (cancelled, killed or taken over): their agents must stop.
   */
  async recordProgress(
    workerId: string,
    renew: readonly HeldLease[],
    agents: readonly AgentProgress[] = [],
  ): Promise<string[]> {
    const now = this.#clock();
    const { lost } = await this.#store.recordProgress({
      workerId,
      now,
      renew: { leases: renew, leaseExpiresAt: now + this.leaseMs },
      agents,
    });
    return lost;
  }

  /** Renews the lease of a task `workerId` still holds; false when it was lost (expired, cancelled). */
  async heartbeat(taskId: string, workerId: string): Promise<boolean> {
    return (await this.recordProgress(workerId, [{ taskId }])).length === 0;
  }

  /** Marks a task completed with its output (the spec's complete_task). */
  async complete(taskId: string, output: string, details: CompletionDetails = {}): Promise<Task> {
    return this.#apply(taskId, "completed", this.#completion(output, details));
  }

  #completion(output: string, details: CompletionDetails): Change {
    const now = this.#clock();
    const transition: Change = {
      patch: {
        output,
        error: null,
        completedAt: now,
        leaseExpiresAt: null,
        costUsd: details.costUsd ?? null,
        inputTokens: details.inputTokens ?? null,
        outputTokens: details.outputTokens ?? null,
        sessionId: details.sessionId ?? null,
      },
      event: { kind: "task:completed" },
    };
    if (details.workerId !== undefined) transition.workerId = details.workerId;
    return transition;
  }

  /**
   * Records a failed attempt (the spec's fail_task). While attempts remain and the failure is retryable,
   * the task goes back to `pending` after a backoff delay; otherwise it ends `failed`. What the attempt's
   * agent reported (cost, tokens, session id, for a later resume) is kept on the task, as for a success.
   */
  async fail(
    taskId: string,
    error: string,
    options: CompletionDetails & { retryable?: boolean } = {},
  ): Promise<Task> {
    const task = await this.#mustGet(taskId);
    const { to, change } = this.#failure(task, error, options);
    return this.#apply(taskId, to, change, LEASED_STATUSES);
  }

  /** The transition a failed attempt of `task` takes: back to pending after a backoff, or failed. */
  #failure(
    task: Task,
    error: string,
    options: CompletionDetails & { retryable?: boolean },
  ): { to: TaskStatus; change: Change } {
    const now = this.#clock();
    const retry = (options.retryable ?? true) && task.attempts < task.maxAttempts;
    const change: Change = retry
      ? {
          patch: {
            error,
            runAfter: now + this.#delay(task.attempts),
            leaseExpiresAt: null,
            workerId: null,
          },
          event: { kind: "task:retry_scheduled", data: { error, attempt: task.attempts } },
        }
      : {
          patch: { error, completedAt: now, leaseExpiresAt: null },
          event: { kind: "task:failed", data: { error, attempt: task.attempts } },
        };
    if (options.workerId !== undefined) change.workerId = options.workerId;
    const patch = change.patch ?? {};
    if (options.costUsd != null) patch.costUsd = options.costUsd;
    if (options.inputTokens != null) patch.inputTokens = options.inputTokens;
    if (options.outputTokens != null) patch.outputTokens = options.outputTokens;
    if (options.sessionId != null) patch.sessionId = options.sessionId;
    return { to: retry ? "pending" : "failed", change };
  }

  /** Cancels a task that has not finished; running agents notice when their lease renewal fails. */
  async cancel(ref: string, reason = "cancelled by user"): Promise<Task> {
    const taskId = await this.resolveId(ref);
    return this.#apply(taskId, "cancelled", {
      patch: { error: reason, completedAt: this.#clock(), leaseExpiresAt: null },
      event: { kind: "task:cancelled", data: { reason } },
    });
  }

  /** Sends a failed or cancelled task back to `pending` with a fresh set of attempts. */
  async retry(ref: string): Promise<Task> {
    const taskId = await this.resolveId(ref);
    return this.#apply(
      taskId,
      "pending",
      {
        patch: {
          attempts: 0,
          error: null,
          runAfter: this.#clock(),
          completedAt: null,
          workerId: null,
          assignedTo: null,
          leaseExpiresAt: null,
        },
        event: { kind: "task:requeued" },
      },
      ["failed", "cancelled"],
    );
  }

  /**
   * Gives back every task whose lease ran out (its worker died or hung): to `pending` with a backoff when
   * attempts remain, else to `failed`. Guarded so a lease renewed meanwhile is left alone.
   */
  async reapExpired(
    options: { exceptWorker?: string } = {},
  ): Promise<{ requeued: number; failed: number }> {
    const now = this.#clock();
    let requeued = 0;
    let failed = 0;
    for (const task of await this.#store.expiredLeases(now, 500)) {
      if (task.workerId !== null && task.workerId === options.exceptWorker) continue;
      const retry = task.attempts < task.maxAttempts;
      const error = `${LEASE_EXPIRED}: worker ${task.workerId ?? "?"} stopped renewing it (attempt ${task.attempts} of ${task.maxAttempts})`;
      const updated = await this.#store.transitionTask({
        taskId: task.id,
        from: LEASED_STATUSES,
        to: retry ? "pending" : "failed",
        now,
        leaseExpiredBefore: now,
        patch: retry
          ? {
              error,
              runAfter: now + this.#delay(task.attempts),
              leaseExpiresAt: null,
              workerId: null,
            }
          : { error, completedAt: now, leaseExpiresAt: null },
        event: {
          kind: "task:lease_expired",
          data: {
            workerId: task.workerId,
            attempt: task.attempts,
            outcome: retry ? "retry" : "failed",
          },
        },
      });
      if (updated) retry ? requeued++ : failed++;
    }
    return { requeued, failed };
  }

  /** The spec's list_tasks. */
  list(filter: Partial<TaskFilter> = {}): Promise<Task[]> {
    return this.#store.listTasks({ limit: 100, ...filter });
  }

  /** Tasks per status. */
  counts(): Promise<Record<TaskStatus, number>> {
    return this.#store.countByStatus();
  }

  /** Pending tasks waiting on unfinished dependencies: how many, and the first `limit`. */
  blocked(limit: number): Promise<{ count: number; tasks: BlockedTask[] }> {
    return this.#store.blockedTasks(limit);
  }

  dependenciesOf(taskId: string): Promise<DependencyInfo[]> {
    return this.#store.dependenciesOf(taskId);
  }

  dependentsOf(taskId: string): Promise<DependencyInfo[]> {
    return this.#store.dependentsOf(taskId);
  }

  /** The latest `limit` events of a task, oldest first. */
  eventsOf(taskId: string, limit: number): Promise<TaskEvent[]> {
    return this.#store.eventsFor(taskId, limit);
  }

  /** The event log after `afterId` (a cursor: the id of the last event seen), oldest first. */
  eventsAfter(afterId: number, limit: number): Promise<TaskEvent[]> {
    return this.#store.readEvents(afterId, limit);
  }

  /** Agents without an end, from every run and host. */
  runningAgents(): Promise<AgentRun[]> {
    return this.#store.runningAgents();
  }

  agentRunsOf(taskId: string): Promise<AgentRun[]> {
    return this.#store.agentRunsFor(taskId);
  }

  /** When the earliest waiting retry becomes claimable; null when no ready task waits at all. */
  nextClaimableAt(): Promise<number | null> {
    return this.#store.nextClaimableAt();
  }

  /** Old finished tasks that may go, keeping those an unfinished task still depends on. */
  cleanupCandidates(before: number): Promise<{ tasks: Task[]; keptForDependents: number }> {
    return this.#store.cleanupCandidates(before);
  }

  /** Deletes finished tasks with their events and agent runs; returns the runs removed. */
  deleteFinished(ids: readonly string[]): Promise<AgentRun[]> {
    return this.#store.deleteTasks(ids, this.#clock());
  }

  /** The task with exactly this id, or null. */
  find(id: string): Promise<Task | null> {
    return this.#store.getTask(id);
  }

  /** Looks a task up by full id or unique prefix. */
  async get(ref: string): Promise<Task> {
    return this.#mustGet(await this.resolveId(ref));
  }

  /** Resolves a full id or a unique prefix (git style) to a full id. */
  async resolveId(ref: string): Promise<string> {
    const prefix = ref.trim().toLowerCase();
    if (!looksLikeIdPrefix(prefix)) {
      throw new NotFoundError(
        `no task matches '${ref}'`,
        "task ids are hex, as shown by 'orchestrate status'",
      );
    }
    const matches = await this.#store.findTaskIds(prefix, 6);
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length === 0) {
      throw new NotFoundError(`no task matches '${ref}'`, "list tasks with 'orchestrate status'");
    }
    throw new ConflictError(
      `task id '${ref}' is ambiguous: it matches ${matches.slice(0, 5).join(", ")}${matches.length > 5 ? ", ..." : ""}`,
      "give more characters of the id",
    );
  }

  #claimRequest(workerId: string, now: number): ClaimRequest {
    return { workerId, now, leaseMs: this.leaseMs };
  }

  #delay(attempt: number): number {
    return retryDelayMs(Math.max(1, attempt), this.#backoff, this.#random);
  }

  async #mustGet(taskId: string): Promise<Task> {
    const task = await this.#store.getTask(taskId);
    if (!task) throw new NotFoundError(`no task ${taskId}`, "list tasks with 'orchestrate status'");
    return task;
  }

  async #apply(
    taskId: string,
    to: TaskStatus,
    change: Change,
    from: readonly TaskStatus[] = statusesLeadingTo(to),
  ): Promise<Task> {
    const updated = await this.#store.transitionTask({
      taskId,
      from,
      to,
      now: this.#clock(),
      ...change,
    });
    if (updated) return updated;
    const current = await this.#mustGet(taskId);
    if (
      change.workerId !== undefined &&
      current.workerId !== change.workerId &&
      from.includes(current.status)
    ) {
      throw new ConflictError(
        `task ${taskId} is no longer held by worker ${change.workerId}`,
        "its lease expired or it was given to another worker",
      );
    }
    throw new ConflictError(
      `task ${taskId} is ${current.status.replace("_", " ")}; it cannot become ${to.replace("_", " ")}`,
      hintFor(current.status, to),
    );
  }
}

/** How the reaper's error begins: tells a lost lease from a kill among failed tasks. */
const LEASE_EXPIRED = "lease expired";

/** What another process did to a task whose agent's end came too late to decide it. */
function decidedElsewhere(current: Task | null): "cancelled" | "killed" | "lost" {
  if (current?.status === "cancelled") return "cancelled";
  if (current?.status === "failed" && !current.error?.startsWith(LEASE_EXPIRED)) return "killed";
  return "lost";
}

function hintFor(current: TaskStatus, to: TaskStatus): string | undefined {
  if (to === "pending" && current === "completed")
    return "a completed task cannot be retried; submit a new task";
  if (to === "pending") return "only failed or cancelled tasks can be retried";
  if (to === "cancelled") return "only tasks that have not finished can be cancelled";
  return undefined;
}
