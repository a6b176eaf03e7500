/**
 * Migration 5: an executed plan's status is no longer set by SQLite triggers. The rule (failed when a
 * task failed or was cancelled, completed when all completed, executing otherwise) lives in core
 * (`planStatusFollowingTasks`), and each store adapter applies it in the transaction of the task change,
 * so that a PostgreSQL adapter needs no copy of it in another SQL dialect. Plan status events are now
 * logged by the adapter too.
 */
export const name = "plan_status_in_core";

export const sql = `
DROP TRIGGER IF EXISTS plans_follow_tasks;
DROP TRIGGER IF EXISTS plans_log_status;
`;
