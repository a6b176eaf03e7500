import { probeRepository } from "../adapters/workspaces/git/gitRepository.ts";
import {
  type GitWorktreeWorkspaces,
  openGitWorktreeWorkspaces,
} from "../adapters/workspaces/git/gitWorktreeWorkspaces.ts";
import type { Config } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";

/**
 * The worktree workspaces of the project directory's repository, for commands that review, merge or
 * clean up task branches; null when the project directory is not in a git repository with a commit.
 */
export async function openRepositoryWorkspaces(
  config: Config,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<GitWorktreeWorkspaces | null> {
  const repo = await probeRepository(config.projectDir);
  if (!repo?.head) return null;
  return openGitWorktreeWorkspaces({
    repo,
    projectDir: config.projectDir,
    baseDir: config.baseDir,
    setupCommand: config.setupCommand,
    verifyCommand: config.verifyCommand,
    env,
  });
}

/** The same, for a command that cannot work without the repository. */
export async function requireRepositoryWorkspaces(
  config: Config,
  what: string,
): Promise<GitWorktreeWorkspaces> {
  const workspaces = await openRepositoryWorkspaces(config);
  if (!workspaces) {
    throw new UsageError(
      `${what} needs the git repository the tasks ran in, and ${config.projectDir} is not in one (with a commit)`,
      "run it from that repository's directory",
    );
  }
  return workspaces;
}
