import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** The real binary, as users run it (it loads the built dist/). */
export const BIN = join(import.meta.dirname, "..", "..", "bin", "orchestrate.js");

/** Variables a test must not inherit: orchestrate's own settings, provider keys, fake-agent switches. */
const FOREIGN = /^(ORCHESTRATOR_|ANTHROPIC_|OPENAI_|FAKE_)|^NODE_TEST_CONTEXT$/;

/**
 * An environment for running orchestrate in project dir `dir`: the caller's environment without
 * anything that could change the outcome, a home dir inside `dir` (never the real one), the queue in
 * `dir/.orchestrator`, no colours, then `overrides`.
 */
export function isolatedEnv(
  dir: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !FOREIGN.test(k)) env[k] = v;
  return {
    ...env,
    HOME: home,
    ORCHESTRATOR_BASE_DIR: join(dir, ".orchestrator"),
    NO_COLOR: "1",
    ...overrides,
  };
}

/**
 * Runs `orchestrate args` in `cwd` to the end. `input`, when given, is piped to its stdin; after
 * `limitMs` it is sent SIGTERM (a test must not hang on it).
 */
export function runOrchestrate(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  options: { input?: string; limitMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { input, limitMs } = options;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  child.stdin?.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c) => {
    stdout += c;
  });
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  const timer =
    limitMs === undefined ? undefined : setTimeout(() => child.kill("SIGTERM"), limitMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
