import type { AgentBackend, AgentEvent } from "../ports/agentBackend.ts";
import { type AgentOutcome, type KillTree, type RunningAgent, spawnAgent } from "./agentSpawner.ts";
import { type AgentTypeInfo, routeByKeywords } from "./agentTypes.ts";
import type { ContextManager } from "./contextManager.ts";
import { randomHex } from "./ids.ts";
import { buildTaskPrompt, type PriorWork } from "./promptBuilder.ts";
import type { Task } from "./task.ts";
import type { TaskQueue } from "./taskQueue.ts";

/**
 * Chooses the backend for a task; throws (with a reason) when none can run it. `check`, when present,
 * refuses a whole run up front (before anything is claimed) when waiting tasks could not run.
 */
export type BackendResolver = ((task: Task, agentType: string) => AgentBackend) & {
  check?: (queue: TaskQueue) => Promise<void>;
};

export interface RunnerOptions {
  queue: TaskQueue;
  context: ContextManager;
  agentTypes: readonly AgentTypeInfo[];
  resolveBackend: BackendResolver;
  maxAgents: number;
  workerId: string;
  runId: string;
  host: string;
  /** The project directory agents work in. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  killTree: KillTree;
  /** Keep waiting for new tasks when the queue is empty. */
  follow: boolean;
  defaultTimeoutMs: number;
  graceMs: number;
  maxOutputBytes: number;
  pollIntervalMs: number;
  /** Called on every change worth showing (start, event, end). */
  onChange?: (runner: Runner) => void;
  /** Plain log lines (agent started, finished, failed). */
  log?: (line: string) => void;
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
}

/** How often new agent activity is written for other terminals (only agents that did something). */
export const ACTIVITY_SAVE_EVERY_MS = 2_000;

export interface RunSummary {
  completed: number;
  failed: number;
  retried: number;
  interrupted: boolean;
}

/**
 * The spec's Task Distributor: claims runnable tasks (priority, then age; dependencies complete) while fewer
 * than `maxAgents` agents run, renews their leases while they live, and records each outcome. A dependent
 * starts as soon as its last dependency completes, because every finished agent triggers a new fill.
 * It ends when nothing is running or runnable, unless `follow` is set.
 */
