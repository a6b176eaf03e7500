import type { BlockedTask } from "../ports/store.ts";
import type { PlanSummary } from "./plan.ts";
import type { AgentRun, Task } from "./task.ts";
import type { TaskQueue } from "./taskQueue.ts";
import type { TaskStatus } from "./taskStatus.ts";

/** Everything `orchestrate status` shows, gathered in one place so other views (a dashboard) can reuse it. */
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
  queue: TaskQueue,
  options: { recent: number; blocked: number },
): Promise<QueueStatus> {
  const store = queue.store;
  const [counts, blocked, recent, agents, plans] = await Promise.all([
    store.countByStatus(),
    store.blockedTasks(options.blocked),
    store.listTasks({ limit: options.recent, newestFirst: true }),
    store.runningAgents(),
    store.listPlans(5, ["executing", "failed"]),
  ]);
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { counts, total, blocked, recent, agents, plans };
}
