/**
 * Migration 4: planning sessions. A plan, its planned tasks (keyed inside the plan, dependencies as a
 * JSON array of keys, and the queued task once executed) and its discussion. `version` counts every
 * change, so an edit or an approval based on an older reading can be refused. Triggers keep an executing
 * plan's status following its tasks (completed when all completed, failed when one failed or was
 * cancelled, executing again after a retry) in the same transaction as the task's change, whichever
 * process makes it, and log every plan status change to `events`.
 */
export const name = "plans";

export const sql = `
CREATE TABLE plans (
  id          TEXT PRIMARY KEY,
  goal        TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'draft'
              CHECK (status IN ('draft','approved','executing','completed','failed')),
  planner     TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  approved_at INTEGER,
  executed_at INTEGER
);
CREATE INDEX plans_created ON plans (created_at);
CREATE INDEX plans_status ON plans (status, created_at);

CREATE TABLE plan_tasks (
  plan_id     TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  position    INTEGER NOT NULL,
  phase       TEXT NOT NULL,
  description TEXT NOT NULL,
  agent_type  TEXT NOT NULL,
  priority    INTEGER NOT NULL,
  depends_on  TEXT NOT NULL DEFAULT '[]',
  task_id     TEXT REFERENCES tasks (id) ON DELETE SET NULL,
  PRIMARY KEY (plan_id, key)
) WITHOUT ROWID;
CREATE INDEX plan_tasks_task ON plan_tasks (task_id) WHERE task_id IS NOT NULL;

CREATE TABLE plan_messages (
  id      INTEGER PRIMARY KEY,
  plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
  at      INTEGER NOT NULL,
  role    TEXT NOT NULL CHECK (role IN ('user','assistant')),
  content TEXT NOT NULL
);
CREATE INDEX plan_messages_plan ON plan_messages (plan_id, id);

CREATE TRIGGER plans_follow_tasks AFTER UPDATE OF status ON tasks
WHEN new.plan_id IS NOT NULL AND old.status <> new.status BEGIN
  UPDATE plans SET
    status = CASE
      WHEN EXISTS (SELECT 1 FROM tasks WHERE plan_id = new.plan_id AND status IN ('failed','cancelled'))
        THEN 'failed'
      WHEN EXISTS (SELECT 1 FROM tasks WHERE plan_id = new.plan_id AND status <> 'completed')
        THEN 'executing'
      ELSE 'completed'
    END,
    updated_at = new.updated_at,
    version = version + 1
  WHERE id = new.plan_id AND status IN ('executing','completed','failed');
END;

CREATE TRIGGER plans_log_status AFTER UPDATE OF status ON plans
WHEN old.status <> new.status BEGIN
  INSERT INTO events (at, kind, task_id, worker_id, data)
  VALUES (new.updated_at, 'plan:' || new.status, NULL, NULL,
          json_object('planId', new.id, 'from', old.status));
END;
`;
