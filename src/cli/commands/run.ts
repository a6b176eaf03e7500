import { hostname } from "node:os";
import { makeAnthropicApiBackend } from "../../adapters/api/anthropicApiBackend.ts";
import { makeOpenAiApiBackend } from "../../adapters/api/openaiApiBackend.ts";
import { makeBuiltinBackends, makeCustomBackend } from "../../adapters/backends/index.ts";
import { makeSimulatedBackend } from "../../adapters/backends/simulatedBackend.ts";
import { isAlive } from "../../adapters/process/processTable.ts";
import { startWatchdog, sweepOrphans } from "../../adapters/process/watchdog.ts";
import { type AgentConfig, loadAgentConfig } from "../../core/agentConfig.ts";
import type { Config } from "../../core/config.ts";
import { ContextManager } from "../../core/contextManager.ts";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { ConfigError, UsageError } from "../../core/errors.ts";
import { newWorkerId } from "../../core/ids.ts";
import { type BackendResolver, Runner, type RunSummary } from "../../core/runner.ts";
import type { TaskQueue } from "../../core/taskQueue.ts";
import type { AgentBackend } from "../../ports/agentBackend.ts";
import { killTree } from "../agentKillTree.ts";
import { type CommandEnv, flag, globalsOf, stringOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom, withQueue } from "../context.ts";
import { paint } from "../output.ts";

/** The order in which installed CLIs are tried when neither the task nor `--backend` names one. */
export const BACKEND_ORDER = ["claude", "codex", "gemini"] as const;

const DEFAULT_TIMEOUT = "30m";

/**
 * The backends this installation knows, by name: the agent CLIs, and the simulated agent (chosen only
 * when asked for by name: `submit --backend simulated`, `run --backend simulated`, or the demo).
 */
export function backendRegistry(agentConfig?: AgentConfig): Map<string, AgentBackend> {
  const backends = makeBuiltinBackends();
  backends.set("simulated", makeSimulatedBackend());
  backends.set("anthropic-api", makeAnthropicApiBackend());
  backends.set("openai-api", makeOpenAiApiBackend());
  for (const cli of agentConfig?.customClis ?? []) backends.set(cli.name, makeCustomBackend(cli));
  return backends;
}

/** The order in which backends are tried for tasks that name none: the config's, else the built-in one. */
export function backendOrder(agentConfig: AgentConfig): string[] {
  return agentConfig.backendOrder ?? [...BACKEND_ORDER];
}

/** `orchestrate run`: the spec's Task Distributor and Agent Spawner, until the queue is done. */
export function makeRunCommand(env: CommandEnv): CommandSpec {
  return {
    name: "run",
    args: [],
    options: [
      {
        name: "max-agents",
        short: "m",
        value: "<n>",
        description: "agents at once (env MAX_AGENTS; default 3)",
      },
      {
        name: "backend",
        short: "b",
        value: "<name>",
        description: "run every task with this backend (claude, codex, gemini)",
      },
      {
        name: "follow",
        short: "f",
        description: "keep waiting for new tasks when the queue is empty",
      },
      {
        name: "timeout",
        value: "<duration>",
        description: "time limit per attempt for tasks without one",
        default: DEFAULT_TIMEOUT,
      },
      {
        name: "lease",
        value: "<duration>",
        description:
          "how long a claimed task stays ours without renewal; after a crash it runs again this much later",
        default: "30s",
      },
    ],
    details:
      "Ctrl-C stops taking new tasks and waits for running agents; a second Ctrl-C ends them (their tasks are\nretried later). Agents work in the current directory.",
    async run(parsed) {
      const globals = globalsOf(parsed);
      const maxAgents = stringOption(parsed, "maxAgents");
      const config = configFrom(maxAgents === undefined ? globals : { ...globals, maxAgents });
      const agentConfig = loadAgentConfig(config.baseDir);
      const backends = backendRegistry(agentConfig);
      const forced = stringOption(parsed, "backend");
      const resolver = makeResolver(backends, forced, process.env, agentConfig, {
        preferApi: config.useApiMode,
      });
      const timeoutMs = parseDuration(
        stringOption(parsed, "timeout") ?? DEFAULT_TIMEOUT,
        "--timeout",
        "s",
      );
      const leaseMs = parseDuration(stringOption(parsed, "lease") ?? "30s", "--lease", "s");
      await withQueue(config, { create: true, leaseMs }, async (queue) => {
        if (!queue) throw new Error("queue not opened");
        await runQueue(env, queue, config, resolver, {
          follow: flag(parsed, "follow"),
          timeoutMs,
          agentConfig,
        });
      });
    },
  };
}

