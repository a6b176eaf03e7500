/**
 * The one place tests start Node.js child processes (the orchestrate binary, and scripts playing a
 * worker or holding a lock): every child is tracked until it exits, and any still running when the
 * test file ends is killed by an `after` hook, so no test leaves a process behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { after } from "node:test";
import { withProcessSlot } from "./processSlots.ts";

/** Children started and not yet exited. */
const live = new Set<ChildProcess>();

after(() => {
  for (const child of live) child.kill("SIGKILL");
});

export interface StartOptions {
  /** The Node.js executable; the one running the tests by default. */
  node?: string;
  /** Whether the child gets a stdin pipe to write to; "ignore" by default. */
  stdin?: "pipe" | "ignore";
}

/**
 * A started child, its stdout and stderr piped, with its exit code captured from the start (it may
 * end before anyone looks).
 */
export type StartedChild = ChildProcess & {
  stdout: Readable;
  stderr: Readable;
  exited: Promise<number | null>;
};

/**
 * Starts `node <args>` in `cwd` with stdout and stderr piped, and leaves it running. `exited`
 * resolves with its exit code (null when a signal ended it), or rejects if it could not be started.
 */
export function startNode(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  options: StartOptions = {},
): StartedChild {
  const child = spawn(options.node ?? process.execPath, args, {
    cwd,
    env,
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
  });
  live.add(child);
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.once("exit", (code) => {
      live.delete(child);
      resolveExit(code);
    });
    child.once("error", (error) => {
      live.delete(child);
      reject(error);
    });
  });
  // Whoever awaits `exited` sees a failure to start; nobody has to.
  exited.catch(() => {});
  return Object.assign(child as ChildProcess & { stdout: Readable; stderr: Readable }, { exited });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, not counting the wait for a process slot. */
  ms: number;
}

export interface RunOptions {
  /** Piped to the child's stdin when given; otherwise it has none. */
  input?: string;
  /** After this long the child is sent `limitSignal` (a test must not hang on it); no limit by default. */
  limitMs?: number;
  /** SIGTERM by default. */
  limitSignal?: NodeJS.Signals;
  /** The Node.js executable; the one running the tests by default. */
  node?: string;
}

/**
 * Runs `node <args>` in `cwd` to the end and collects its output. It waits for a process slot
 * first, so that many concurrent tests do not start more processes than the machine can run.
 */
export function runNode(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return withProcessSlot(() => collect(cwd, env, args, options));
}

function collect(
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  { input, limitMs, limitSignal = "SIGTERM", node }: RunOptions,
): Promise<RunResult> {
  const started = performance.now();
  const child = startNode(cwd, env, args, {
    node,
    stdin: input === undefined ? "ignore" : "pipe",
  });
  child.stdin?.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer =
    limitMs === undefined ? undefined : setTimeout(() => child.kill(limitSignal), limitMs);
  return new Promise((resolveRun, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
