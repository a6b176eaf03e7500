import { ConflictError } from "../../../core/errors.ts";
import { git, gitOut, lines } from "./git.ts";
import { refExists } from "./gitRepository.ts";

/** What a diff command prints: the patch, or with `stat` git's summary of it. */
export async function diffBetween(
  root: string,
  base: string,
  head: string,
  options: { stat: boolean; env: Record<string, string> },
): Promise<string> {
  const args = [
    "diff",
    "--no-color",
    "--no-ext-diff",
    ...(options.stat ? ["--stat"] : []),
    base,
    head,
  ];
  return (await git(args, { cwd: root, env: options.env })).stdout;
}

/** Tracked files with changes (staged or not) in the user's checkout; untracked files do not count. */
export async function uncommittedChanges(
  root: string,
  env: Record<string, string>,
): Promise<string[]> {
  const out = await git(["status", "--porcelain=v1", "--untracked-files=no"], { cwd: root, env });
  return lines(out.stdout).map((line) => line.slice(3));
}

/** Whether all of `ref`'s commits are in `into`. */
export async function isMergedInto(
  root: string,
  ref: string,
  into: string,
  env: Record<string, string>,
): Promise<boolean> {
  if (!(await refExists(root, into, env))) return false;
  const result = await git(["merge-base", "--is-ancestor", ref, into], {
    cwd: root,
    env,
    allowFailure: true,
  });
  return result.code === 0;
}

export type CheckoutMerge =
  | { kind: "merged"; commit: string; alreadyUpToDate: boolean }
  | { kind: "conflict"; files: string[] };

/**
 * Merges `branch` into the branch checked out in the user's checkout, the one step that touches it,
 * and only when asked (`orchestrate merge`). A conflict is reported with its files and the merge is
 * aborted, so the checkout is left exactly as it was.
 */
export async function mergeIntoCheckout(
  root: string,
  branch: string,
  message: string,
  env: Record<string, string>,
): Promise<CheckoutMerge> {
  const before = await gitOut(["rev-parse", "HEAD"], { cwd: root, env });
  const result = await git(["merge", "--no-ff", "--no-edit", "-m", message, branch], {
    cwd: root,
    env,
    allowFailure: true,
  });
  if (result.code === 0) {
    const commit = await gitOut(["rev-parse", "HEAD"], { cwd: root, env });
    return { kind: "merged", commit, alreadyUpToDate: commit === before };
  }
  const conflicted = await git(["diff", "--name-only", "--diff-filter=U", "-z"], {
    cwd: root,
    env,
  });
  const files = conflicted.stdout.split("\0").filter((p) => p !== "");
  if (await refExists(root, "MERGE_HEAD", env)) {
    await git(["merge", "--abort"], { cwd: root, env, allowFailure: true });
  }
  if (files.length === 0) {
    const said = (result.stderr || result.stdout).trim();
    const untracked = said.includes("untracked working tree files would be overwritten");
    throw new ConflictError(
      untracked
        ? `merging ${branch} would overwrite untracked files in your checkout; nothing was changed: ${said
            .split("\n")
            .slice(1, 6)
            .map((l) => l.trim())
            .filter(Boolean)
            .join(", ")}`
        : `git could not merge ${branch}; nothing was changed: ${said.split("\n").slice(0, 3).join(" / ")}`,
      untracked
        ? "move or remove those files, then merge again"
        : "see what git says above, fix it, then merge again",
    );
  }
  return { kind: "conflict", files };
}

/** The branch checked out in the user's checkout (null when HEAD is detached). */
export async function currentBranch(
  root: string,
  env: Record<string, string>,
): Promise<string | null> {
  const result = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], {
    cwd: root,
    env,
    allowFailure: true,
  });
  return result.code === 0 ? result.stdout.trim() : null;
}
