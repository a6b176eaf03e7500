import { refExists } from "../adapters/workspaces/git/gitRepository.ts";
import {
  currentBranch,
  mergeIntoCheckout,
  uncommittedChanges,
} from "../adapters/workspaces/git/gitReview.ts";
import { ConflictError, NotFoundError } from "../core/errors.ts";
import { integrationBranch } from "../core/taskWorkspace.ts";
import { requireRepositoryWorkspaces } from "./repositoryWorkspaces.ts";
import type { Session } from "./session.ts";
import { resolveWorkRef } from "./workRef.ts";

export interface WorkMerged {
  /** The branch merged. */
  branch: string;
  /** The user's branch it went into (null: a detached HEAD). */
  into: string | null;
  commit: string;
  alreadyUpToDate: boolean;
  /** Tasks of the group whose work is not in the merged branch yet (still running, failed, in conflict). */
  notIntegrated: number;
}

/**
 * Brings finished work into the user's own checkout, the one thing that ever touches it and only when
 * asked: a plan's (or the ad-hoc tasks') integration branch, or one task's branch, merged into the
 * current branch. A checkout with uncommitted changes to tracked files is refused; a conflict aborts the
 * merge, so the checkout is left as it was, and names the files.
 */
export async function mergeWork(session: Session, ref: string): Promise<WorkMerged> {
  const workspaces = await requireRepositoryWorkspaces(session.config, "merge");
  const work = await resolveWorkRef(session, ref);
  const root = workspaces.repository.root;
  const env = workspaces.gitEnv;
  const dirty = await uncommittedChanges(root, env);
  if (dirty.length > 0) {
    throw new ConflictError(
      `your checkout has uncommitted changes (${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", ..." : ""}); merge refuses to mix them with the agents' work`,
      "commit or stash them first, then merge again",
    );
  }
  const branch = work.kind === "task" ? work.workspace.branch : integrationBranch(work.group);
  if (!(await refExists(root, `refs/heads/${branch}`, env))) {
    throw new NotFoundError(
      `${branch} does not exist (yet)`,
      work.kind === "task"
        ? "the task's branch is made when its agent first starts"
        : "the integration branch is made when the first task's work is merged",
    );
  }
  const what =
    work.kind === "task"
      ? `task ${work.task.id.slice(0, 8)}`
      : work.plan
        ? `plan ${work.plan.id.slice(0, 8)}`
        : "ad-hoc tasks";
  const result = await mergeIntoCheckout(
    root,
    branch,
    `Merge ${branch} (orchestrate: ${what})`,
    env,
  );
  if (result.kind === "conflict") {
    throw new ConflictError(
      `merging ${branch} conflicts with your branch in ${result.files.join(", ")}; nothing was changed`,
      `look at the changes with 'orchestrate diff ${ref}', resolve by hand (git merge ${branch}), or rebase your branch first`,
    );
  }
  const notIntegrated =
    work.kind === "group"
      ? work.workspaces.filter((ws) => ws.merge !== "merged" && ws.merge !== "none").length
      : 0;
  return {
    branch,
    into: await currentBranch(root, env),
    commit: result.commit,
    alreadyUpToDate: result.alreadyUpToDate,
    notIntegrated,
  };
}
