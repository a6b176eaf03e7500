import type { AgentEvent } from "../ports/agentBackend.ts";
import type { AgentProgress } from "../ports/store.ts";
import {
  BaseConflict,
  type DependencyWorkspace,
  type Workspace,
  type WorkspaceRelease,
  type Workspaces,
} from "../ports/workspace.ts";
import { type AgentAssignment, assignAgent, type BackendResolver } from "./agentAssignment.ts";
import { AGENT_ID_PREFIX } from "./agentMarkers.ts";
import { type AgentOutcome, type KillTree, type RunningAgent, spawnAgent } from "./agentSpawner.ts";
import type { AgentTypeInfo } from "./agentTypes.ts";
import { verdictOf } from "./agentVerdict.ts";
import { baseConflictResolver, integrationConflictResolver } from "./conflictResolution.ts";
import type { ContextManager } from "./contextManager.ts";
import { ConflictError } from "./errors.ts";
import { randomHex } from "./ids.ts";
import { buildTaskPrompt, type PriorWork } from "./promptBuilder.ts";
import type { AgentRun, NewTask, Task } from "./task.ts";
import type { AgentFinished, AgentVerdict, TaskQueue } from "./taskQueue.ts";
import type { TaskWorkspace } from "./taskWorkspace.ts";
import { oneLine } from "./text.ts";

export type { BackendResolver } from "./agentAssignment.ts";

export interface RunnerOptions {
  queue: TaskQueue;
  context: ContextManager;
  /** Where each agent works (the project directory, or a worktree per task). */
  workspaces: Workspaces;
  agentTypes: readonly AgentTypeInfo[];
  resolveBackend: BackendResolver;
  maxAgents: number;
  workerId: string;
  runId: string;
  host: string;
  env: Readonly<Record<string, string | undefined>>;
  killTree: KillTree;
  /** Keep waiting for new tasks when the queue is empty. */
  follow: boolean;
  defaultTimeoutMs: number;
  graceMs: number;
  maxOutputBytes: number;
  pollIntervalMs: number;
  /** Everything worth showing: agents starting, doing things and ending, tasks that could not start. */
  onEvent?: (event: RunnerEvent) => void;
}

/** One agent under the runner's watch, for live views. */
export interface ActiveAgent {
  agentId: string;
  task: Task;
  agentType: string;
  backend: string;
  pid: number | null;
  startedAt: number;
  lastActivity: string;
  lastActivityAt: number;
  /** When `lastActivity` was last written to the agent's run record (read by `orchestrate agents`). */
  activitySavedAt: number;
  process: RunningAgent;
  workspace: Workspace;
  /** Set when the runner itself stops the agent because its task was taken away (cancelled, killed). */
  stoppedBecause: string | null;
}

/** What the runner reports as it goes; front ends render these (live view, log lines, a dashboard). */
export type RunnerEvent =
  | { type: "agent:started"; agent: ActiveAgent }
  | { type: "agent:activity"; agent: ActiveAgent }
  | {
      type: "agent:finished";
      agent: ActiveAgent;
      /** What became of the task; `cancelled`, `killed` and `taken-over` came from another process. */
      result:
        | "completed"
        | "retry"
        | "failed"
        | "cancelled"
        | "killed"
        | "taken-over"
        | "unrecorded";
      /** Why it ended, in a word (completed, failed, timeout, killed, crashed). */
      reason: string;
      /** The error, when it did not complete. */
      error: string | null;
      durationMs: number;
      /** The task as it is now; null when that could not be recorded or read. */
      task: Task | null;
    }
  | {
      type: "task:not-started";
      task: Task;
      /** `failed` (no retry), `retry`, or `cancelled` (taken away before its agent started). */
      result: "failed" | "retry" | "cancelled";
      error: string;
    }
  | {
      type: "task:conflict";
      /** The task whose branch conflicted: waiting to start (`base`) or finished (`integration`). */
      task: Task;
      kind: "base" | "integration";
      files: readonly string[];
      /** The resolver task queued for it. */
      resolverId: string;
    }
  | { type: "warning"; message: string };

