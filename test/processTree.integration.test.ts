// Ending agent process trees, with real processes: new sessions, orphans, SIGTERM-proof processes,
// zombies, a killer in another process, and the watchdog surviving its run's SIGKILL.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { AGENT_ID_ENV, RUN_ID_ENV } from "../src/adapters/process/envMarkers.ts";
import { killProcessTree } from "../src/adapters/process/killTree.ts";
import {
  findByEnv,
  isAlive,
  readProcess,
  readProcessTable,
} from "../src/adapters/process/processTable.ts";
import { startWatchdog } from "../src/adapters/process/watchdog.ts";
import type { AgentPids } from "./fixtures/runLike.ts";

const RUN_LIKE = join(import.meta.dirname, "fixtures", "runLike.ts");
const KILL_TREE_URL = new URL("../src/adapters/process/killTree.ts", import.meta.url).href;

/** Every marker value, child and pid this file hands out or learns of: all ended in `after`. */
const runIds = new Set<string>();
const children = new Set<ChildProcess>();
const pids = new Set<number>();
const tempDirs: string[] = [];

after(async () => {
  for (const value of runIds) {
    await killProcessTree({ env: { name: RUN_ID_ENV, value }, graceMs: 0 }).catch(() => {});
  }
  // Also directly, in case killProcessTree itself is what is broken.
  for (const child of children) child.kill("SIGKILL");
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh run id; processes spawned with `markers(runId)` are found and killed by it. */
function newRunId(): string {
  const runId = `test-${process.pid}-${randomUUID()}`;
  runIds.add(runId);
  return runId;
}

function markers(runId: string, agentId = "agent"): NodeJS.ProcessEnv {
  return { ...process.env, [RUN_ID_ENV]: runId, [AGENT_ID_ENV]: agentId };
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, detached = true) {
  const child = spawn(command, args, { detached, stdio: ["ignore", "pipe", "inherit"], env });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Resolves with the first line the child prints (rejects if it exits first). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`exited (${code ?? signal}) before printing a line`)),
    );
  });
}

/** Everything the child prints on stdout, once it has exited. */
async function allOutput(child: ChildProcess): Promise<string> {
  let stdout = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  await once(child, "close");
  return stdout;
}

const allPids = (agent: AgentPids) => [agent.pid, agent.newSession, agent.child];
const numerically = (a: number, b: number) => a - b;

/** Starts the fixture agent (a process group and session leader with two `sleep` children). */
async function startAgent(runId: string, args: string[] = []): Promise<AgentPids> {
  const agent = start(process.execPath, [RUN_LIKE, "agent", ...args], markers(runId));
  const pids = JSON.parse(await firstLine(agent)) as AgentPids;
  remember(allPids(pids));
  return pids;
}

function remember(list: number[]): void {
  for (const pid of list) pids.add(pid);
}

async function waitFor(what: string, condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

/** Whether `pid` has a handler installed for signal number `signo` (/proc/<pid>/status, SigCgt mask). */
function catches(pid: number, signo: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(signo - 1)) & 1n) === 1n;
}

describe("the process table", () => {
  it("reads a process whose name contains spaces and parentheses, and finds it by its marker", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-proc-"));
    tempDirs.push(dir);
    const odd = join(dir, "x) y (z");
    symlinkSync("/bin/sleep", odd);
    const runId = newRunId();
    const child = start(odd, ["60"], markers(runId));
    const pid = child.pid ?? 0;
    await waitFor("the exec", () => readProcess(pid)?.comm === "x) y (z");

    const row = readProcessTable().find((info) => info.pid === pid);
    assert.ok(row, "listed in the table");
    assert.deepEqual([row.ppid, row.pgid, row.sid], [process.pid, pid, pid]);
    assert.deepEqual(findByEnv(RUN_ID_ENV, runId), [pid]);
    assert.deepEqual(findByEnv(RUN_ID_ENV, runId.slice(0, -1)), [], "the value must match exactly");
    assert.ok(isAlive(pid));
    child.kill("SIGKILL");
    await waitFor("its end", () => !isAlive(pid));
  });
});

