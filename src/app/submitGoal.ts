import type { Decomposer } from "../core/decomposer.ts";
import type { Plan } from "../core/plan.ts";
import type { Task } from "../core/task.ts";
import type { Session } from "./session.ts";

/** A goal planned and queued in one step. */
export interface SubmittedGoal {
  /** The plan, executing. */
  plan: Plan;
  /** Its queued tasks. */
  tasks: Task[];
  /** For the person: fallbacks to the heuristic, repairs of the model's answer. */
  warnings: string[];
}

/**
 * `submit --decompose`: the goal is decomposed (by the model, else the heuristic), kept as an approved
 * plan, and all its tasks are queued with their dependencies in one transaction.
 */
export async function submitGoal(
  session: Session,
  goal: string,
  decomposer: Decomposer,
): Promise<SubmittedGoal> {
  const plans = await session.planSessions(decomposer);
  const { plan, warnings } = await plans.start(goal, { approve: true });
  const { plan: executing } = await plans.execute(plan.id);
  return { plan: executing, tasks: await plans.queuedTasks(executing), warnings };
}