/** How often new agent activity is written for other terminals (only agents that did something). */
export const ACTIVITY_SAVE_EVERY_MS = 2_000;

export interface RunSummary {
  completed: number;
  failed: number;
  retried: number;
  cancelled: number;
  interrupted: boolean;
}

/**
 * The spec's Task Distributor: claims runnable tasks (priority, then age; dependencies complete) while
 * fewer than `maxAgents` agents run, renews their leases while they live, and records each outcome. A
 * dependent starts as soon as its last dependency completes: a finishing agent's task is recorded and
 * the next task claimed in one transaction.
 *
 * Deciding is separate from doing: `assignAgent` and `verdictOf` decide who runs a task and what an
 * agent's end means; this class does the rest (workspace, prompt, process, records). One task's failure
 * to start fails (or, when it was taken away meanwhile, drops) that task with the reason, and the run
 * goes on. Per task the store sees two commits: the start (task in progress with its agent-run row) and
 * the finish (agent ended, task completed or failed, next task claimed).
 */
export class Runner {
  readonly options: RunnerOptions;
  readonly active = new Map<string, ActiveAgent>();
  readonly summary: RunSummary = {
    completed: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    interrupted: false,
  };
  #claiming = true;
  /** Set by `killAll`: an agent that finishes starting after it is ended at once. */
  #killing = false;
  /** Tasks claimed whose agent is not running yet (being prepared). Each holds a slot. */
  #launching = 0;
  /** Those tasks by id: their leases are renewed while their workspace is prepared (a set-up can be slow). */
  readonly #preparing = new Map<string, Task>();
  #wake: (() => void) | null = null;
  #contextTimer: NodeJS.Timeout | null = null;
  #completedChanged = false;
  #tickTimer: NodeJS.Timeout | null = null;
  #ticking = false;
  #lastRenewAt = 0;
  #finishing = new Set<Promise<void>>();

  constructor(options: RunnerOptions) {
    this.options = options;
  }

  /** Stops taking new tasks; running agents finish (the first Ctrl-C). */
  stopClaiming(): void {
    this.#claiming = false;
    this.summary.interrupted = true;
    this.#wake?.();
  }

  /** Ends every running agent's process tree (the second Ctrl-C); their tasks go back for a retry. */
  async killAll(): Promise<void> {
    this.stopClaiming();
    this.#killing = true;
    await Promise.all([...this.active.values()].map((a) => a.process.kill("killed")));
  }

  get claiming(): boolean {
    return this.#claiming;
  }

  /** Slots in use: running agents and tasks whose agent is being started. */
  get busy(): number {
    return this.active.size + this.#launching;
  }

