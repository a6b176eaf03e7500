import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { git } from "./git.ts";

/** The file at the project root listing untracked files to copy into each new worktree (gitignore syntax). */
export const WORKTREE_INCLUDE_FILE = ".worktreeinclude";

/**
 * Copies the untracked files `.worktreeinclude` matches (`.env`, local settings) from the user's
 * checkout into a new worktree: git itself matches the patterns, so the syntax is exactly gitignore's.
 * Files keep their mode bits (an executable stays executable) and symbolic links stay links. Returns
 * the paths copied; files the worktree already has (tracked ones) are left alone.
 */
export async function copyWorktreeIncludes(
  checkoutRoot: string,
  worktree: string,
  env: Record<string, string>,
  /** A directory (relative to the root, e.g. the base dir) never copied from. */
  skip: string | null,
): Promise<string[]> {
  const listFile = join(checkoutRoot, WORKTREE_INCLUDE_FILE);
  if (!existsSync(listFile)) return [];
  const listed = await git(
    ["ls-files", "-z", "--others", "--ignored", `--exclude-from=${listFile}`],
    { cwd: checkoutRoot, env },
  );
  const copied: string[] = [];
  for (const path of listed.stdout.split("\0").filter((p) => p !== "")) {
    const from = join(checkoutRoot, path);
    const to = join(worktree, path);
    if (skip && (path === skip || path.startsWith(`${skip}/`))) continue;
    if (existsSync(to)) continue;
    const stat = lstatSync(from, { throwIfNoEntry: false });
    if (!stat) continue;
    mkdirSync(dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (stat.isFile()) copyFileSync(from, to);
    else continue;
    copied.push(path);
  }
  return copied;
}
