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
}

/** Reads a consistent-enough snapshot of the queue (each part is one indexed query). */
export async function readQueueStatus(
  session: Session,
  options: { recent: number; blocked: number },
): Promise<QueueStatus> {
  const { queue } = session;
  const [counts, blocked, recent, agents, plans] = await Promise.all([
    queue.counts(),
    queue.blocked(options.blocked),
    queue.list({ limit: options.recent, newestFirst: true }),
    queue.runningAgents(),
    session.listPlans(5, ["executing", "failed"]),
  ]);
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { counts, total, blocked, recent, agents, plans };
}

/** The status of a queue that does not exist yet. */
export function emptyQueueStatus(): QueueStatus {
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as QueueStatus["counts"];
  return { counts, total: 0, blocked: { count: 0, tasks: [] }, recent: [], agents: [], plans: [] };
}
