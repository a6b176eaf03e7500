import { randomBytes } from "node:crypto";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
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
    // Longer than a verification may run (30 min) while a group's lock is held.
    this.#timeoutMs = options.timeoutMs ?? 45 * 60_000;
  }

  /** Runs `fn` holding the lock `name` (`repo`, or a group's integration). */
  with<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#chains.get(name) ?? Promise.resolve();
    const run = before
      .catch(() => {})
      .then(async () => {
        const { path, token } = await this.#acquire(name);
        try {
          return await fn();
        } finally {
          releaseIfOurs(path, token);
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

  async #acquire(name: string): Promise<{ path: string; token: string }> {
    mkdirSync(this.#dir, { recursive: true });
    const path = join(this.#dir, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
    const started = Date.now();
    let wait = 5;
    for (;;) {
      try {
        const fd = openSync(path, "wx");
        const token = randomBytes(8).toString("hex");
        writeSync(
          fd,
          JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), token }),
        );
        closeSync(fd);
        return { path, token };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const stale = staleContent(path);
      if (stale !== null) {
        breakStaleLock(path, stale);
        continue;
      }
      if (Date.now() - started > this.#timeoutMs) {
        throw new Error(
          `the repository lock ${path} has been held by another orchestrate process (${ownerOf(path)}) for over ${Math.round(this.#timeoutMs / 1000)} s; wait for it, or end it`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(100, wait * 2);
    }
  }
}

/**
 * The lock file's content when its owner is a process of this host that no longer exists (or the
 * file is torn: its writer died between creating and writing it, and it is a few seconds old); null
 * while the lock is live.
 */
function staleContent(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  let owner: { pid?: number; host?: string };
  try {
    owner = JSON.parse(text) as typeof owner;
  } catch {
    try {
      return Date.now() - statSync(path).mtimeMs > TORN_LOCK_MS ? text : null;
    } catch {
      return null;
    }
  }
  if (owner.host !== hostname() || typeof owner.pid !== "number") return null;
  try {
    process.kill(owner.pid, 0);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? text : null;
  }
}

/**
 * Takes a stale lock out of the way atomically: it is renamed aside (only one process's rename can
 * succeed), and if what was renamed is not the stale lock that was judged (a live process took the
 * lock in between), it is put back.
 */
function breakStaleLock(path: string, stale: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // Someone else broke it first.
  }
  let moved = "";
  try {
    moved = readFileSync(aside, "utf8");
  } catch {
    return;
  }
  if (moved !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      // The path is taken again already: that holder goes on.
    }
  }
  rmSync(aside, { force: true });
}

/** Removes the lock only while it is still the one this holder wrote. */
function releaseIfOurs(path: string, token: string): void {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as { token?: string };
    if (owner.token === token) rmSync(path, { force: true });
  } catch {
    // Gone or unreadable: not ours to remove.
  }
}

/** Who holds a lock, for messages. */
function ownerOf(path: string): string {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as { pid?: number; host?: string };
    return `pid ${owner.pid ?? "?"} on ${owner.host ?? "?"}`;
  } catch {
    return "unknown owner";
  }
}

const TORN_LOCK_MS = 5_000;
