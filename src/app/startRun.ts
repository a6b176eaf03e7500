import { hostname } from "node:os";
import { killTree } from "../adapters/process/agentKillTree.ts";
import { isAlive } from "../adapters/process/processTable.ts";
import { startWatchdog, sweepOrphans } from "../adapters/process/watchdog.ts";
import { openGitWorktreeWorkspaces } from "../adapters/workspaces/git/gitWorktreeWorkspaces.ts";
import { makeProjectDirectoryWorkspaces } from "../adapters/workspaces/projectDirectoryWorkspaces.ts";
import type { AgentConfig } from "../core/agentConfig.ts";
import { RUN_ID_ENV } from "../core/agentMarkers.ts";
import { ContextManager } from "../core/contextManager.ts";
import { newWorkerId } from "../core/ids.ts";
import {
  type ActiveAgent,
  Runner,
  type RunnerEvent,
  type RunnerOptions,
  type RunSummary,
} from "../core/runner.ts";
import type { TaskQueue } from "../core/taskQueue.ts";
import type { Isolation } from "../core/taskWorkspace.ts";
import type { Workspaces } from "../ports/workspace.ts";
import { backendRegistry } from "./backendRegistry.ts";
import { makeResolver } from "./backendResolver.ts";
import { chooseIsolation } from "./isolation.ts";
import type { Session } from "./session.ts";

/** What a run is asked to do; everything a front end parses from its flags. */
export interface RunRequest {
  agentConfig: AgentConfig;
  /** Run every task that names no backend with this one. */
  backend?: string;
  /** Keep waiting for new tasks when the queue is empty. */
  follow: boolean;
  /** Time limit per attempt for tasks without one. */
  timeoutMs: number;
  maxAgents: number;
  /** The project directory agents work in. */
  cwd: string;
  /** Overrides the configured isolation for this run (`--isolation`). */
  isolation?: Isolation | null;
  /** The environment agents inherit (the user's, so their CLIs' own settings reach them). */
  env: Readonly<Record<string, string | undefined>>;
  /** Every run event, for the live view, log lines or a dashboard. */
  onEvent?: (event: RunEvent) => void;
  /** Overrides for tests and benchmarks (poll interval, output cap, grace period). */
  tuning?: Partial<Pick<RunnerOptions, "pollIntervalMs" | "maxOutputBytes" | "graceMs">>;
}

/** Everything a run reports: the runner's events, and the run's own start and end. */
export type RunEvent =
  | RunnerEvent
  | {
      type: "run:started";
      runId: string;
      maxAgents: number;
      /** Where the queue is. */
      location: string;
      /** What the agents' workspaces are: `worktree` (one per task) or `directory` (shared). */
      workspaces: string;
      /** Why agents share the project directory, when they do. */
      sharedBecause: string | null;
    }
  | { type: "run:finished"; summary: RunSummary; durationMs: number };

/** A run in progress: what a front end shows and the two ways a person stops it. */
export interface RunHandle {
  readonly runId: string;
  /** The agents running now. */
  agents(): ActiveAgent[];
  readonly summary: RunSummary;
  /** False once `stopClaiming` was called. */
  readonly claiming: boolean;
  /** Stop taking new tasks; running agents finish (the first Ctrl-C). */
  stopClaiming(): void;
  /** End every running agent's process tree; their tasks are retried later (the second Ctrl-C). */
  killAll(): Promise<void>;
  /** Resolves when nothing is running or runnable any more (never with `follow`, unless stopped). */
  readonly done: Promise<RunSummary>;
}

/** TERM, then this long, then KILL, for agents the run ends. */
const GRACE_MS = 3_000;
const MAX_OUTPUT_BYTES = 10 * 1024 * 1024;

/**
 * Starts a run of the queue: refuses up front when waiting tasks need an agent CLI that is missing,
 * ends the agents earlier runs on this host left behind, starts the run's watchdog (which ends its
 * agents if this process dies), and lets the runner claim and supervise until the queue is done.
 */
