/**
 * Migration 1: tasks with the spec's columns plus leases and attempts, the dependency DAG, the event log
 * and agent runs. Times are epoch milliseconds (INTEGER): they sort, compare and index cheaply.
 * Shipped migrations are never edited; add a new numbered file instead.
 */
export const name = "initial";

export const sql = `
CREATE TABLE tasks (
  id               TEXT PRIMARY KEY,
  description      TEXT NOT NULL,
  agent_type       TEXT,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending','assigned','in_progress','completed','failed','cancelled')),
  priority         INTEGER NOT NULL DEFAULT 2,
  context          TEXT,
  created_at       INTEGER NOT NULL,
  assigned_at      INTEGER,
  completed_at     INTEGER,
  assigned_to      TEXT,
  output           TEXT,
  error            TEXT,
  plan_id          TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  timeout_ms       INTEGER,
  run_after        INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  worker_id        TEXT,
  backend          TEXT,
  started_at       INTEGER,
  updated_at       INTEGER NOT NULL,
  cost_usd         REAL,
  input_tokens     INTEGER,
  output_tokens    INTEGER,
  session_id       TEXT,
  unmet_deps       INTEGER NOT NULL DEFAULT 0
);

-- The claim: most urgent first, then oldest, among pending tasks whose dependencies are all complete.
CREATE INDEX tasks_claimable ON tasks (priority DESC, created_at) WHERE status = 'pending' AND unmet_deps = 0;
CREATE INDEX tasks_blocked ON tasks (created_at) WHERE status = 'pending' AND unmet_deps > 0;
CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE status IN ('assigned', 'in_progress');
CREATE INDEX tasks_finished ON tasks (updated_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE INDEX tasks_status ON tasks (status);
CREATE INDEX tasks_created ON tasks (created_at);
CREATE INDEX tasks_plan ON tasks (plan_id) WHERE plan_id IS NOT NULL;

CREATE TABLE task_dependencies (
  task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  depends_on TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, depends_on),
  CHECK (task_id <> depends_on)
) WITHOUT ROWID;
CREATE INDEX task_dependencies_depends_on ON task_dependencies (depends_on, task_id);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  task_id   TEXT,
  worker_id TEXT,
  data      TEXT
);
CREATE INDEX events_task ON events (task_id, id);

CREATE TABLE agent_runs (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  agent_type  TEXT,
  backend     TEXT NOT NULL,
  worker_id   TEXT NOT NULL,
  host        TEXT NOT NULL,
  pid         INTEGER,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  exit_code   INTEGER,
  end_reason  TEXT,
  output_path TEXT
);
CREATE INDEX agent_runs_task ON agent_runs (task_id);
CREATE INDEX agent_runs_running ON agent_runs (started_at) WHERE ended_at IS NULL;
`;
