import type { PlanSummary } from "../core/plan.ts";
import type { AgentRun, Task } from "../core/task.ts";
import { TASK_STATUSES, type TaskStatus } from "../core/taskStatus.ts";
import type { BlockedTask } from "../ports/store.ts";
import type { Session } from "./session.ts";

/** Everything `orchestrate status` shows, gathered in one place so other views (a dashboard) reuse it. */
export interface QueueStatus {
  counts: Record<TaskStatus, number>;
  total: number;
  /** Pending tasks waiting on dependencies that are not completed. */
  blocked: { count: number; tasks: BlockedTask[] };
  recent: Task[];
  agents: AgentRun[];
  /** The newest executing or failed plans, with their progress. */
  plans: PlanSummary[];
  /** Task branches by merge state (worktree isolation); all zero without it. */
  branches: BranchCounts;
}

/** How far task branches are integrated: merged, waiting to be (finished or still working), in conflict. */
export interface BranchCounts {
  total: number;
  merged: number;
  conflict: number;
  pending: number;
}

/** Reads a consistent-enough snapshot of the queue (each part is one indexed query). */
export async function readQueueStatus(
  session: Session,
  options: { recent: number; blocked: number },
): Promise<QueueStatus> {
  const { queue } = session;
  const [counts, blocked, recent, agents, plans, workspaces] = await Promise.all([
    queue.counts(),
    queue.blocked(options.blocked),
    queue.list({ limit: options.recent, newestFirst: true }),
    queue.runningAgents(),
    session.listPlans(5, ["executing", "failed"]),
    queue.workspaces(),
  ]);
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const mergeable = workspaces.filter((ws) => ws.merge !== "none");
  const branches: BranchCounts = {
    total: mergeable.length,
    merged: mergeable.filter((ws) => ws.merge === "merged").length,
    conflict: mergeable.filter((ws) => ws.merge === "conflict").length,
    pending: mergeable.filter((ws) => ws.merge === "pending").length,
  };
  return { counts, total, blocked, recent, agents, plans, branches };
}

/** The status of a queue that does not exist yet. */
export function emptyQueueStatus(): QueueStatus {
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as QueueStatus["counts"];
  return {
    counts,
    total: 0,
    blocked: { count: 0, tasks: [] },
    recent: [],
    agents: [],
    plans: [],
    branches: { total: 0, merged: 0, conflict: 0, pending: 0 },
  };
}