/**
 * Chooses a backend for a task: the task's own (`submit --backend`), else `--backend`, else its type's
 * (agents.json), else the first installed in the configured order. Throws a ConfigError naming what to install when none is usable.
 */
export function makeResolver(
  backends: ReadonlyMap<string, AgentBackend>,
  forced: string | undefined,
  environment: Readonly<Record<string, string | undefined>>,
  agentConfig: AgentConfig,
  options: { preferApi?: boolean } = {},
): BackendResolver {
  const usable = (name: string) => {
    const backend = backends.get(name);
    if (!backend)
      throw new UsageError(
        `unknown backend '${name}'`,
        `use one of ${[...backends.keys()].join(", ")}`,
      );
    const availability = backend.availability(environment);
    if (!availability.available) {
      throw new ConfigError(
        `backend '${name}' cannot run here: ${availability.reason ?? "unavailable"}`,
      );
    }
    return backend;
  };
  if (forced) usable(forced);
  // USE_API_MODE=true: the Anthropic API agent first, then the configured order.
  const order = backendOrder(agentConfig);
  const fallback = (
    options.preferApi ? ["anthropic-api", ...order.filter((n) => n !== "anthropic-api")] : order
  )
    .map((n) => backends.get(n))
    .find((b) => b?.availability(environment).available);
  const noCli = () =>
    options.preferApi
      ? new ConfigError(
          "USE_API_MODE is true but ANTHROPIC_API_KEY is not set, and no agent CLI is installed",
          "set ANTHROPIC_API_KEY (in the environment or .env), or install an agent CLI",
        )
      : new ConfigError(
          "no agent CLI is installed: none of claude, codex or gemini is on PATH",
          "install one (npm install -g @anthropic-ai/claude-code, @openai/codex or @google/gemini-cli), set ANTHROPIC_API_KEY and USE_API_MODE=true, or try 'orchestrate demo'",
        );
  const resolver: BackendResolver = (task, agentType) => {
    const name =
      task.backend ?? forced ?? agentConfig.typeBackends.get(agentType) ?? fallback?.name;
    if (!name) throw noCli();
    return usable(name);
  };
  // Refuse up front, before any task is claimed, when a waiting task would need a CLI that is missing:
  // failing those tasks one by one would only make the user retry them after installing one.
  resolver.check = async (queue) => {
    if (forced || fallback) return;
    const pending = await queue.list({ status: "pending", limit: 1_000 });
    if (pending.some((t) => t.backend === null)) throw noCli();
  };
  return resolver;
}

