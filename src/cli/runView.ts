import type { Session } from "../app/session.ts";
import { type RunEvent, type RunHandle, type RunRequest, startRun } from "../app/startRun.ts";
import { formatDuration } from "../core/duration.ts";
import { ExitCode } from "../core/errors.ts";
import type { RunSummary } from "../core/runner.ts";
import { oneLine } from "../core/text.ts";
import type { CommandEnv } from "./commandEnv.ts";
import { paint } from "./output.ts";

/**
 * Runs the queue with a person watching: on a terminal, a live view redrawn in place (log lines above,
 * one line per running agent and the totals below); otherwise one timestamped log line per event.
 * Ctrl-C stops claiming; a second Ctrl-C ends the agents. Shared by `run` and `demo`.
 */
export async function runWithView(
  env: CommandEnv,
  session: Session,
  request: Omit<RunRequest, "onEvent">,
): Promise<RunSummary> {
  const out = env.output.out;
  const tty = Boolean(out.isTTY);
  const pending: string[] = [];
  const log = (line: string) => {
    if (tty) pending.push(line);
    else out.write(`${new Date().toISOString()} ${line}\n`);
  };
  const run = await startRun(session, { ...request, onEvent: (event) => describe(event, log) });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      run.stopClaiming();
      env.output.err.write(
        `\nStopping: no new tasks; waiting for ${run.agents().length} running agent(s). Ctrl-C again to end them.\n`,
      );
    } else {
      env.output.err.write("\nEnding running agents…\n");
      void run.killAll();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const view = tty ? new LiveView(env) : null;
  const timer = view ? setInterval(() => view.draw(run, pending), 250) : null;
  const started = Date.now();
  try {
    const summary = await run.done;
    if (timer) clearInterval(timer);
    if (view) {
      view.draw(run, pending);
      out.write("\n");
    }
    const cancelled = summary.cancelled > 0 ? `, ${summary.cancelled} cancelled` : "";
    const line = `Done in ${formatDuration(Date.now() - started)}: ${summary.completed} completed, ${summary.failed} failed, ${summary.retried} to retry${cancelled}${summary.interrupted ? " (interrupted)" : ""}`;
    out.write(`${tty ? paint("bold", line, out) : line}\n`);
    return summary;
  } finally {
    if (timer) clearInterval(timer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** The log line of a run event, if it has one. */
function describe(event: RunEvent, log: (line: string) => void): void {
  switch (event.type) {
    case "run:started":
      log(
        `run ${event.runId}: up to ${event.maxAgents} agent(s), queue ${event.location}, ${
          event.workspaces === "worktree"
            ? "a git worktree per task"
            : "agents work in the project directory"
        }`,
      );
      if (event.sharedBecause && event.maxAgents > 1) {
        log(
          `! the agents share one directory (no worktrees: ${event.sharedBecause}); parallel tasks may edit the same files`,
        );
      }
      return;
    case "agent:started": {
      const a = event.agent;
      log(
        `▶ ${a.task.id.slice(0, 8)} ${a.agentType} via ${a.backend} (${a.agentId}, pid ${a.pid ?? "?"}): ${oneLine(a.task.description, 60)}`,
      );
      return;
    }
    case "agent:finished": {
      const short = event.agent.task.id.slice(0, 8);
      const error = oneLine(event.error ?? "", 120);
      switch (event.result) {
        case "completed":
          log(
            `✓ ${short} completed in ${Math.round(event.durationMs / 1000)}s (${event.agent.agentId})`,
          );
          return;
        case "retry": {
          const t = event.task;
          const next = t ? `retry ${t.attempts + 1}/${t.maxAttempts} later` : "retry later";
          log(`✗ ${short} ${event.reason}: ${error} (${next})`);
          return;
        }
        case "failed":
          log(`✗ ${short} ${event.reason}: ${error} (failed)`);
          return;
        case "killed":
          log(`✗ ${short} ${error || "killed"} (failed)`);
          return;
        case "cancelled":
          log(`✗ ${short} cancelled; ${event.agent.agentId} stopped`);
          return;
        case "taken-over":
          log(
            `! ${short} was taken over after its lease expired; ${event.agent.agentId} stopped (retry later)`,
          );
          return;
        case "unrecorded":
          return;
      }
      return;
    }
    case "task:not-started":
      log(`✗ ${event.task.id.slice(0, 8)} ${event.error} (${event.result})`);
      return;
    case "task:conflict":
      log(
        event.kind === "base"
          ? `⇄ ${event.task.id.slice(0, 8)} waits: its dependencies' branches conflict in ${event.files.join(", ")}; resolver ${event.resolverId.slice(0, 8)} queued`
          : `⇄ ${event.task.id.slice(0, 8)} conflicts with its integration branch in ${event.files.join(", ")}; resolver ${event.resolverId.slice(0, 8)} queued`,
      );
      return;
    case "warning":
      log(`! ${event.message}`);
      return;
    case "agent:activity":
    case "run:finished":
      return;
  }
}

/** The live view on a terminal: log lines scroll above, the agents' lines are redrawn in place. */
class LiveView {
  readonly #env: CommandEnv;
  #drawnLines = 0;

  constructor(env: CommandEnv) {
    this.#env = env;
  }

  draw(run: RunHandle, pending: string[]): void {
    const out = this.#env.output.out;
    const width = out.columns || 100;
    const now = Date.now();
    const lines = pending.splice(0);
    const clear = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F\x1b[J` : "";
    const live: string[] = [];
    for (const a of run.agents()) {
      const text = `  ${a.task.id.slice(0, 8)}  ${a.agentType.padEnd(26)} ${a.backend.padEnd(9)} ${formatDuration(now - a.startedAt).padStart(6)}  ${a.lastActivity}`;
      live.push(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    }
    const s = run.summary;
    live.push(
      paint(
        "dim",
        `  ${run.agents().length} running · ${s.completed} completed · ${s.failed} failed · ${s.retried} retrying${run.claiming ? "" : " · stopping"}`,
        out,
      ),
    );
    out.write(`${clear}${lines.map((l) => `${l}\n`).join("")}${live.join("\n")}\n`);
    this.#drawnLines = live.length;
  }
}

/** What a finished run says to a script: 130 when a person interrupted it, 6 when a task failed. */
export function runExitCode(summary: RunSummary): number {
  if (summary.interrupted) return ExitCode.interrupted;
  return summary.failed > 0 ? ExitCode.tasksFailed : ExitCode.ok;
}
