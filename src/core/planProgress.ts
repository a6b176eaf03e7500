import type { PlanStatus } from "./plan.ts";
import type { TaskStatus } from "./taskStatus.ts";

/** Plan states that follow the plan's queued tasks; a draft or approved plan has none yet. */
export const FOLLOWING_STATUSES: readonly PlanStatus[] = ["executing", "completed", "failed"];

/**
 * The status an executed plan takes from its tasks: `failed` as soon as one task failed or was
 * cancelled (the work cannot finish without a person), `completed` once every task completed, and
 * `executing` otherwise (including again after the failed task was retried). Plans that have not been
 * executed keep their status. The one place this rule lives: every store adapter calls it in the same
 * transaction as the task change that may move the plan.
 */
export function planStatusFollowingTasks(
  current: PlanStatus,
  counts: Readonly<Partial<Record<TaskStatus, number>>>,
): PlanStatus {
  if (!FOLLOWING_STATUSES.includes(current)) return current;
  const n = (status: TaskStatus) => counts[status] ?? 0;
  if (n("failed") + n("cancelled") > 0) return "failed";
  if (n("pending") + n("assigned") + n("in_progress") > 0) return "executing";
  return "completed";
}
