/**
 * Migration 6: event ids are never used twice. `events.id` was a plain INTEGER PRIMARY KEY, which
 * SQLite hands out as max(id)+1: after `cleanup` deleted the newest events, new events took ids a
 * reader of the log (a dashboard, `logs --follow`) had already passed, and it never saw them.
 * AUTOINCREMENT keeps a high-water mark in sqlite_sequence; a table cannot gain it in place, so the
 * table is copied.
 */
export const name = "event_ids_never_reused";

export const sql = `
CREATE TABLE events_new (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  task_id   TEXT,
  worker_id TEXT,
  data      TEXT
);
INSERT INTO events_new (id, at, kind, task_id, worker_id, data)
  SELECT id, at, kind, task_id, worker_id, data FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_task ON events (task_id, id);
`;
