/**
 * The run's watchdog: a small separate process that ends every agent process of a run once the run
 * process is gone, however it went (a crash, `kill -9`, the terminal closing).
 *
 * A process cannot clean up after SIGKILL, so someone else has to. The watchdog holds the read end of a
 * pipe whose write end only the run process holds; the kernel closes that end when the run process dies
 * for any reason, the watchdog reads EOF, and kills every process carrying `ORCHESTRATE_RUN_ID=<runId>`.
 * It runs in its own session and ignores SIGINT/SIGTERM/SIGHUP, so the Ctrl-C or hang-up that ends the
 * run does not end it too. The program itself is watchdogMain.ts; this file is the run's side.
 *
 * `sweepOrphans` is the second line of defence, for when the watchdog itself was killed with the run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_ID_ENV, RUN_ID_ENV } from "./envMarkers.ts";
import { type KillTreeResult, killProcessTree } from "./killTree.ts";
import { findEnvValues } from "./processTable.ts";

/** A started watchdog. */
export interface Watchdog {
  /**
   * The watchdog process. It is unref'd, like its pipe, so it never keeps the run process alive; call
   * `child.ref()` first to wait for its "exit" after `stop()`.
   */
  child: ChildProcess;
  /**
   * The orderly end, once the run has ended its agents itself: closes the pipe, so the watchdog looks
   * one last time, finds nothing (or kills what was left behind) and exits.
   */
  stop(): void;
}

/**
 * The watchdog program's path: watchdogMain beside this file, with this file's own extension, so it is
 * `watchdogMain.ts` when we run from src (Node strips the types) and `watchdogMain.js` from dist.
 */
export function watchdogEntryPath(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./watchdogMain${extname(self)}`, import.meta.url));
}

/**
 * Starts the one watchdog of run `runId`, before any agent is spawned. `graceMs` is the time agents get
 * between SIGTERM and SIGKILL when the watchdog has to act.
 *
 * The watchdog's own environment has the marker variables removed: it must never look like an agent
 * process, or a sweep (or `orchestrate kill`) would end the very process guarding the agents. If it
 * cannot be started the run goes on without it; `sweepOrphans` at the next run is the second line of
 * defence.
 */
export function startWatchdog(runId: string, graceMs: number): Watchdog {
  const env = { ...process.env };
  delete env[RUN_ID_ENV];
  delete env[AGENT_ID_ENV];
  const child = spawn(process.execPath, [watchdogEntryPath(), runId, String(graceMs)], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    env,
  });
  child.on("error", () => {}); // failed to start: nothing to guard with; see the doc comment
  const pipe = child.stdin as Socket | null;
  pipe?.on("error", () => {}); // EPIPE when the watchdog died first; we never write anyway
  // We hold the pipe open for as long as we live, but neither it nor the child keeps our event loop
  // alive: the run exits when its work is done, and the pipe closing is then the watchdog's signal.
  pipe?.unref();
  child.unref();
  return {
    child,
    stop() {
      pipe?.end();
    },
  };
}

/** What a sweep did about one dead run. */
export interface SweepReport {
  /** The dead run; empty when the sweep failed before it could list any (no /proc, say). */
  runId: string;
  /** What was killed, or why the run's processes could not be dealt with. */
  outcome: { result: KillTreeResult } | { error: unknown };
}

/** Options of `sweepOrphans`. */
export interface SweepOptions {
  /** Time orphans get between SIGTERM and SIGKILL; 2 s by default. */
  graceMs?: number;
}

const SWEEP_GRACE_MS = 2_000;

/**
 * Ends the agent processes of earlier runs that are no longer alive: called when a run starts, it
 * covers what a watchdog cannot (a watchdog SIGKILLed together with its run, say by the OOM killer).
 *
 * Finds every process carrying `ORCHESTRATE_RUN_ID`, asks `isRunAlive` about each run id found, and
 * kills the trees of the dead runs, all at once, so the wait is one grace period rather than one per
 * run. `isRunAlive` holds the caller's knowledge (how run ids are made, which runs are known) and must
 * answer true for the calling run. Best effort by design: it never rejects (a caller may well not await
 * it); failures are in the reports.
 */
export async function sweepOrphans(
  isRunAlive: (runId: string) => boolean,
  options: SweepOptions = {},
): Promise<SweepReport[]> {
  const graceMs = options.graceMs ?? SWEEP_GRACE_MS;
  let dead: string[];
  try {
    const runIds = new Set(findEnvValues(RUN_ID_ENV).values());
    dead = [...runIds].filter((runId) => runId !== "" && !isRunAlive(runId));
  } catch (error) {
    return [{ runId: "", outcome: { error } }];
  }
  return Promise.all(
    dead.map(async (runId): Promise<SweepReport> => {
      try {
        const env = { name: RUN_ID_ENV, value: runId };
        return { runId, outcome: { result: await killProcessTree({ env, graceMs }) } };
      } catch (error) {
        return { runId, outcome: { error } };
      }
    }),
  );
}
