/**
 * The markers every agent process carries (defined in core, where the spawner sets them). This module
 * only re-exports them, so the process adapters and the watchdog program name one place.
 */
export { AGENT_ID_ENV, RUN_ID_ENV } from "../../core/agentMarkers.ts";