describe("killProcessTree", () => {
  it("kills a group leader, its ordinary child and its child in a new session (root + env)", async () => {
    const runId = newRunId();
    const agent = await startAgent(runId);
    const before = readProcess(agent.newSession);
    assert.equal(before?.sid, agent.newSession, "the grandchild leads its own session");
    assert.equal(
      readProcess(agent.child)?.pgid,
      agent.pid,
      "the other one is in the agent's group",
    );

    const started = Date.now();
    const result = await killProcessTree({
      rootPid: agent.pid,
      env: { name: RUN_ID_ENV, value: runId },
      graceMs: 5_000,
    });
    for (const pid of allPids(agent)) assert.equal(isAlive(pid), false, `${pid} is gone`);
    assert.deepEqual(result.signalled, allPids(agent).sort(numerically));
    assert.deepEqual(result.killed, [], "all of them obeyed SIGTERM");
    assert.deepEqual(result.survivors, []);
    assert.ok(Date.now() - started < 2_000, "no waiting for the grace period once all are gone");
  });

  it("finds the new-session grandchild by walking the tree alone (root, no env)", async () => {
    const agent = await startAgent(newRunId());
    const result = await killProcessTree({ rootPid: agent.pid, graceMs: 5_000 });
    for (const pid of allPids(agent)) assert.equal(isAlive(pid), false, `${pid} is gone`);
    assert.deepEqual(result.survivors, []);
  });

  it("SIGKILLs a process that ignores SIGTERM once the grace period is over", async () => {
    const runId = newRunId();
    const agent = await startAgent(runId, ["--ignore-term"]);
    await waitFor("the SIGTERM handler", () => catches(agent.pid, 15));

    const graceMs = 300;
    const started = Date.now();
    const result = await killProcessTree({ rootPid: agent.pid, graceMs });
    const elapsed = Date.now() - started;
    for (const pid of allPids(agent)) assert.equal(isAlive(pid), false, `${pid} is gone`);
    assert.deepEqual(result.killed, [agent.pid], "only the stubborn one needed SIGKILL");
    assert.deepEqual(result.survivors, []);
    assert.ok(elapsed >= graceMs, `waited the grace period (${elapsed} ms)`);
    assert.ok(elapsed < graceMs + 1_500, `then did not dawdle (${elapsed} ms)`);
  });

  it("kills orphans by their marker from another process, which carries the marker itself", async () => {
    const runId = newRunId();
    const agent = await startAgent(runId);
    // The agent dies first: its children are re-parented, out of anyone's tree we know.
    process.kill(agent.pid, "SIGKILL");
    await waitFor("the re-parenting", () => readProcess(agent.newSession)?.ppid !== agent.pid);
    await waitFor("the re-parenting", () => readProcess(agent.child)?.ppid !== agent.pid);

    // Like `orchestrate kill` typed into a shell an agent started: the killer and the shell (its
    // parent) carry the marker too, and must survive it.
    const script = `
      const { killProcessTree } = await import(${JSON.stringify(KILL_TREE_URL)});
      const env = { name: ${JSON.stringify(RUN_ID_ENV)}, value: ${JSON.stringify(runId)} };
      const result = await killProcessTree({ env, graceMs: 2000 });
      console.log(JSON.stringify({ pid: process.pid, ...result }));`;
    const shell = start(
      "sh",
      ["-c", '"$0" --input-type=module -e "$1"; echo "shell exit $?"', process.execPath, script],
      markers(runId, "killer"),
      false,
    );
    const [line, last] = (await allOutput(shell)).trim().split("\n");
    const report = JSON.parse(line ?? "") as { pid: number; signalled: number[] };

    assert.equal(last, "shell exit 0", "the killer and its shell survived their own marker");
    assert.ok(!report.signalled.includes(report.pid));
    assert.deepEqual(report.signalled, [agent.newSession, agent.child].sort(numerically));
    for (const pid of allPids(agent)) assert.equal(isAlive(pid), false, `${pid} is gone`);
    assert.deepEqual(findByEnv(RUN_ID_ENV, runId), []);
  });

  it("counts a zombie as dead: neither waited for nor reported as a survivor", async () => {
    const runId = newRunId();
    // After `exec sleep`, the parent is a program that never reaps its background child.
    const shell = start("sh", ["-c", "sleep 60 & echo $!; exec sleep 60"], markers(runId));
    const zombie = Number(await firstLine(shell));
    remember([zombie]);
    await waitFor("the exec", () => readProcess(shell.pid ?? 0)?.comm === "sleep");

    const first = await killProcessTree({ rootPid: zombie, graceMs: 10_000 });
    assert.deepEqual(first, { signalled: [zombie], killed: [], survivors: [] });
    assert.equal(readProcess(zombie)?.state, "Z", "it is a zombie now");
    assert.doesNotThrow(() => process.kill(zombie, 0), "which kill(0) still finds");
    assert.equal(isAlive(zombie), false, "but isAlive does not");

    const started = Date.now();
    const again = await killProcessTree({
      env: { name: RUN_ID_ENV, value: runId },
      graceMs: 10_000,
    });
    assert.deepEqual(again.signalled, [shell.pid], "the zombie itself is not signalled");
    assert.deepEqual(again.survivors, []);
    assert.ok(Date.now() - started < 2_000, "and not waited for");
  });
});

describe("the watchdog", () => {
  it("kills every agent of its run, new sessions included, after the run is SIGKILLed", async () => {
    const runId = newRunId();
    const run = start(process.execPath, [RUN_LIKE, "run", runId, "300"], process.env, false);
    const { watchdog, agents } = JSON.parse(await firstLine(run)) as {
      watchdog: number;
      agents: AgentPids[];
    };
    const agentPids = agents.flatMap(allPids).sort(numerically);
    remember([watchdog, ...agentPids]);
    assert.equal(agentPids.length, 6);
    assert.deepEqual(findByEnv(RUN_ID_ENV, runId).sort(numerically), agentPids, "all marked");
    assert.equal(readProcess(watchdog)?.sid, watchdog, "the watchdog has its own session");

    // The Ctrl-C or `kill` that ends the run does not end the watchdog.
    await waitFor("its signal handlers", () =>
      [1, 2, 15].every((signo) => catches(watchdog, signo)),
    );
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.kill(-watchdog, signal);
    await delay(100);
    assert.ok(isAlive(watchdog), "the watchdog ignored SIGINT, SIGTERM and SIGHUP");
    for (const pid of agentPids) assert.ok(isAlive(pid), `${pid} still runs while the run does`);

    run.kill("SIGKILL");
    await waitFor("the agents' end", () => agentPids.every((pid) => !isAlive(pid)));
    await waitFor("the watchdog's exit", () => !isAlive(watchdog));
  });

  it("on stop(), kills what the run left behind and exits", async () => {
    const runId = newRunId();
    const guard = startWatchdog(runId, 1_000);
    const exit = new Promise((resolve) => guard.child.once("exit", resolve));
    const agent = await startAgent(runId);
    assert.ok(isAlive(guard.child.pid ?? 0));

    guard.stop();
    assert.equal(await exit, 0);
    for (const pid of allPids(agent)) assert.equal(isAlive(pid), false, `${pid} is gone`);
  });
});
