/**
 * Ending an agent's whole process tree: the agent, everything it started, and everything those started,
 * including processes that moved to new sessions or lost their parent.
 *
 * Signalling the agent's process group is not enough: agent CLIs run their tools in new sessions (Claude
 * Code's Bash tool does), and a process whose parent has died is re-parented to init, so it is no longer
 * anyone's descendant. We therefore find the tree three ways, each covering the others' blind spots:
 *  - the root's process group and session (still correct after the root itself exited),
 *  - descendants by parent pid, read *before* the first signal, while children still have their parent,
 *  - an environment marker every agent process inherits, which survives re-parenting and setsid().
 *
 * Then: first signal (SIGTERM) so tools can clean up, a grace period, a fresh look (handlers may have
 * started new processes), SIGKILL for whatever is left, and a report of anything that still survived.
 */
import { setTimeout as delay } from "node:timers/promises";
import {
  findByEnv,
  isDeadState,
  type ProcessInfo,
  readProcess,
  readProcessTable,
} from "./processTable.ts";

/** What to end, and how patiently. At least one of `rootPid` and `env` should be given. */
export interface KillTreeOptions {
  /**
   * A process we started (an agent), usually a group and session leader thanks to `detached: true`.
   * Its group, its session and all its descendants are ended, even if it has already exited itself.
   * Pass only a pid you know is still yours: like any pid, it can be reused once the process is reaped.
   */
  rootPid?: number;
  /** An environment entry the tree's processes inherited (`ORCHESTRATE_RUN_ID=<id>`): finds the strays. */
  env?: { name: string; value: string };
  /** How long the processes get, after the first signal, to exit on their own before SIGKILL. */
  graceMs: number;
  /** The first signal, SIGTERM by default. With SIGKILL there is no grace period. */
  signal?: NodeJS.Signals;
}

/** What `killProcessTree` did, as pid lists (sorted), for logs and for tests. */
export interface KillTreeResult {
  /** Processes the first signal was delivered to. */
  signalled: number[];
  /** Processes that had to be SIGKILLed: they outlived the grace period, or appeared during it. */
  killed: number[];
  /**
   * Processes still alive at the end. Should be empty; only a process stuck in the kernel
   * (uninterruptible sleep, state D) can outlive SIGKILL for long. Zombies are dead and never listed.
   */
  survivors: number[];
}

/** How often we look whether the processes are gone. */
const POLL_MS = 50;
/** How long to wait for SIGKILLed processes to disappear in one round. */
const KILL_WAIT_MS = 1_000;
/** SIGKILL rounds, in case processes keep forking new ones while we kill them. */
const KILL_ROUNDS = 3;

/**
 * Ends every process of a tree (see the file comment for how the tree is found) and resolves once they
 * are gone. Never signals pid 0 or 1, kernel threads, the calling process or any of its ancestors, nor a
 * process group one of those belongs to: `orchestrate kill` may well be run from inside an agent's shell.
 * Processes that exit on their own while we work are fine (ESRCH is the expected outcome, not an error).
 */
export async function killProcessTree(options: KillTreeOptions): Promise<KillTreeResult> {
  const first = options.signal ?? "SIGTERM";
  let table = readProcessTable();
  const guard = makeGuard(table);
  /** Every process we ever targeted, by pid, to check at the end that each of them is gone. */
  const targeted = new Map<number, ProcessInfo>();

  let tree = collectTree(options, table, guard, []);
  for (const info of tree.targets) targeted.set(info.pid, info);
  const signalled = signalTree(tree, first);
  if (first !== "SIGKILL") {
    // A stopped process (Ctrl-Z, a debugger) keeps the signal pending until it is continued.
    for (const info of tree.targets) if (info.state === "T") sendSignal(info.pid, "SIGCONT");
  }
  await waitUntilGone(tree.targets, first === "SIGKILL" ? KILL_WAIT_MS : options.graceMs);

  const killed = new Set<number>();
  for (let round = 0; round < KILL_ROUNDS; round++) {
    // Look again: SIGTERM handlers may have started processes, and the survivors' children count too.
    table = readProcessTable();
    const leftover = [...targeted.values()].filter(isRunning);
    tree = collectTree(options, table, guard, leftover);
    if (tree.targets.length === 0) break;
    for (const info of tree.targets) targeted.set(info.pid, info);
    for (const pid of signalTree(tree, "SIGKILL")) killed.add(pid);
    await waitUntilGone(tree.targets, KILL_WAIT_MS);
  }

  const survivors = [...targeted.values()].filter(isRunning).map((info) => info.pid);
  return { signalled: sorted(signalled), killed: sorted(killed), survivors: sorted(survivors) };
}

/** The processes we must never signal, and the groups we must never signal as a whole. */
interface Guard {
  pids: Set<number>;
  groups: Set<number>;
}

