import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * A lock shared by every process on this machine that works on one repository: git's own locks make
 * concurrent `worktree add`, branch updates and merges into one branch fail instead of wait, so every
 * such step takes this first. The lock is a file created exclusively; one whose owner died (same host,
 * process gone) is taken over. Within a process, callers queue on a promise chain instead of polling.
 */
export class RepoLock {
  readonly #dir: string;
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #timeoutMs: number;

  constructor(gitCommonDir: string, options: { timeoutMs?: number } = {}) {
    this.#dir = join(gitCommonDir, "orchestrate-locks");
    this.#timeoutMs = options.timeoutMs ?? 10 * 60_000;
  }

  /** Runs `fn` holding the lock `name` (`repo`, or a group's integration). */
  with<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#chains.get(name) ?? Promise.resolve();
    const run = before
      .catch(() => {})
      .then(async () => {
        const path = await this.#acquire(name);
        try {
          return await fn();
        } finally {
          rmSync(path, { force: true });
        }
      });
    this.#chains.set(name, run);
    void run
      .finally(() => {
        if (this.#chains.get(name) === run) this.#chains.delete(name);
      })
      .catch(() => {});
    return run;
  }

  async #acquire(name: string): Promise<string> {
    mkdirSync(this.#dir, { recursive: true });
    const path = join(this.#dir, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
    const started = Date.now();
    let wait = 5;
    for (;;) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
        closeSync(fd);
        return path;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (ownerIsGone(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() - started > this.#timeoutMs) {
        throw new Error(
          `the repository lock ${path} has been held for over ${Math.round(this.#timeoutMs / 1000)} s; if no orchestrate process is running, delete it`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(100, wait * 2);
    }
  }
}

/**
 * Whether the lock file's owner is a process of this host that no longer exists. A file that cannot be
 * parsed (its writer died between creating and writing it) is stale once it is a few seconds old.
 */
function ownerIsGone(path: string): boolean {
  let owner: { pid?: number; host?: string };
  try {
    owner = JSON.parse(readFileSync(path, "utf8")) as typeof owner;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      return Date.now() - statSync(path).mtimeMs > TORN_LOCK_MS;
    } catch {
      return false;
    }
  }
  if (owner.host !== hostname() || typeof owner.pid !== "number") return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

const TORN_LOCK_MS = 5_000;
