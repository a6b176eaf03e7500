import { ConflictError } from "../core/errors.ts";
import type { Task } from "../core/task.ts";
import { requireRepositoryWorkspaces } from "./repositoryWorkspaces.ts";
import type { Session } from "./session.ts";

export interface Retried {
  task: Task;
  /** With `fresh`: the branch the earlier attempts' work is kept under (null: there was none). */
  keptAs: string | null;
}

/**
 * Sends a failed or cancelled task back to the queue with a fresh set of attempts. Its next agent goes
 * on from its branch's last commit; with `fresh` it starts over from the base instead, and the earlier
 * work stays on a renamed branch (`<branch>-attempt-<n>`), never deleted.
 */
export async function retryTask(
  session: Session,
  ref: string,
  options: { fresh: boolean },
): Promise<Retried> {
  const { queue } = session;
  if (!options.fresh) return { task: await queue.retry(ref), keptAs: null };
  const task = await queue.get(ref);
  if (task.status !== "failed" && task.status !== "cancelled") {
    throw new ConflictError(
      `task ${task.id.slice(0, 8)} is ${task.status.replace("_", " ")}; only a failed or cancelled task can be retried`,
    );
  }
  const ws = await queue.workspaceOf(task.id);
  let keptAs: string | null = null;
  if (ws) {
    const workspaces = await requireRepositoryWorkspaces(session.config, "retry --fresh");
    const aside = await workspaces.setAside(ws);
    await queue.saveWorkspaces([aside.record]);
    keptAs = aside.keptAs;
  }
  return { task: await queue.retry(task.id), keptAs };
}