/** Runs the queue to completion with a live view; shared by `run` and `demo`. */
export async function runQueue(
  env: CommandEnv,
  queue: TaskQueue,
  config: Config,
  resolveBackend: BackendResolver,
  options: { follow: boolean; timeoutMs: number; agentConfig: AgentConfig },
): Promise<RunSummary> {
  await resolveBackend.check?.(queue);
  const host = hostname();
  const workerId = newWorkerId(host, process.pid);
  const runId = workerId;
  const graceMs = 3_000;
  // Agents of earlier runs that died with their watchdog (a second line of defence).
  await sweepOrphans((id: string) => {
    const [runHost, pid] = id.split(":");
    return id === runId || runHost !== host || isAlive(Number(pid));
  });
  await closeOrphanedAgentRuns(queue, host);
  const watchdog = startWatchdog(runId, graceMs);
  const tty = Boolean(env.output.out.isTTY);
  const log = (line: string) => {
    if (!tty) env.output.out.write(`${new Date().toISOString()} ${line}\n`);
    else logLines.push(line);
  };
  const logLines: string[] = [];
  const runner = new Runner({
    queue,
    context: new ContextManager(config.baseDir),
    agentTypes: options.agentConfig.types,
    resolveBackend,
    maxAgents: config.maxAgents,
    workerId,
    runId,
    host,
    cwd: process.cwd(),
    env: process.env,
    killTree,
    follow: options.follow,
    defaultTimeoutMs: options.timeoutMs,
    graceMs,
    maxOutputBytes: 10 * 1024 * 1024,
    pollIntervalMs: 500,
    log,
  });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      runner.stopClaiming();
      env.output.err.write(
        `\nStopping: no new tasks; waiting for ${runner.active.size} running agent(s). Ctrl-C again to end them.\n`,
      );
    } else {
      env.output.err.write("\nEnding running agents…\n");
      void runner.killAll();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const view = tty ? setInterval(() => draw(env, runner, logLines), 250) : null;
  const started = Date.now();
  if (!tty) log(`run ${runId}: up to ${config.maxAgents} agent(s), queue ${config.dbPath}`);
  try {
    const summary = await runner.run();
    if (view) {
      clearInterval(view);
      draw(env, runner, logLines);
      env.output.out.write("\n");
    }
    const line = `Done in ${formatDuration(Date.now() - started)}: ${summary.completed} completed, ${summary.failed} failed, ${summary.retried} to retry${summary.interrupted ? " (interrupted)" : ""}`;
    env.output.out.write(`${tty ? paint("bold", line, env.output.out) : line}\n`);
    return summary;
  } finally {
    if (view) clearInterval(view);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    watchdog.stop();
  }
}

/**
 * Agent runs of this host whose `run` process is gone never got an end time (the run was killed); they
 * would show as running forever. Their processes were ended by the watchdog or the sweep above.
 */
async function closeOrphanedAgentRuns(queue: TaskQueue, host: string): Promise<void> {
  const now = Date.now();
  for (const run of await queue.store.runningAgents()) {
    const [runHost, pid] = (run.runId ?? "").split(":");
    if (runHost === host && pid && !isAlive(Number(pid))) {
      await queue.store.updateAgentRun(run.id, { endedAt: now, endReason: "orphaned" }, now);
    }
  }
}

let drawnLines = 0;

/** Redraws the live view in place: recent log lines, one line per running agent, and totals. */
function draw(env: CommandEnv, runner: Runner, logLines: string[]): void {
  const out = env.output.out;
  const width = out.columns || 100;
  const now = Date.now();
  const lines: string[] = [];
  for (const line of logLines.splice(0)) lines.push(line);
  const clear = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : "";
  const live: string[] = [];
  for (const a of runner.active.values()) {
    const text = `  ${a.task.id.slice(0, 8)}  ${a.agentType.padEnd(26)} ${a.backend.padEnd(9)} ${formatDuration(now - a.startedAt).padStart(6)}  ${a.lastActivity}`;
    live.push(text.length > width ? `${text.slice(0, width - 1)}…` : text);
  }
  const s = runner.summary;
  live.push(
    paint(
      "dim",
      `  ${runner.active.size} running · ${s.completed} completed · ${s.failed} failed · ${s.retried} retrying${runner.claiming ? "" : " · stopping"}`,
      out,
    ),
  );
  out.write(`${clear}${lines.map((l) => `${l}\n`).join("")}${live.join("\n")}\n`);
  drawnLines = live.length;
}
