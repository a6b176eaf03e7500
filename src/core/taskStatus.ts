/**
 * The task state machine of DESIGN.md:
 *
 *   pending -> assigned -> in_progress -> completed | failed | cancelled
 *
 * A claim moves `pending` to `assigned` and takes a lease; the runner moves it to `in_progress` when the
 * agent starts. An expired lease (the spec's "timeout") sends an `assigned` or `in_progress` task back to
 * `pending` for another attempt, or to `failed` once its attempts are used up. `retry` brings a `failed`
 * or `cancelled` task back to `pending`. The table below is the only place these rules live; stores
 * apply transitions with a guard on the `from` state so that two processes can never both win one.
 */

export const TASK_STATUSES = [
  "pending",
  "assigned",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a task never leaves on its own; only `retry` (failed, cancelled) reopens one. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"];

/** States in which a worker holds the task under a lease. */
export const LEASED_STATUSES: readonly TaskStatus[] = ["assigned", "in_progress"];

const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ["assigned", "cancelled"],
  assigned: ["in_progress", "completed", "failed", "pending", "cancelled"],
  in_progress: ["completed", "failed", "pending", "cancelled"],
  completed: [],
  failed: ["pending"],
  cancelled: ["pending"],
};

/** Whether the state machine allows moving from `from` to `to`. */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states from which `to` can be reached; stores use this as the guard of a conditional update. */
export function statusesLeadingTo(to: TaskStatus): TaskStatus[] {
  return TASK_STATUSES.filter((from) => canTransition(from, to));
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