export class Runner {
  readonly options: RunnerOptions;
  readonly active = new Map<string, ActiveAgent>();
  readonly summary: RunSummary = { completed: 0, failed: 0, retried: 0, interrupted: false };
  #claiming = true;
  #wake: (() => void) | null = null;
  #contextTimer: NodeJS.Timeout | null = null;
  #completedChanged = false;
  #heartbeat: NodeJS.Timeout | null = null;
  #activityTimer: NodeJS.Timeout | null = null;

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
    await Promise.all([...this.active.values()].map((a) => a.process.kill("killed")));
  }

  get claiming(): boolean {
    return this.#claiming;
  }

  async run(): Promise<RunSummary> {
    this.options.context.ensureLayout();
    const leaseEvery = Math.max(200, Math.floor(this.options.queue.leaseMs / 3));
    this.#heartbeat = setInterval(() => void this.#renewLeases(), leaseEvery);
    this.#activityTimer = setInterval(() => void this.#saveActivity(), ACTIVITY_SAVE_EVERY_MS);
    try {
      for (;;) {
        if (this.#claiming) await this.#fill();
        if (this.active.size === 0 && (!this.#claiming || !(await this.#workMayAppear()))) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollIntervalMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
      }
    } finally {
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      if (this.#activityTimer) clearInterval(this.#activityTimer);
      await this.#flushContextFiles();
    }
    return this.summary;
  }

  /** Claims and starts tasks until every slot is busy or nothing is claimable. */
  async #fill(): Promise<void> {
    while (this.#claiming && this.active.size < this.options.maxAgents) {
      let task: Task | null;
      try {
        task = await this.options.queue.next(this.options.workerId);
      } catch (error) {
        this.options.log?.(`could not claim a task: ${(error as Error).message}`);
        return;
      }
      if (!task) return;
      await this.#start(task);
    }
  }

  /** Whether waiting could still yield work: retries in backoff, tasks other workers hold, or --follow. */
  async #workMayAppear(): Promise<boolean> {
    if (this.options.follow) return true;
    const store = this.options.queue.store;
    const counts = await store.countByStatus();
    if (counts.assigned + counts.in_progress > 0) return true;
    return (await store.nextClaimableAt()) !== null;
  }

  async #start(task: Task): Promise<void> {
    const { queue, context } = this.options;
    const agentType = task.agentType ?? routeByKeywords(task.description, this.options.agentTypes);
    const type = this.options.agentTypes.find((t) => t.name === agentType);
    let backend: AgentBackend;
    try {
      backend = this.options.resolveBackend(task, agentType);
    } catch (error) {
      await queue.fail(task.id, (error as Error).message, {
        workerId: this.options.workerId,
        retryable: false,
      });
      this.summary.failed++;
      this.options.log?.(`✗ ${task.id.slice(0, 8)} cannot run: ${(error as Error).message}`);
      return;
    }
    const agentId = `agent-${randomHex(8)}`;
    const outputPath = context.outputPath(agentId);
    const prompt = buildTaskPrompt({
      task,
      agentType,
      projectContext: context.readProjectContext(),
      dependencies: await this.#dependencyOutputs(task),
      planSiblings: await this.#planSiblings(task),
      artifacts: context.listArtifacts(),
      artifactsDir: context.artifactsDir,
      outputFile: outputPath,
    });
    const startedAt = Date.now();
    const process = spawnAgent({
      agentId,
      runId: this.options.runId,
      backend,
      request: {
        prompt,
        systemPrompt: type?.systemPrompt ?? "",
        cwd: this.options.cwd,
        scratchDir: context.scratchDir(agentId),
      },
      env: this.options.env,
      outputPath,
      rawPath: context.rawPath(agentId),
      maxOutputBytes: this.options.maxOutputBytes,
      timeoutMs: task.timeoutMs ?? backend.defaultTimeoutMs ?? this.options.defaultTimeoutMs,
      graceMs: this.options.graceMs,
      killTree: this.options.killTree,
      onEvent: (event) => this.#onEvent(agentId, event),
    });
    const agent: ActiveAgent = {
      agentId,
      task,
      agentType,
      backend: backend.name,
      pid: process.pid ?? null,
      startedAt,
      lastActivity: "starting",
      lastActivityAt: startedAt,
      activitySavedAt: startedAt,
      process,
    };
    this.active.set(agentId, agent);
    await queue.start(task.id, this.options.workerId, agentId, backend.name);
    await queue.store.insertAgentRun({
      id: agentId,
      taskId: task.id,
      agentType,
      backend: backend.name,
      workerId: this.options.workerId,
      host: this.options.host,
      pid: process.pid ?? null,
      startedAt,
      endedAt: null,
      exitCode: null,
      endReason: null,
      outputPath: context.relativeToBase(outputPath),
      runId: this.options.runId,
      lastActivityAt: startedAt,
      lastActivity: "starting",
      rawPath: context.relativeToBase(context.rawPath(agentId)),
      costUsd: null,
      inputTokens: null,
      outputTokens: null,
      sessionId: null,
    });
    this.#scheduleContextFiles();
    this.options.log?.(
      `▶ ${task.id.slice(0, 8)} ${agentType} via ${backend.name} (${agentId}, pid ${process.pid ?? "?"}): ${oneLine(task.description, 60)}`,
    );
    this.options.onChange?.(this);
    void process.done.then((outcome) => this.#finish(agent, outcome));
  }

  #onEvent(agentId: string, event: AgentEvent): void {
    const agent = this.active.get(agentId);
    if (!agent) return;
    const summary = describeEvent(event);
    if (!summary) return;
    agent.lastActivity = summary;
    agent.lastActivityAt = Date.now();
    this.options.onChange?.(this);
  }

  async #finish(agent: ActiveAgent, outcome: AgentOutcome): Promise<void> {
    const { queue } = this.options;
    const now = Date.now();
    const short = agent.task.id.slice(0, 8);
    try {
      await queue.store.updateAgentRun(
        agent.agentId,
        {
          endedAt: now,
          exitCode: outcome.exitCode,
          endReason: outcome.reason,
          lastActivity: agent.lastActivity,
          lastActivityAt: agent.lastActivityAt,
          costUsd: outcome.costUsd,
          inputTokens: outcome.inputTokens,
          outputTokens: outcome.outputTokens,
          sessionId: outcome.sessionId,
        },
        now,
      );
      if (outcome.success) {
        await queue.complete(agent.task.id, outcome.text, {
          workerId: this.options.workerId,
          costUsd: outcome.costUsd,
          inputTokens: outcome.inputTokens,
          outputTokens: outcome.outputTokens,
          sessionId: outcome.sessionId,
        });
        this.summary.completed++;
        this.options.log?.(
          `✓ ${short} completed in ${Math.round((now - agent.startedAt) / 1000)}s (${agent.agentId})`,
        );
        this.#completedChanged = true;
      } else {
        const after = await queue.fail(agent.task.id, outcome.error ?? outcome.reason, {
          workerId: this.options.workerId,
          costUsd: outcome.costUsd,
          inputTokens: outcome.inputTokens,
          outputTokens: outcome.outputTokens,
          sessionId: outcome.sessionId,
        });
        if (after.status === "pending") this.summary.retried++;
        else this.summary.failed++;
        const next =
          after.status === "pending"
            ? `retry ${after.attempts + 1}/${after.maxAttempts} later`
            : "failed";
        this.options.log?.(
          `✗ ${short} ${outcome.reason}: ${oneLine(outcome.error ?? "", 120)} (${next})`,
        );
      }
    } catch (error) {
      // The task may have been cancelled or killed from another terminal meanwhile: record and go on.
      this.options.log?.(`! ${short}: ${(error as Error).message}`);
    } finally {
      this.active.delete(agent.agentId);
      this.#scheduleContextFiles();
      this.options.onChange?.(this);
      this.#wake?.();
    }
  }

  async #renewLeases(): Promise<void> {
    for (const agent of this.active.values()) {
      try {
        const held = await this.options.queue.heartbeat(agent.task.id, this.options.workerId);
        if (!held) {
          this.options.log?.(
            `! ${agent.task.id.slice(0, 8)} was cancelled or taken over; stopping ${agent.agentId}`,
          );
          await agent.process.kill("killed");
        }
      } catch (error) {
        this.options.log?.(
          `! could not renew the lease of ${agent.task.id.slice(0, 8)}: ${(error as Error).message}`,
        );
      }
    }
  }

  /**
   * Writes the latest activity of agents that did something since it was last written, so that
   * `orchestrate agents` in another terminal is at most a couple of seconds behind. Quiet agents cost
   * nothing.
   */
  async #saveActivity(): Promise<void> {
    for (const agent of this.active.values()) {
      if (agent.lastActivityAt <= agent.activitySavedAt) continue;
      agent.activitySavedAt = agent.lastActivityAt;
      try {
        await this.options.queue.store.updateAgentRun(
          agent.agentId,
          { lastActivity: agent.lastActivity, lastActivityAt: agent.lastActivityAt },
          Date.now(),
        );
      } catch (error) {
        this.options.log?.(
          `! could not record the activity of ${agent.agentId}: ${(error as Error).message}`,
        );
      }
    }
  }

  async #dependencyOutputs(task: Task): Promise<PriorWork[]> {
    const store = this.options.queue.store;
    const deps = await store.dependenciesOf(task.id);
    const full = await Promise.all(deps.map((d) => store.getTask(d.id)));
    const work: PriorWork[] = [];
    for (const dep of full) {
      if (!dep) continue;
      const runs = await store.agentRunsFor(dep.id);
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
    const siblings = await this.options.queue.store.listTasks({
      planId: task.planId,
      status: "completed",
      limit: 50,
    });
    const deps = new Set((await this.options.queue.store.dependenciesOf(task.id)).map((d) => d.id));
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
      this.options.log?.(`! could not write the context files: ${(error as Error).message}`);
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
    const done = await this.options.queue.store.listTasks({
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

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
