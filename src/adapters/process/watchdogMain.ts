/**
 * The watchdog program (see watchdog.ts for why it exists), started by `startWatchdog` as
 *   node watchdogMain.(ts|js) <runId> <graceMs>
 * with stdin a pipe from the run process, which never writes to it. When stdin reaches EOF, the run
 * process is gone (or called `stop()`): kill every process marked with the run's id, then exit
 * (0, or 1 if a process survived SIGKILL).
 */
import { RUN_ID_ENV } from "./envMarkers.ts";
import { killProcessTree } from "./killTree.ts";

const [runId, graceArg] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!runId || graceArg === undefined || !Number.isFinite(graceMs) || graceMs < 0) {
  process.stderr.write("usage: watchdogMain <runId> <graceMs>\n");
  process.exit(2);
}

// The Ctrl-C, hang-up or `kill` that ends the run must not end its guard. Only SIGKILL can; if that
// happens, the next run's sweepOrphans cleans up instead.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});

await new Promise<void>((resolve) => {
  process.stdin.on("data", () => {}); // nothing is ever written; reading is how EOF is noticed
  process.stdin.once("end", resolve);
  process.stdin.once("close", resolve);
  process.stdin.once("error", () => resolve()); // a broken pipe means the same: the run is gone
});

let code = 0;
try {
  const result = await killProcessTree({ env: { name: RUN_ID_ENV, value: runId }, graceMs });
  if (result.survivors.length > 0) code = 1;
} catch {
  code = 1; // no one reads our output; the exit code is all we can report
}
process.exit(code);
