import { type GitRepository, probeRepository } from "../adapters/workspaces/git/gitRepository.ts";
import type { Config } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import type { Isolation } from "../core/taskWorkspace.ts";

/** How a command's tasks are kept apart, and the repository when they get worktrees. */
export type IsolationChoice =
  | { isolation: "worktree"; repo: GitRepository & { head: string } }
  | { isolation: "none"; repo: null; why: string };

/**
 * Decides the isolation for the project directory: what configuration asks (`ORCHESTRATOR_ISOLATION`,
 * `--isolation`, a plan's own), else worktrees when the directory is in a git work tree with at least
 * one commit and none elsewhere. Asking for worktrees outside such a repository is refused.
 */
export async function chooseIsolation(
  config: Config,
  requested: Isolation | null = config.isolation,
): Promise<IsolationChoice> {
  if (requested === "none") return { isolation: "none", repo: null, why: "isolation is none" };
  const repo = await probeRepository(config.projectDir);
  if (repo?.head) return { isolation: "worktree", repo: { ...repo, head: repo.head } };
  const why = repo ? "its git repository has no commit yet" : "it is not in a git repository";
  if (requested === "worktree") {
    throw new UsageError(
      `worktree isolation needs a git repository with a commit, and ${config.projectDir}: ${why}`,
      repo
        ? "commit something first (git commit), or use --isolation none"
        : "run it inside a git repository (git init && git commit), or use --isolation none",
    );
  }
  return { isolation: "none", repo: null, why };
}

/** The commit new tasks' branches start from (HEAD now), or null when they get no worktrees. */
export async function baseCommitForNewTasks(
  config: Config,
  requested: Isolation | null = config.isolation,
): Promise<string | null> {
  const choice = await chooseIsolation(config, requested);
  return choice.isolation === "worktree" ? choice.repo.head : null;
}
