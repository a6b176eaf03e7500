/**
 * Migration 2: what `orchestrate agents` and `orchestrate kill` need to know about a running agent from
 * another terminal: which `run` process owns it (to tell a live agent from one orphaned by a crash), when it
 * last did something and what, and where its raw stream is kept.
 */
export const name = "agent_run_details";

export const sql = `
ALTER TABLE agent_runs ADD COLUMN run_id TEXT;
ALTER TABLE agent_runs ADD COLUMN last_activity_at INTEGER;
ALTER TABLE agent_runs ADD COLUMN last_activity TEXT;
ALTER TABLE agent_runs ADD COLUMN raw_path TEXT;
ALTER TABLE agent_runs ADD COLUMN cost_usd REAL;
ALTER TABLE agent_runs ADD COLUMN input_tokens INTEGER;
ALTER TABLE agent_runs ADD COLUMN output_tokens INTEGER;
ALTER TABLE agent_runs ADD COLUMN session_id TEXT;
`;
