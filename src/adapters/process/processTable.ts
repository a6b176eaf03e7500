/**
 * A snapshot of the machine's processes, read from Linux's /proc.
 *
 * Why not just `child.kill()`: agent CLIs start tools in new sessions and process groups, and those
 * outlive their parent (they are re-parented to init or a subreaper). To end an agent completely we have
 * to *see* its processes: who descends from whom (ppid), which group and session each is in, and which
 * carry our environment marker. /proc gives all of that without spawning `ps`.
 *
 * Every read here tolerates processes that exit while we look at them: a pid listed by readdir may be
 * gone a microsecond later, and that is normal, not an error.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** One process, as the kernel describes it in `/proc/<pid>/stat` (see proc(5)). */
export interface ProcessInfo {
  pid: number;
  /** Parent pid; 1 (or a subreaper) once the real parent has exited. */
  ppid: number;
  /** Process group id: `kill(-pgid)` reaches every member of the group in one call. */
  pgid: number;
  /** Session id: a process that called setsid() (Node's `detached: true`) leads a new session. */
  sid: number;
  /**
   * Start time in clock ticks since boot. A pid can be reused once its process is gone; pid plus
   * startTime names one process for good, so we never signal a stranger that inherited a pid.
   */
  startTime: number;
  /** One-letter state: R running, S sleeping, D disk wait, T stopped, Z zombie, X dead, ... */
  state: string;
  /** The executable's name, at most 15 bytes; it may contain spaces and parentheses. */
  comm: string;
}

const PROC = "/proc";

/**
 * Parses the text of `/proc/<pid>/stat`, or returns undefined when it is not one.
 *
 * The second field is the command name in parentheses, and that name may itself contain spaces and
 * ')' (a program named `a) b` gives `12 (a) b) S 1 ...`). The kernel never escapes it, so the only safe
 * split is at the *last* ')' in the line: everything after it is plain space-separated numbers.
 */
export function parseStat(text: string): ProcessInfo | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  // After the comm come fields 3.. of proc(5): state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  const info: ProcessInfo = {
    pid,
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    startTime: field(22),
    state: rest[0] ?? "",
    comm: text.slice(open + 1, close),
  };
  const numbers = [info.pid, info.ppid, info.pgid, info.sid, info.startTime];
  if (!numbers.every(Number.isSafeInteger) || info.pid <= 0 || info.state === "") return undefined;
  return info;
}

/**
 * Reads one process, or returns undefined if it does not exist (any more). Used to re-check a process
 * we saw earlier: compare `startTime` to be sure it is still the same one.
 */
export function readProcess(pid: number): ProcessInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`${PROC}/${pid}/stat`, "utf8");
  } catch {
    // ENOENT: gone before we opened it; ESRCH: exited between open and read. Anything else (a /proc
    // mounted with hidepid) also means "not a process we can manage".
    return undefined;
  }
  return parseStat(text);
}

/**
 * Every process on the machine (one entry per process, not per thread). Processes that exit while the
 * table is being read are simply missing from it.
 *
 * Linux only: throws when /proc is not there, because silently returning nothing would make
 * `killProcessTree` believe an agent had no children.
 */
export function readProcessTable(): ProcessInfo[] {
  const table: ProcessInfo[] = [];
  for (const pid of listPids()) {
    const info = readProcess(pid);
    if (info) table.push(info);
  }
  return table;
}

/**
 * The processes below `pid` in the tree (children, their children, ...), not including `pid` itself,
 * found by following ppid links in `table`.
 *
 * Only as good as the moment `table` was read: a process whose parent already died has been re-parented
 * to init and no longer shows up here. That is why callers walk the tree *before* signalling anything.
 */
export function descendantsOf(pid: number, table: readonly ProcessInfo[]): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const info of table) {
    const siblings = children.get(info.ppid);
    if (siblings) siblings.push(info);
    else children.set(info.ppid, [info]);
  }
  const found: ProcessInfo[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      if (seen.has(child.pid)) continue; // a pid cannot be its own ancestor, but a racy table might say so
      seen.add(child.pid);
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/**
 * The value of environment variable `name` for every process that has it, by pid.
 *
 * This is how we find an agent's processes after the tree is broken: every process the agent starts
 * inherits its environment, even in a new session, and keeps it after its parent dies. Reads the
 * *initial* environment (`/proc/<pid>/environ`, NUL-separated `NAME=value` entries); processes we may not
 * read (other users' processes, kernel threads) are skipped, which is fine: ours are readable by us.
 */
export function findEnvValues(name: string): Map<number, string> {
  const prefix = Buffer.from(`${name}=`);
  const values = new Map<number, string>();
  for (const pid of listPids()) {
    let environ: Buffer;
    try {
      environ = readFileSync(`${PROC}/${pid}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    const value = envValue(environ, prefix);
    if (value !== undefined) values.set(pid, value);
  }
  return values;
}

/** The pids whose environment contains exactly the entry `name=value` (see `findEnvValues`). */
export function findByEnv(name: string, value: string): number[] {
  const pids: number[] = [];
  for (const [pid, found] of findEnvValues(name)) if (found === value) pids.push(pid);
  return pids;
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: it has exited and only waits for its parent
 * to collect its exit status; it cannot run, cannot be signalled away, and when its parent never reaps
 * it (or it was re-parented to a non-reaping init) it would otherwise look alive forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else. ESRCH: no such process.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!hasProcfs()) return true; // no way to tell a zombie elsewhere: trust kill(0)
  const info = readProcess(pid);
  return info !== undefined && !isDeadState(info.state);
}

/** Whether a /proc state letter means the process has already exited (zombie, or being torn down). */
export function isDeadState(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

function listPids(): number[] {
  let names: string[];
  try {
    names = readdirSync(PROC);
  } catch (error) {
    throw new Error(
      `cannot list processes: ${PROC} is not readable (${(error as Error).message}); ` +
        "ending agent process trees needs Linux /proc",
      { cause: error },
    );
  }
  const pids: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (Number.isSafeInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** The value after `prefix` (`NAME=`) in a NUL-separated environ block, if an entry starts with it. */
function envValue(environ: Buffer, prefix: Buffer): string | undefined {
  for (let start = 0; start < environ.length; ) {
    let end = environ.indexOf(0, start);
    if (end < 0) end = environ.length;
    if (
      end - start >= prefix.length &&
      environ.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
    )
      return environ.toString("utf8", start + prefix.length, end);
    start = end + 1;
  }
  return undefined;
}

let procfs: boolean | undefined;
function hasProcfs(): boolean {
  procfs ??= existsSync(`${PROC}/self/stat`);
  return procfs;
}