  async run(): Promise<RunSummary> {
    this.options.context.ensureLayout();
    this.#ticking = true;
    this.#scheduleTick();
    try {
      for (;;) {
        if (this.#claiming) await this.#fill();
        if (this.busy === 0 && (!this.#claiming || !(await this.#workMayAppear()))) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollIntervalMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
      }
      await Promise.all(this.#finishing);
    } finally {
      this.#ticking = false;
      if (this.#tickTimer) clearTimeout(this.#tickTimer);
      await this.#flushContextFiles();
    }
    return this.summary;
  }

  /** Claims and starts tasks until every slot is busy or nothing is claimable. */
  async #fill(): Promise<void> {
    while (this.#claiming && this.busy < this.options.maxAgents) {
      let task: Task | null;
      try {
        task = await this.options.queue.next(this.options.workerId);
      } catch (error) {
        this.#warn(`could not claim a task: ${messageOf(error)}`);
        return;
      }
      if (!task) return;
      this.#launching++;
      await this.#launch(task);
    }
  }

  /** Whether waiting could still yield work: retries in backoff, tasks other workers hold, or --follow. */
  async #workMayAppear(): Promise<boolean> {
    if (this.options.follow) return true;
    const { queue } = this.options;
    const counts = await queue.counts();
    if (counts.assigned + counts.in_progress > 0) return true;
    return (await queue.nextClaimableAt()) !== null;
  }

  /**
   * Starts the agent of a claimed task (whose slot the caller reserved in `#launching`). Everything
   * between the claim and a running, recorded agent happens here, inside one error boundary.
   */
  async #launch(task: Task): Promise<void> {
    this.#preparing.set(task.id, task);
    try {
      await this.#launchPrepared(task);
    } finally {
      this.#preparing.delete(task.id);
    }
  }

  async #launchPrepared(task: Task): Promise<void> {
    let assignment: AgentAssignment;
    try {
      assignment = assignAgent(task, this.options);
    } catch (error) {
      this.#launching--;
      return this.#notStarted(task, `cannot run: ${messageOf(error)}`, false);
    }
    const agentId = `${AGENT_ID_PREFIX}${randomHex(8)}`;
    let agent: ActiveAgent;
    try {
      agent = await this.#spawn(task, agentId, assignment);
    } catch (error) {
      this.#launching--;
      if (error instanceof BaseConflict) return this.#deferForConflict(task, error);
      return this.#notStarted(task, `could not start its agent: ${messageOf(error)}`, true);
    }
    let started: Task | null;
    try {
      started = await this.options.queue.startAgent(
        task,
        this.#agentRun(agent),
        agent.workspace.record ?? undefined,
      );
    } catch (error) {
      // Not recorded: the agent must not work untracked. Its lease expires and the task runs again.
      await this.#discard(agent);
      this.#launching--;
      this.#warn(`could not record the start of ${shortTask(task)}: ${messageOf(error)}`);
      return;
    }
    if (!started) {
      // Cancelled or taken over between the claim and now: this agent must not work on it.
      await this.#discard(agent);
      this.#launching--;
      this.#takenAway(task);
      return;
    }
    agent.task = started;
    this.active.set(agentId, agent);
    this.#launching--;
    const finishing = agent.process.done
      .then((outcome) => this.#finish(agent, outcome))
      .catch((error: unknown) => this.#warn(`${agent.agentId}: ${messageOf(error)}`));
    this.#finishing.add(finishing);
    void finishing.finally(() => this.#finishing.delete(finishing));
    this.#scheduleContextFiles();
    this.#emit({ type: "agent:started", agent });
    // The second Ctrl-C came while this agent was being started: it ends with the others.
    if (this.#killing) void agent.process.kill("killed");
  }

  /** A claimed task cancelled or taken over before its agent started: counted and reported, not run. */
  #takenAway(task: Task): void {
    this.summary.cancelled++;
    this.#emit({
      type: "task:not-started",
      task,
      result: "cancelled",
      error: "taken away (cancelled or killed) before its agent started",
    });
  }

  /** Ends an agent that was spawned but must not work (its start could not be recorded). */
  async #discard(agent: ActiveAgent): Promise<void> {
    try {
      await agent.process.kill("killed");
      await agent.process.done;
    } catch (error) {
      this.#warn(`could not end ${agent.agentId}: ${messageOf(error)}`);
    }
    await this.#release(agent, false, "killed");
  }

  /** Prepares the workspace and the prompt, and spawns the agent process. */
  async #spawn(task: Task, agentId: string, assignment: AgentAssignment): Promise<ActiveAgent> {
    const workspace = await this.options.workspaces.acquire({
      task,
      agentId,
      ...(await this.#workspaceInputs(task)),
    });
    try {
      return await this.#spawnIn(workspace, task, agentId, assignment);
    } catch (error) {
      await workspace.release({ success: false, reason: "not started" }).catch(() => {});
      throw error;
    }
  }

  /** The task's recorded workspace and its dependencies' (resolvers first), for a workspace with branches. */
  async #workspaceInputs(
    task: Task,
  ): Promise<{ record: TaskWorkspace | null; dependencies: DependencyWorkspace[] }> {
    const { queue, workspaces } = this.options;
    if (workspaces.kind === "directory") return { record: null, dependencies: [] };
    const record = await queue.workspaceOf(task.id);
    const deps = await queue.dependenciesOf(task.id);
    const records =
      deps.length > 0 ? await queue.workspaces({ taskIds: deps.map((d) => d.id) }) : [];
    const dependencies: DependencyWorkspace[] = [];
    for (const ws of records) {
      const dep = await queue.find(ws.taskId);
      if (dep) dependencies.push({ task: dep, workspace: ws });
    }
    // A resolver's branch holds the dependencies it reconciled: merged first, they merge cleanly after.
    dependencies.sort(
      (a, b) => Number(b.workspace.resolves !== null) - Number(a.workspace.resolves !== null),
    );
    return { record, dependencies };
  }

