import { refExists } from "../adapters/workspaces/git/gitRepository.ts";
import { diffBetween } from "../adapters/workspaces/git/gitReview.ts";
import { UsageError } from "../core/errors.ts";
import { integrationBranch } from "../core/taskWorkspace.ts";
import { requireRepositoryWorkspaces } from "./repositoryWorkspaces.ts";
import type { Session } from "./session.ts";
import { resolveWorkRef } from "./workRef.ts";

export interface WorkDiff {
  /** What was compared, for a heading: a task's branch or a group's integration branch. */
  subject: string;
  base: string;
  head: string;
  /** The patch, or with `stat` git's summary. */
  text: string;
}

/**
 * What a task changed against its base commit (its branch as it is now), or what a plan (or the
 * ad-hoc tasks) changed against its base: the integration branch against the base commit.
 */
export async function diffWork(
  session: Session,
  ref: string,
  options: { stat: boolean },
): Promise<WorkDiff> {
  const workspaces = await requireRepositoryWorkspaces(session.config, "diff");
  const work = await resolveWorkRef(session, ref);
  const root = workspaces.repository.root;
  const env = workspaces.gitEnv;
  if (work.kind === "task") {
    const { workspace: ws } = work;
    const branchExists = await refExists(root, `refs/heads/${ws.branch}`, env);
    if (!branchExists && ws.startCommit === null && ws.headCommit === null) {
      throw new UsageError(
        `task ${work.task.id.slice(0, 8)} has no branch: it has not run in a worktree (it ran with isolation none, or has not started)`,
        "its changes, if any, are in the project directory itself",
      );
    }
    const head = branchExists ? ws.branch : (ws.headCommit ?? ws.baseCommit);
    const base = ws.startCommit ?? ws.baseCommit;
    const text = await diffBetween(root, base, head, { ...options, env });
    return { subject: `task ${work.task.id.slice(0, 8)} (${ws.branch})`, base, head, text };
  }
  const branch = integrationBranch(work.group);
  const base = oldestBase(work.workspaces.map((ws) => ws.baseCommit));
  const head = (await refExists(root, `refs/heads/${branch}`, env)) ? branch : base;
  const text = await diffBetween(root, base, head, { ...options, env });
  const subject = work.plan
    ? `plan ${work.plan.id.slice(0, 8)} (${branch})`
    : `ad-hoc tasks (${branch})`;
  return { subject, base, head, text };
}

/** A plan's tasks share one base; ad-hoc tasks may have several, and the first recorded is used. */
function oldestBase(bases: readonly string[]): string {
  return bases[0] as string;
}
