import { NotFoundError, UsageError } from "../core/errors.ts";
import type { Plan } from "../core/plan.ts";
import type { Task } from "../core/task.ts";
import { ADHOC_GROUP, type TaskWorkspace, workspaceGroup } from "../core/taskWorkspace.ts";
import type { Session } from "./session.ts";

/** What `diff` and `merge` are asked about: one task's branch, or a group's integration branch. */
export type WorkRef =
  | { kind: "task"; task: Task; workspace: TaskWorkspace }
  | { kind: "group"; group: string; plan: Plan | null; workspaces: TaskWorkspace[] };

/**
 * Resolves `ref` to a task (id or unique prefix), a plan (id or unique prefix), or `tasks` (the ad-hoc
 * tasks' integration branch). A task without a branch (isolation none) is refused with the reason.
 */
export async function resolveWorkRef(session: Session, ref: string): Promise<WorkRef> {
  const { queue } = session;
  if (ref.trim().toLowerCase() === ADHOC_GROUP) return group(session, ADHOC_GROUP, null);
  const task = await queue.get(ref).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  const plans = await session.planSessions();
  const plan = await plans.get(ref).catch((error: unknown) => {
    if (error instanceof NotFoundError || error instanceof UsageError) return null;
    throw error;
  });
  if (task && plan) {
    throw new UsageError(
      `'${ref}' is both a task id and a plan id prefix`,
      "give more characters of the one you mean",
    );
  }
  if (plan) return group(session, workspaceGroup(plan.id), plan);
  if (!task) {
    throw new NotFoundError(
      `no task or plan matches '${ref}'`,
      "list tasks with 'orchestrate status' and plans with 'orchestrate plan-list'",
    );
  }
  const workspace = await queue.workspaceOf(task.id);
  if (!workspace) {
    throw new UsageError(
      `task ${task.id.slice(0, 8)} has no branch: it ran without worktree isolation`,
      "tasks get a branch when they are submitted inside a git repository (or with --isolation worktree)",
    );
  }
  return { kind: "task", task, workspace };
}

async function group(session: Session, name: string, plan: Plan | null): Promise<WorkRef> {
  const workspaces = await session.queue.workspaces({ group: name });
  if (workspaces.length === 0) {
    throw new NotFoundError(
      plan
        ? `plan ${plan.id.slice(0, 8)} has no task branches (its tasks ran without worktree isolation, or it is not executed yet)`
        : "no ad-hoc task has a branch yet",
      "tasks get a branch when they are submitted inside a git repository",
    );
  }
  return { kind: "group", group: name, plan, workspaces };
}
