import type { Isolation } from "./taskWorkspace.ts";

/**
 * A planning session (the spec's `PlanningSession`): a goal, the tasks planned for it with their
 * dependencies by task key, the discussion with the model, and where the plan is in its life:
 *
 *   draft -> approved -> executing -> completed | failed
 *
 * `executing` onwards follows the queued tasks: completed when all of them completed, failed when one
 * failed or was cancelled (a `retry` of that task sends the plan back to executing).
 */
export interface Plan {
  id: string;
  goal: string;
  status: PlanStatus;
  /** How the first draft was made: `heuristic`, or the model that wrote it (`anthropic-api:claude-…`). */
  planner: string;
  /** Counts every change: an edit or approval made from an older reading is refused. */
  version: number;
  tasks: PlannedTask[];
  discussion: PlanMessage[];
  createdAt: number;
  updatedAt: number;
  approvedAt: number | null;
  executedAt: number | null;
  /**
   * How its tasks are kept apart when it is executed (`worktree`, `none`); absent or null: as configured
   * then (worktrees in a git repository).
   */
  isolation: Isolation | null;
}

export const PLAN_STATUSES = ["draft", "approved", "executing", "completed", "failed"] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/** One task of a plan, before it is queued. Keys name tasks inside the plan (`t1`, `api`, …). */
export interface PlannedTask {
  key: string;
  /** The phase it belongs to: Design, Implementation, Testing, or what the goal needs. */
  phase: string;
  description: string;
  /** A specialist type; never `auto` in a plan (the planner routes it, so the person sees who works). */
  agentType: string;
  priority: number;
  /** Keys of tasks of the same plan that must complete first. */
  dependsOn: string[];
  /** The queued task, once the plan is executed. */
  taskId?: string | null;
}

/** One turn of the planning discussion, kept and given back to the model on later turns. */
export interface PlanMessage {
  at: number;
  role: "user" | "assistant";
  content: string;
}

/** A plan summary for lists: counts of its planned tasks and, once queued, of their states. */
export interface PlanSummary {
  id: string;
  goal: string;
  status: PlanStatus;
  taskCount: number;
  /** Queued tasks per status (empty before execution). */
  queued: Record<string, number>;
  createdAt: number;
  updatedAt: number;
}

/** The spec's `dependencies: Dict[str, List[str]]` view of a plan's tasks. */
export function dependencyMap(tasks: readonly PlannedTask[]): Record<string, string[]> {
  return Object.fromEntries(tasks.map((t) => [t.key, [...t.dependsOn]]));
}

/** What a plan task key may look like: short, lowercase, no spaces (`t1`, `api`, `load-tests`). */
export const PLAN_KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,39}$/;
