import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type RunOptions,
  type RunResult,
  runNode,
  type StartedChild,
  type StartOptions,
  startNode,
} from "./nodeProcess.ts";

/** The real binary, as users run it (it loads the built dist/, so run `npm run build` first). */
export const BIN = join(import.meta.dirname, "..", "..", "bin", "orchestrate.js");

/**
 * Variables a test must not inherit: orchestrate's own settings (ORCHESTRATOR_*, ORCHESTRATE_*,
 * MAX_AGENTS, USE_API_MODE), provider keys, fake-agent switches, the test runner's own marker.
 */
const FOREIGN =
  /^(ORCHESTRATOR_|ORCHESTRATE_|ANTHROPIC_|OPENAI_|FAKE_)|^(MAX_AGENTS|USE_API_MODE|NODE_TEST_CONTEXT)$/;

/**
 * An environment for running orchestrate in project dir `dir`: the caller's environment without
 * anything that could change the outcome, a home dir `dir/home` (never the real one) holding the
 * XDG dirs, the queue in `dir/.orchestrator`, no colours, then `overrides`. An override of
 * `undefined` removes the variable (`ORCHESTRATOR_BASE_DIR: undefined` leaves the default).
 */
export function isolatedEnv(
  dir: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !FOREIGN.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    ORCHESTRATOR_BASE_DIR: join(dir, ".orchestrator"),
    NO_COLOR: "1",
  });
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Runs `orchestrate args` in `cwd` to the end (see `runNode` for `input`, `limitMs` and `node`).
 */
export function runOrchestrate(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return runNode(cwd, env, [BIN, ...args], options);
}

/** Starts `orchestrate args` in `cwd` and leaves it running, for a test that drives or kills it. */
export function startOrchestrate(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  options: StartOptions = {},
): StartedChild {
  return startNode(cwd, env, [BIN, ...args], options);
}

/** What a failed check says about a run: its command, how it ended, and all it printed. */
export function explain(args: readonly string[], result: RunResult): string {
  return `orchestrate ${args.join(" ")} exited ${result.code} (signal ${result.signal})\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}
