import { readFileSync } from "node:fs";
import { adviceFor } from "../app/errorAdvice.ts";
import { ExitCode, isOrchestrateError } from "../core/errors.ts";
import type { CommandEnv } from "./commandEnv.ts";
import {
  type CommandEntry,
  type OptionSpec,
  type ProgramSpec,
  parseCommandLine,
} from "./commandLine.ts";
import { type Output, paint, processOutput } from "./output.ts";

const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: "base-dir",
    value: "<dir>",
    description:
      "where the queue and context live (env ORCHESTRATOR_BASE_DIR; default ./.orchestrator)",
  },
  {
    name: "busy-timeout",
    value: "<ms>",
    description:
      "how long to wait for a database another process holds (env ORCHESTRATOR_BUSY_TIMEOUT_MS; default 5000)",
  },
  { name: "debug", description: "show stack traces with errors" },
];

/**
 * The command tree. Each command's module is imported only when that command runs (or its help is
 * asked for): `submit` and `status` start without loading the agent runtime.
 */
export function makeProgram(env: CommandEnv): ProgramSpec {
  const entry = (name: string, summary: string, load: CommandEntry["load"]): CommandEntry => ({
    name,
    summary,
    load,
  });
  return {
    name: "orchestrate",
    summary:
      "Plan a goal, queue specialist tasks durably, and run AI coding agents on them in parallel.",
    globalOptions: GLOBAL_OPTIONS,
    commands: [
      entry(
        "plan",
        "Plan a goal with the model: shape its tasks interactively, approve, queue",
        async () => (await import("./commands/plan.ts")).makePlanCommand(env),
      ),
      entry("plan-list", "List planning sessions: id, status, task counts, age, goal", async () =>
        (await import("./commands/plan.ts")).makePlanListCommand(env),
      ),
      entry(
        "plan-continue",
        "Resume a plan: back into the session for a draft, queue an approved one, progress otherwise",
        async () => (await import("./commands/plan.ts")).makePlanContinueCommand(env),
      ),
      entry(
        "execute-plan",
        "Queue an approved plan's tasks with their dependencies (never twice)",
        async () => (await import("./commands/plan.ts")).makeExecutePlanCommand(env),
      ),
      entry("submit", "Submit a task to the queue and print its id", async () =>
        (await import("./commands/submit.ts")).makeSubmitCommand(env),
      ),
      entry(
        "status",
        "Show the queue: counts per status, blocked tasks, recent tasks and running agents",
        async () => (await import("./commands/status.ts")).makeStatusCommand(env),
      ),
      entry(
        "task",
        "Show one task: fields, dependencies both ways, attempts, events, output and error",
        async () => (await import("./commands/task.ts")).makeTaskCommand(env),
      ),
      entry(
        "retry",
        "Send a failed or cancelled task back to the queue with a fresh set of attempts",
        async () => (await import("./commands/retry.ts")).makeRetryCommand(env),
      ),
      entry(
        "cancel",
        "Cancel a task that has not finished; tasks depending on it stay blocked until it is retried",
        async () => (await import("./commands/retry.ts")).makeCancelCommand(env),
      ),
      entry(
        "run",
        "Run queued tasks with real agents, up to MAX_AGENTS at once, until nothing is left to run",
        async () => (await import("./commands/run.ts")).makeRunCommand(env),
      ),
      entry(
        "agents",
        "List running agents (from any terminal); --backends shows which agent CLIs can run",
        async () => (await import("./commands/agents.ts")).makeAgentsCommand(env),
      ),
      entry(
        "kill",
        "End a running agent and every process it started; its task is marked failed",
        async () => (await import("./commands/kill.ts")).makeKillCommand(env),
      ),
      entry(
        "worktrees",
        "List task worktrees: task, state (running, finished, merged, unmerged), branch, files, size",
        async () => (await import("./commands/worktrees.ts")).makeWorktreesCommand(env),
      ),
      entry(
        "diff",
        "Show what a task changed against its base, or a plan against its base commit (--stat)",
        async () => (await import("./commands/worktrees.ts")).makeDiffCommand(env),
      ),
      entry(
        "merge",
        "Merge a plan's integration branch (or one task's branch) into your current branch",
        async () => (await import("./commands/worktrees.ts")).makeMergeCommand(env),
      ),
      entry(
        "demo",
        "Queue a small plan of dependent tasks and run it (simulated agent without an agent CLI)",
        async () => (await import("./commands/demo.ts")).makeDemoCommand(env),
      ),
      entry(
        "cleanup",
        "Remove completed, failed and cancelled tasks older than a cutoff, with their files",
        async () => (await import("./commands/cleanup.ts")).makeCleanupCommand(env),
      ),
      entry(
        "config",
        "Show the effective configuration and where each value comes from (secrets redacted)",
        async () => (await import("./commands/config.ts")).makeConfigCommand(env),
      ),
    ],
  };
}

/**
 * Runs one invocation and returns its exit code. The only place errors become exit codes and the only
 * place that decides what a user sees of an error: a message and a hint; a stack trace only with --debug.
 */
export async function main(
  argv: readonly string[],
  output: Output = processOutput,
): Promise<number> {
  const env: CommandEnv = { output, now: Date.now };
  const args = argv.slice(2);
  const flags = { debug: args.includes("--debug"), json: args.includes("--json") };
  try {
    const invocation = await parseCommandLine(makeProgram(env), args);
    switch (invocation.kind) {
      case "help":
        output.out.write(invocation.text);
        return args.length === 0 ? ExitCode.usage : ExitCode.ok;
      case "version":
        output.out.write(`${readVersion()}\n`);
        return ExitCode.ok;
      case "run": {
        const code = await invocation.command.run(invocation.parsed);
        return typeof code === "number" ? code : ExitCode.ok;
      }
    }
  } catch (error) {
    return reportError(error, output, flags);
  }
}

function reportError(
  error: unknown,
  output: Output,
  flags: { debug: boolean; json: boolean },
): number {
  const known = isOrchestrateError(error);
  const code = known ? error.code : "internal";
  const message = error instanceof Error ? error.message : String(error);
  const hint = known
    ? adviceFor(error)
    : "this is a bug in orchestrate; rerun with --debug and report the output";
  if (flags.json) {
    output.err.write(`${JSON.stringify({ error: { code, message, hint } })}\n`);
  } else {
    output.err.write(
      `${paint("red", `${known ? "error" : "internal error"}: ${message}`, output.err)}\n`,
    );
    if (hint) output.err.write(`hint: ${hint}\n`);
  }
  if (flags.debug && error instanceof Error && error.stack) output.err.write(`${error.stack}\n`);
  return known ? error.exitCode : ExitCode.internal;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return "unknown";
  }
}
