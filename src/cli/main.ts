import { readFileSync } from "node:fs";
import { ExitCode, isOrchestrateError } from "../core/errors.ts";
import type { CommandEnv } from "./commandEnv.ts";
import { type OptionSpec, type ProgramSpec, parseCommandLine } from "./commandLine.ts";
import { makeCleanupCommand } from "./commands/cleanup.ts";
import { makeConfigCommand } from "./commands/config.ts";
import { makeCancelCommand, makeRetryCommand } from "./commands/retry.ts";
import { makeStatusCommand } from "./commands/status.ts";
import { makeSubmitCommand } from "./commands/submit.ts";
import { makeTaskCommand } from "./commands/task.ts";
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

/** The whole command tree. Separate from `main` so tests can run commands in-process. */
export function makeProgram(env: CommandEnv): ProgramSpec {
  return {
    name: "orchestrate",
    summary:
      "Plan a goal, queue specialist tasks durably, and run AI coding agents on them in parallel.",
    globalOptions: GLOBAL_OPTIONS,
    commands: [
      makeSubmitCommand(env),
      makeStatusCommand(env),
      makeTaskCommand(env),
      makeRetryCommand(env),
      makeCancelCommand(env),
      makeCleanupCommand(env),
      makeConfigCommand(env),
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
    const invocation = parseCommandLine(makeProgram(env), args);
    switch (invocation.kind) {
      case "help":
        output.out.write(invocation.text);
        return args.length === 0 ? ExitCode.usage : ExitCode.ok;
      case "version":
        output.out.write(`${readVersion()}\n`);
        return ExitCode.ok;
      case "run":
        await invocation.command.run(invocation.parsed);
        return ExitCode.ok;
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
    ? error.hint
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
