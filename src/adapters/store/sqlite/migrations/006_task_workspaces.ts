/**
 * Migration 6: a task's git workspace (worktree isolation). One row per task that has a branch: where
 * it started (the base commit recorded at submission), its latest head, the files it changed, the
 * worktree's life and how far its work has been merged. Rows go with their task. A plan may say how
 * its tasks are isolated.
 */
export const name = "task_workspaces";

export const sql = `
CREATE TABLE task_workspaces (
  task_id         TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  grp             TEXT NOT NULL,
  branch          TEXT NOT NULL,
  base_commit     TEXT NOT NULL,
  start_commit    TEXT,
  head_commit     TEXT,
  path            TEXT,
  files_changed   TEXT NOT NULL DEFAULT '[]',
  state           TEXT NOT NULL DEFAULT 'new',
  merge_state     TEXT NOT NULL DEFAULT 'pending',
  resolver_task_id TEXT,
  resolves        TEXT,
  setup_log       TEXT,
  verify_log      TEXT,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX task_workspaces_group ON task_workspaces (grp);
ALTER TABLE plans ADD COLUMN isolation TEXT;
`;
