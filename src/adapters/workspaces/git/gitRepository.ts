import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { git, gitEnvironment, gitOut } from "./git.ts";

/** A git work tree as orchestrate sees it: where it is, where its shared git data is, its HEAD. */
export interface GitRepository {
  /** The top of the work tree the project directory is in. */
  root: string;
  /** The repository's common git directory (shared by all its worktrees). */
  commonDir: string;
  /** HEAD's commit; null in a repository without commits. */
  head: string | null;
}

/**
 * The git work tree `dir` is in, or null when it is in none. Looks for a `.git` entry first, so that a
 * directory outside any repository costs no process.
 */
export async function probeRepository(
  dir: string,
  env: Record<string, string> = gitEnvironment(),
): Promise<GitRepository | null> {
  if (!insideWorkTree(resolve(dir))) return null;
  const top = await git(["rev-parse", "--show-toplevel", "--git-common-dir"], {
    cwd: dir,
    env,
    allowFailure: true,
  });
  if (top.code !== 0) return null;
  const [root, common] = top.stdout.trim().split("\n");
  if (!root || !common) return null;
  const head = await git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
    cwd: dir,
    env,
    allowFailure: true,
  });
  return {
    root,
    commonDir: isAbsolute(common) ? common : resolve(dir, common),
    head: head.code === 0 ? head.stdout.trim() : null,
  };
}

function insideWorkTree(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, ".git"))) return true;
    if (dirname(at) === at) return false;
  }
}

/** Whether `ref` names a commit in the repository at `cwd`. */
export async function refExists(
  cwd: string,
  ref: string,
  env: Record<string, string>,
): Promise<boolean> {
  const result = await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
    cwd,
    env,
    allowFailure: true,
  });
  return result.code === 0;
}

/**
 * The identity commits are made with: the user's when git has one, else orchestrate's own (a fresh
 * CI machine has none, and a commit must never fail for that).
 */
export async function commitIdentity(
  cwd: string,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  const email = await gitOut(["config", "user.email"], { cwd, env, allowFailure: true });
  const name = await gitOut(["config", "user.name"], { cwd, env, allowFailure: true });
  return {
    ...(email
      ? {}
      : {
          GIT_AUTHOR_EMAIL: "orchestrate@localhost",
          GIT_COMMITTER_EMAIL: "orchestrate@localhost",
        }),
    ...(name ? {} : { GIT_AUTHOR_NAME: "orchestrate", GIT_COMMITTER_NAME: "orchestrate" }),
  };
}