  /**
   * A claimed task whose dependencies' branches conflict: a resolver task is queued with the merge to
   * reconcile, and the task goes back to wait for it, its attempt given back.
   */
  async #deferForConflict(task: Task, conflict: BaseConflict): Promise<void> {
    const { queue } = this.options;
    try {
      const sides = await Promise.all(conflict.mergedTaskIds.map((id) => queue.find(id)));
      const resolver = baseConflictResolver({
        task,
        workspace: conflict.workspace,
        files: conflict.files,
        merges: conflict.merges,
        sides: sides.filter((t): t is Task => t !== null),
      });
      const waitFor = await queue.draft(resolver.input, resolver.seed);
      const deferred = await queue.deferBehind(task, this.options.workerId, waitFor);
      if (!deferred) {
        this.#takenAway(task);
        return;
      }
      this.#emit({
        type: "task:conflict",
        task: deferred,
        kind: "base",
        files: conflict.files,
        resolverId: waitFor.id,
      });
    } catch (error) {
      await this.#notStarted(
        task,
        `its dependencies' branches conflict (${conflict.files.join(", ")}) and no resolver could be queued: ${messageOf(error)}`,
        true,
      );
    }
  }

  async #spawnIn(
    workspace: Workspace,
    task: Task,
    agentId: string,
    assignment: AgentAssignment,
  ): Promise<ActiveAgent> {
    const { context } = this.options;
    const outputPath = context.outputPath(agentId);
    const prompt = buildTaskPrompt({
      task,
      agentType: assignment.agentType,
      projectContext: context.readProjectContext(),
      dependencies: await this.#dependencyOutputs(task),
      planSiblings: await this.#planSiblings(task),
      artifacts: context.listArtifacts(),
      artifactsDir: context.artifactsDir,
      outputFile: outputPath,
      workspaceNote: workspace.promptNote,
    });
    const startedAt = Date.now();
    const process = spawnAgent({
      agentId,
      runId: this.options.runId,
      backend: assignment.backend,
      request: {
        prompt,
        systemPrompt: assignment.systemPrompt,
        cwd: workspace.dir,
        scratchDir: context.scratchDir(agentId),
      },
      env: this.options.env,
      outputPath,
      rawPath: context.rawPath(agentId),
      maxOutputBytes: this.options.maxOutputBytes,
      timeoutMs: assignment.timeoutMs,
      graceMs: this.options.graceMs,
      killTree: this.options.killTree,
      onEvent: (event) => this.#onAgentEvent(agentId, event),
    });
    return {
      agentId,
      task,
      agentType: assignment.agentType,
      backend: assignment.backend.name,
      pid: process.pid ?? null,
      startedAt,
      lastActivity: "starting",
      lastActivityAt: startedAt,
      activitySavedAt: startedAt,
      process,
      workspace,
      stoppedBecause: null,
    };
  }

  #agentRun(agent: ActiveAgent): AgentRun {
    const { context } = this.options;
    return {
      id: agent.agentId,
      taskId: agent.task.id,
      agentType: agent.agentType,
      backend: agent.backend,
      workerId: this.options.workerId,
      host: this.options.host,
      pid: agent.pid,
      startedAt: agent.startedAt,
      endedAt: null,
      exitCode: null,
      endReason: null,
      outputPath: context.relativeToBase(context.outputPath(agent.agentId)),
      runId: this.options.runId,
      lastActivityAt: agent.startedAt,
      lastActivity: "starting",
      rawPath: context.relativeToBase(context.rawPath(agent.agentId)),
      costUsd: null,
      inputTokens: null,
      outputTokens: null,
      sessionId: null,
    };
  }

  /** A claimed task whose agent could not start: fail the attempt (or not retry it) and go on. */
  async #notStarted(task: Task, error: string, retryable: boolean): Promise<void> {
    let result: "failed" | "retry" | "cancelled";
    try {
      const after = await this.options.queue.fail(task.id, error, {
        workerId: this.options.workerId,
        retryable,
      });
      result = after.status === "pending" ? "retry" : "failed";
    } catch (failure) {
      if (!(failure instanceof ConflictError)) {
        // Not recorded (the store is busy or gone): the lease expires and the task runs again.
        this.#warn(`could not record that ${shortTask(task)} did not start: ${messageOf(failure)}`);
        return;
      }
      // Taken away meanwhile (cancelled from another terminal): nothing of ours to record.
      result = "cancelled";
    }
    if (result === "failed") this.summary.failed++;
    else if (result === "retry") this.summary.retried++;
    else this.summary.cancelled++;
    this.#emit({ type: "task:not-started", task, result, error });
  }

  #onAgentEvent(agentId: string, event: AgentEvent): void {
    const agent = this.active.get(agentId);
    if (!agent) return;
    const summary = describeEvent(event);
    if (!summary) return;
    agent.lastActivity = summary;
    agent.lastActivityAt = Date.now();
    this.#emit({ type: "agent:activity", agent });
  }

  /**
   * Records an agent's end: the workspace is released, then one transaction closes the agent's run,
   * completes or fails its task and claims the next task for the freed slot.
   */
  async #finish(agent: ActiveAgent, outcome: AgentOutcome): Promise<void> {
    const released = await this.#release(
      agent,
      outcome.success,
      await this.#endReason(agent, outcome),
    );
    const { verdict, workspaces, onCompletion, conflict, reason } = await this.#integrationVerdict(
      agent,
      verdictOf(outcome),
      released,
    );
    const now = Date.now();
    // This agent's slot is free now; while the run takes tasks, the same transaction fills it.
    const claimNext = this.#claiming;
    let finished: AgentFinished | null = null;
    try {
      finished = await this.options.queue.finishAgent(
        agent.task,
        {
          agentRunId: agent.agentId,
          workerId: this.options.workerId,
          end: {
            endedAt: now,
            exitCode: outcome.exitCode,
            endReason: agent.stoppedBecause ?? outcome.reason,
            lastActivity: agent.lastActivity,
            lastActivityAt: agent.lastActivityAt,
            costUsd: outcome.costUsd,
            inputTokens: outcome.inputTokens,
            outputTokens: outcome.outputTokens,
            sessionId: outcome.sessionId,
          },
        },
        verdict,
        { claimNext, workspaces, ...(onCompletion ? { onCompletion } : {}) },
      );
    } catch (error) {
      this.#warn(`could not record the end of ${agent.agentId}: ${messageOf(error)}`);
    }
    if (conflict && finished?.outcome === "completed" && finished.task) {
      this.#emit({ type: "task:conflict", task: finished.task, kind: "integration", ...conflict });
    }
    const next = finished?.next ?? null;
    if (next) this.#launching++;
    this.active.delete(agent.agentId);
    const result = this.#count(finished);
    if (result === "completed") this.#completedChanged = true;
    this.#emit({
      type: "agent:finished",
      agent,
      result,
      reason: result === "killed" ? "killed" : (agent.stoppedBecause ?? reason ?? outcome.reason),
      error: result === "completed" ? null : (finished?.task?.error ?? verdictError(verdict)),
      durationMs: now - agent.startedAt,
      task: finished?.task ?? null,
    });
    this.#scheduleContextFiles();
    if (next) await this.#launch(next);
    this.#wake?.();
  }

  /**
   * Why an agent ended, for its workspace's commit: the runner's own reason when it stopped the agent,
   * `killed` when `orchestrate kill` ended it from another terminal (its task is already failed under
   * it), else what the agent's process said.
   */
  async #endReason(agent: ActiveAgent, outcome: AgentOutcome): Promise<string> {
    if (agent.stoppedBecause) return agent.stoppedBecause;
    if (outcome.success || this.options.workspaces.kind === "directory") return outcome.reason;
    const runs = await this.options.queue.agentRunsOf(agent.task.id).catch(() => []);
    const closedElsewhere = runs.find((run) => run.id === agent.agentId)?.endReason;
    return closedElsewhere === "killed" ? "killed" : outcome.reason;
  }

  /** Counts a finished agent's task in the summary and says what became of it. */
  #count(
    finished: AgentFinished | null,
  ): Extract<RunnerEvent, { type: "agent:finished" }>["result"] {
    if (!finished) return "unrecorded";
    switch (finished.outcome) {
      case "completed":
        this.summary.completed++;
        return "completed";
      case "retry":
        this.summary.retried++;
        return "retry";
      case "failed":
      case "killed":
        this.summary.failed++;
        return finished.outcome;
      case "cancelled":
        this.summary.cancelled++;
        return "cancelled";
      case "lost":
        // Its lease expired meanwhile: given back for another attempt, or failed for good.
        if (finished.task?.status === "failed") this.summary.failed++;
        else if (finished.task?.status !== "completed") this.summary.retried++;
        return "taken-over";
    }
  }

  async #release(
    agent: ActiveAgent,
    success: boolean,
    reason: string,
  ): Promise<WorkspaceRelease | { failed: string }> {
    try {
      return await agent.workspace.release({ success, reason });
    } catch (error) {
      this.#warn(`could not release the workspace of ${agent.agentId}: ${messageOf(error)}`);
      return { failed: messageOf(error) };
    }
  }

  /**
   * What merging a successful agent's branch means for its task: a failed verification sends it back
   * with the output (the next attempt's prompt shows it); a conflict completes it and queues a resolver
   * in the same transaction; a resolver merged marks the tasks it reconciled as merged.
   */
  async #integrationVerdict(
    agent: ActiveAgent,
    verdict: AgentVerdict,
    released: WorkspaceRelease | { failed: string },
  ): Promise<{
    verdict: AgentVerdict;
    workspaces: TaskWorkspace[];
    onCompletion: { insert: NewTask[]; workspaces: TaskWorkspace[] } | null;
    conflict: { files: readonly string[]; resolverId: string } | null;
    /** Why the task did not complete although its agent succeeded. */
    reason?: string;
  }> {
    if ("failed" in released) {
      // Its work may not be on its branch, or not merged: it must not count as done.
      const plain = { verdict, workspaces: [], onCompletion: null, conflict: null };
      if (verdict.kind !== "completed") return plain;
      return {
        ...plain,
        reason: "not saved",
        verdict: {
          kind: "failed",
          error: `its work could not be committed or merged: ${released.failed}`,
          retryable: true,
          details: verdict.details,
        },
      };
    }
    const record = released.record;
    const workspaces = record ? [record] : [];
    const integration = released.integration;
    const plain = { verdict, workspaces, onCompletion: null, conflict: null };
    if (verdict.kind !== "completed" || !record || !integration) return plain;
    const { queue } = this.options;
    switch (integration.kind) {
      case "rejected":
        return {
          ...plain,
          reason: "not merged",
          verdict: {
            kind: "failed",
            error: notMergedError(integration.output),
            retryable: true,
            details: verdict.details,
          },
        };
      case "merged": {
        const forTasks = record.resolves?.kind === "integration" ? record.resolves.forTasks : [];
        if (forTasks.length === 0) return plain;
        const reconciled = await queue.workspaces({ taskIds: forTasks });
        const now = Date.now();
        return {
          ...plain,
          onCompletion: {
            insert: [],
            workspaces: reconciled.map((ws) => ({ ...ws, merge: "merged", updatedAt: now })),
          },
        };
      }
      case "conflict": {
        const merged = await queue.workspaces({ group: record.group });
        const touching = merged.filter(
          (ws) =>
            ws.merge === "merged" &&
            ws.taskId !== record.taskId &&
            ws.filesChanged.some((f) => integration.files.includes(f)),
        );
        const otherSide = (await Promise.all(touching.map((ws) => queue.find(ws.taskId)))).filter(
          (t): t is Task => t !== null,
        );
        const resolver = integrationConflictResolver({
          task: agent.task,
          workspace: record,
          files: integration.files,
          otherSide,
        });
        const task = await queue.draft(resolver.input, resolver.seed);
        return {
          verdict,
          workspaces,
          onCompletion: {
            insert: [task],
            workspaces: [{ ...record, merge: "conflict", resolverTaskId: task.id }],
          },
          conflict: { files: integration.files, resolverId: task.id },
        };
      }
    }
  }

  /** One bookkeeping tick at a time: the next is scheduled only when this one is done. */
  #scheduleTick(): void {
    const leaseEvery = this.#leaseEvery();
    const every = Math.min(ACTIVITY_SAVE_EVERY_MS, leaseEvery);
    this.#tickTimer = setTimeout(async () => {
      try {
        await this.#tick();
      } catch (error) {
        this.#warn(`could not renew leases: ${messageOf(error)}`);
      }
      if (this.#ticking) this.#scheduleTick();
    }, every);
  }

  #leaseEvery(): number {
    return Math.max(200, Math.floor(this.options.queue.leaseMs / 3));
  }

  /**
   * Renews the leases of running agents when due and writes the latest activity of agents that did
   * something since it was last written, so that `orchestrate agents` in another terminal is at most a
   * couple of seconds behind: one transaction, and none when nothing is due. Then it gives back other
   * workers' expired leases when that is due. Agents whose task was taken away (cancelled, killed from
   * another terminal) are stopped, without waiting for them: the next tick must not be late.
   */
  async #tick(): Promise<void> {
    const now = Date.now();
    const agents = [...this.active.values()];
    const renewDue = now - this.#lastRenewAt >= this.#leaseEvery();
    const changed = agents.filter((agent) => agent.lastActivityAt > agent.activitySavedAt);
    if (renewDue || changed.length > 0) {
      const progress: AgentProgress[] = changed.map((agent) => ({
        agentRunId: agent.agentId,
        lastActivity: agent.lastActivity,
        lastActivityAt: agent.lastActivityAt,
      }));
      const savedUpTo = new Map(changed.map((agent) => [agent, agent.lastActivityAt]));
      const lost = await this.options.queue.recordProgress(
        this.options.workerId,
        renewDue
          ? [
              ...agents.map((a) => ({ taskId: a.task.id, agentRunId: a.agentId })),
              ...[...this.#preparing.keys()]
                .filter((id) => !agents.some((a) => a.task.id === id))
                .map((taskId) => ({ taskId })),
            ]
          : [],
        progress,
      );
      // Only what was written counts as saved: a failed tick is retried in full by the next.
      if (renewDue) this.#lastRenewAt = now;
      for (const [agent, at] of savedUpTo) agent.activitySavedAt = at;
      for (const taskId of lost) {
        const agent = agents.find((a) => a.task.id === taskId);
        if (agent && !agent.stoppedBecause && this.active.has(agent.agentId))
          void this.#stop(agent);
      }
    }
    await this.options.queue.reapIfDue(this.options.workerId);
  }

  /** Stops an agent whose task was taken away, saying why in its run's end. */
  async #stop(agent: ActiveAgent): Promise<void> {
    agent.stoppedBecause = "lease lost";
    const current = await this.options.queue.find(agent.task.id).catch(() => null);
    if (current?.status === "cancelled") agent.stoppedBecause = "cancelled";
    else if (current?.status === "failed") agent.stoppedBecause = "killed";
    await agent.process.kill("killed").catch((error: unknown) => {
      this.#warn(`could not stop ${agent.agentId}: ${messageOf(error)}`);
    });
  }

  async #dependencyOutputs(task: Task): Promise<PriorWork[]> {
    const { queue } = this.options;
    const deps = await queue.dependenciesOf(task.id);
    const work: PriorWork[] = [];
    for (const info of deps) {
      const dep = await queue.find(info.id);
      if (!dep) continue;
      const runs = await queue.agentRunsOf(dep.id);
      const last = runs.filter((r) => r.endReason === "completed").at(-1);
      work.push({
        id: dep.id,
        description: dep.description,
        agentType: dep.agentType,
        output: dep.output,
        outputFile: last?.outputPath ? `${this.options.context.baseDir}/${last.outputPath}` : null,
      });
    }
    return work;
  }

  async #planSiblings(task: Task): Promise<PriorWork[]> {
    if (!task.planId) return [];
    const { queue } = this.options;
    const siblings = await queue.list({ planId: task.planId, status: "completed", limit: 50 });
    const deps = new Set((await queue.dependenciesOf(task.id)).map((d) => d.id));
    return siblings
      .filter((s) => s.id !== task.id && !deps.has(s.id))
      .map((s) => ({
        id: s.id,
        description: s.description,
        agentType: s.agentType,
        output: s.output,
        outputFile: null,
      }));
  }

  /**
   * active_agents.json and completed_tasks.json are rewritten at most twice a second: rewriting them on
   * every start and completion cost more than the rest of a short task's orchestration together.
   */
  #scheduleContextFiles(): void {
    if (this.#contextTimer) return;
    this.#contextTimer = setTimeout(() => void this.#flushContextFiles(), 500);
  }

  async #flushContextFiles(): Promise<void> {
    if (this.#contextTimer) clearTimeout(this.#contextTimer);
    this.#contextTimer = null;
    try {
      this.#writeActiveAgents();
      if (this.#completedChanged) {
        this.#completedChanged = false;
        await this.#writeCompletedTasks();
      }
    } catch (error) {
      this.#warn(`could not write the context files: ${messageOf(error)}`);
    }
  }

  #writeActiveAgents(): void {
    this.options.context.writeActiveAgents(
      [...this.active.values()].map((a) => ({
        agentId: a.agentId,
        taskId: a.task.id,
        agentType: a.agentType,
        backend: a.backend,
        pid: a.pid,
        startedAt: a.startedAt,
        runId: this.options.runId,
      })),
    );
  }

  async #writeCompletedTasks(): Promise<void> {
    const done = await this.options.queue.list({
      status: "completed",
      limit: 200,
      newestFirst: true,
    });
    this.options.context.writeCompletedTasks(
      done.map((t) => ({
        id: t.id,
        description: t.description,
        agentType: t.agentType,
        planId: t.planId,
        completedAt: t.completedAt,
        outputFile: null,
        summary: oneLine(t.output ?? "", 500),
      })),
    );
  }

  #warn(message: string): void {
    this.#emit({ type: "warning", message });
  }

  /** Tells the listener; a listener that throws (a view's bug) must not break the run. */
  #emit(event: RunnerEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // Nothing sensible to report it to: the listener is how the run reports.
    }
  }
}

function describeEvent(event: AgentEvent): string | null {
  switch (event.type) {
    case "text":
      return oneLine(event.text, 80) || null;
    case "tool_use":
      return `tool ${event.name}${event.input ? ` ${oneLine(event.input, 60)}` : ""}`;
    case "retry":
      return `retrying: ${oneLine(event.message, 60)}`;
    case "error":
      return `error: ${oneLine(event.message, 60)}`;
    case "result":
      return event.success ? "finished" : "reported failure";
    default:
      return null;
  }
}

/** The error of a task whose merge was refused: the gist first, then the output that says why. */
function notMergedError(output: string): string {
  const gist = oneLine(output, 200);
  const full = output.trim();
  return full === gist
    ? `its work was not merged: ${gist}`
    : `its work was not merged: ${gist}\n\n${full.slice(-8_000)}`;
}

function verdictError(verdict: ReturnType<typeof verdictOf>): string | null {
  return verdict.kind === "failed" ? verdict.error : null;
}

function shortTask(task: Task): string {
  return task.id.slice(0, 8);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
