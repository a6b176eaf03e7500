import type { AgentRun, DependencyInfo, Task, TaskEvent } from "../core/task.ts";
import type { TaskWorkspace } from "../core/taskWorkspace.ts";
import type { Session } from "./session.ts";

/** A task with everything around it, as `task` shows it (and prints with --json). */
export type TaskDetail = Task & {
  /** The plan the task belongs to, and its key in that plan. */
  plan: { id: string; goal: string; status: string; key: string | null } | null;
  dependencies: DependencyInfo[];
  dependents: DependencyInfo[];
  /** The latest events, oldest first. */
  events: TaskEvent[];
  agentRuns: AgentRun[];
  /** Its git workspace (branch, base, head, files changed, merge state); null without worktree isolation. */
  workspace: TaskWorkspace | null;
};

/** Everything about one task, found by full id or unique prefix. */
export async function readTaskDetail(
  session: Session,
  ref: string,
  options: { events: number },
): Promise<TaskDetail> {
  const { queue } = session;
  const task = await queue.get(ref);
  const [dependencies, dependents, events, agentRuns, plan, workspace] = await Promise.all([
    queue.dependenciesOf(task.id),
    queue.dependentsOf(task.id),
    queue.eventsOf(task.id, options.events),
    queue.agentRunsOf(task.id),
    task.planId ? session.findPlan(task.planId) : null,
    queue.workspaceOf(task.id),
  ]);
  const planned = plan?.tasks.find((p) => p.taskId === task.id);
  return {
    ...task,
    plan: plan
      ? { id: plan.id, goal: plan.goal, status: plan.status, key: planned?.key ?? null }
      : null,
    dependencies,
    dependents,
    events,
    agentRuns,
    workspace,
  };
}