/** Ourselves and our ancestors (and, with them, our own process group): killing them would kill us. */
function makeGuard(table: readonly ProcessInfo[]): Guard {
  const byPid = new Map(table.map((info) => [info.pid, info]));
  const pids = new Set<number>([0, 1]);
  for (let pid = process.pid; pid > 1 && !pids.has(pid); pid = byPid.get(pid)?.ppid ?? 0)
    pids.add(pid);
  pids.add(process.ppid); // in case /proc did not show us our own entry
  const groups = new Set<number>([0, 1]);
  for (const info of table) if (pids.has(info.pid)) groups.add(info.pgid);
  return { pids, groups };
}

/** One look at the tree: the processes to signal, and the process groups to signal as a whole. */
interface Tree {
  targets: ProcessInfo[];
  groups: number[];
}

/**
 * The tree as of `table`: start from the root (even if it has exited: its group and session outlive it),
 * the env-marked processes and `extra` (processes we already targeted that are still running), then add,
 * until nothing changes, every member's children, the members of every group and session it leads.
 * Group and session membership are reliable even after re-parenting: both can only be inherited, or
 * left for a new one the process then leads itself.
 */
function collectTree(
  options: KillTreeOptions,
  table: readonly ProcessInfo[],
  guard: Guard,
  extra: readonly ProcessInfo[],
): Tree {
  const byPid = new Map(table.map((info) => [info.pid, info]));
  const related = new Map<number, ProcessInfo[]>(); // pid -> its children, group and session members
  const relate = (key: number, info: ProcessInfo) => {
    const list = related.get(key);
    if (list) list.push(info);
    else related.set(key, [info]);
  };
  for (const info of table) {
    relate(info.ppid, info);
    if (info.pgid !== info.pid) relate(info.pgid, info);
    if (info.sid !== info.pid && info.sid !== info.pgid) relate(info.sid, info);
  }

  const members = new Map<number, ProcessInfo>();
  const queue: number[] = [];
  const add = (info: ProcessInfo | undefined) => {
    if (!info || members.has(info.pid) || isGuarded(info, guard)) return;
    members.set(info.pid, info);
    queue.push(info.pid);
  };
  if (options.rootPid !== undefined && !guard.pids.has(options.rootPid)) {
    add(byPid.get(options.rootPid));
    queue.push(options.rootPid); // visit its relatives even when the root itself is gone
  }
  if (options.env) {
    // Read after the table, so a marked process started in between is added (its children are not,
    // but they are marked too and the SIGKILL round looks again).
    for (const pid of findByEnv(options.env.name, options.env.value))
      add(byPid.get(pid) ?? readProcess(pid));
  }
  for (const before of extra) {
    const now = byPid.get(before.pid);
    if (now?.startTime === before.startTime) add(now); // else gone, or a stranger reusing the pid
  }
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    for (const info of related.get(pid) ?? []) add(info);
  }

  const all = [...members.values()];
  const leaders = new Set(all.map((info) => info.pid));
  if (options.rootPid !== undefined) leaders.add(options.rootPid);
  const groups = new Set<number>();
  for (const info of all) {
    // A group is ours to signal as a whole only if one of ours leads it (or led it: the root).
    if (leaders.has(info.pgid) && !guard.groups.has(info.pgid)) groups.add(info.pgid);
  }
  // Zombies are already dead: nothing to signal, nothing to wait for. They were still worth visiting,
  // since a zombie group leader's group lives on.
  return { targets: all.filter((info) => !isDeadState(info.state)), groups: [...groups] };
}

function isGuarded(info: ProcessInfo, guard: Guard): boolean {
  // pgid 0 is a kernel thread; they ignore signals anyway, and never belong to an agent.
  return info.pid <= 1 || info.pgid === 0 || guard.pids.has(info.pid);
}

/**
 * Sends `signal` to each group (one atomic call reaches members we may not have seen yet, for example a
 * child forked a moment ago) and to each target. Returns the pids it was delivered to.
 */
function signalTree(tree: Tree, signal: NodeJS.Signals): number[] {
  for (const pgid of tree.groups) sendSignal(-pgid, signal);
  const delivered: number[] = [];
  for (const info of tree.targets) if (sendSignal(info.pid, signal)) delivered.push(info.pid);
  return delivered;
}

/** `process.kill` that treats "no such process" and "not yours" as a quiet false. */
function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  if (pid === 0 || pid === 1 || pid === -1 || pid === process.pid) return false; // never: see makeGuard
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw error;
  }
}

/** Whether the process we saw is still running: same pid *and* start time, and not a zombie. */
function isRunning(seen: ProcessInfo): boolean {
  const now = readProcess(seen.pid);
  return now !== undefined && now.startTime === seen.startTime && !isDeadState(now.state);
}

/** Polls until none of `targets` runs any more, or `ms` have passed. */
async function waitUntilGone(targets: readonly ProcessInfo[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let running = targets.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    await delay(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    running = running.filter(isRunning);
  }
}

function sorted(pids: Iterable<number>): number[] {
  return [...pids].sort((a, b) => a - b);
}
