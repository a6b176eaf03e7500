/**
 * The environment variables that mark every process of an agent. A process inherits its parent's
 * environment and keeps it when it starts a new session or loses its parent, and /proc/<pid>/environ shows
 * it later; so these two let the run, `orchestrate kill` in another terminal, and the watchdog (after the
 * run itself was killed) find every descendant of an agent again.
 */

/** Names the `orchestrate run` process an agent belongs to: what the watchdog and sweeps look for. */
export const RUN_ID_ENV = "ORCHESTRATE_RUN_ID";

/** Names one agent, so a single agent's processes can be ended without touching the rest of the run. */
export const AGENT_ID_ENV = "ORCHESTRATE_AGENT_ID";

/** Every agent id starts so (`agent-3f2a9c1e`): what tells an agent id from a task id prefix. */
export const AGENT_ID_PREFIX = "agent-";