export async function startRun(session: Session, request: RunRequest): Promise<RunHandle> {
  const { queue, config } = session;
  const resolver = makeResolver(
    backendRegistry(request.agentConfig),
    request.backend,
    request.env,
    request.agentConfig,
    { preferApi: config.useApiMode },
  );
  await resolver.check?.(queue);
  const host = hostname();
  const workerId = newWorkerId(host, process.pid);
  const runId = workerId;
  const graceMs = request.tuning?.graceMs ?? GRACE_MS;
  // Agents of earlier runs that died with their watchdog (a second line of defence).
  await sweepOrphans((id: string) => id === runId || !diedOnThisHost(id, host));
  await closeOrphanedAgentRuns(queue, host);
  const watchdog = startWatchdog(runId, graceMs);
  const onEvent = request.onEvent;
  const { workspaces, sharedBecause } = await openWorkspaces(session, request, runId);
  await recoverWorkspaces(queue, workspaces, onEvent);
  const runner = new Runner({
    queue,
    context: new ContextManager(config.baseDir),
    workspaces,
    agentTypes: request.agentConfig.types,
    resolveBackend: resolver,
    maxAgents: request.maxAgents,
    workerId,
    runId,
    host,
    env: request.env,
    killTree,
    follow: request.follow,
    defaultTimeoutMs: request.timeoutMs,
    graceMs,
    maxOutputBytes: request.tuning?.maxOutputBytes ?? MAX_OUTPUT_BYTES,
    pollIntervalMs: request.tuning?.pollIntervalMs ?? 500,
    ...(onEvent ? { onEvent } : {}),
  });
  const started = Date.now();
  onEvent?.({
    type: "run:started",
    runId,
    maxAgents: request.maxAgents,
    location: session.location,
    workspaces: workspaces.kind,
    sharedBecause,
  });
  const done = runner.run().then(
    (summary) => {
      watchdog.stop();
      onEvent?.({ type: "run:finished", summary, durationMs: Date.now() - started });
      return summary;
    },
    (error: unknown) => {
      watchdog.stop();
      throw error;
    },
  );
  return {
    runId,
    agents: () => [...runner.active.values()],
    get summary() {
      return runner.summary;
    },
    get claiming() {
      return runner.claiming;
    },
    stopClaiming: () => runner.stopClaiming(),
    killAll: () => runner.killAll(),
    done,
  };
}

/**
 * Agent runs of this host whose `run` process is gone never got an end time (the run was killed); they
 * would show as running forever. Their processes were ended by the watchdog or the sweep above; their
 * tasks come back when their leases expire.
 */
async function closeOrphanedAgentRuns(queue: TaskQueue, host: string): Promise<void> {
  const orphaned = (await queue.runningAgents()).filter((run) =>
    diedOnThisHost(run.runId ?? "", host),
  );
  if (orphaned.length > 0) await queue.closeAgentRuns(orphaned, "orphaned");
}

/** Whether run `runId` (`host:pid:random`) belonged to this host and its process is gone. */
function diedOnThisHost(runId: string, host: string): boolean {
  const [runHost, pid] = runId.split(":");
  return runHost === host && pid !== undefined && !isAlive(Number(pid));
}

/** The run's workspaces: a worktree per task in a git repository (unless asked otherwise), else shared. */
async function openWorkspaces(
  session: Session,
  request: RunRequest,
  runId: string,
): Promise<{ workspaces: Workspaces; sharedBecause: string | null }> {
  const { config } = session;
  const choice = await chooseIsolation(
    { ...config, projectDir: request.cwd },
    request.isolation === undefined ? config.isolation : request.isolation,
  );
  if (choice.isolation === "none") {
    return { workspaces: makeProjectDirectoryWorkspaces(request.cwd), sharedBecause: choice.why };
  }
  const workspaces = await openGitWorktreeWorkspaces({
    repo: choice.repo,
    projectDir: request.cwd,
    baseDir: config.baseDir,
    setupCommand: config.setupCommand,
    verifyCommand: config.verifyCommand,
    // Set-up and verification commands carry the run's marker: if the run dies, its watchdog ends them.
    env: { ...request.env, [RUN_ID_ENV]: runId },
  });
  return { workspaces, sharedBecause: null };
}

/**
 * Repairs the worktrees of tasks no agent works on now: work an ended run left uncommitted is
 * committed on its branch, a merge cut off halfway is undone. Reported as warnings.
 */
async function recoverWorkspaces(
  queue: TaskQueue,
  workspaces: Workspaces,
  onEvent: RunRequest["onEvent"],
): Promise<void> {
  if (workspaces.kind === "directory") return;
  const records = await queue.workspaces();
  const busy = new Set(
    (await queue.list({ status: "in_progress", limit: 10_000 }))
      .concat(await queue.list({ status: "assigned", limit: 10_000 }))
      .map((t) => t.id),
  );
  // Only a worktree still marked active lost its agent without a release (which commits and marks it
  // idle): the others need no look, which keeps a run's start cheap with many old worktrees.
  const idle = records.filter(
    (ws) => !busy.has(ws.taskId) && ws.path !== null && ws.state === "active",
  );
  const { changed, notes } = await workspaces.recover(idle);
  if (changed.length === 0 && notes.length === 0) return;
  await queue.saveWorkspaces(changed);
  for (const message of notes) onEvent?.({ type: "warning", message });
}
