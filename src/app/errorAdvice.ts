import type { OrchestrateError } from "../core/errors.ts";
import type { StoreErrorReason } from "../ports/store.ts";

/**
 * What a person can do about an error that came without a hint: store adapters report a `reason`
 * and never speak to people, so the advice for each reason lives here, once, for every front end.
 */
const ADVICE: Record<StoreErrorReason, string> = {
  "task-exists": "submit it again; a new id is drawn each time",
  "dependency-missing": "check the id with 'orchestrate status'",
  "plan-missing": "list plans with 'orchestrate plan-list'",
  "plan-exists": "start the plan again; a new id is drawn each time",
  "plan-not-draft": "start a new plan with 'orchestrate plan <goal>' to plan different work",
  "plan-changed": "look at the plan again and repeat the step if it is still wanted",
  "plan-is-draft": "review and approve it first with 'orchestrate plan-continue <id>'",
  "store-busy":
    "wait for the other orchestrate command to finish and try again, or raise ORCHESTRATOR_BUSY_TIMEOUT_MS",
  "store-unwritable":
    "check the file's permissions, or set ORCHESTRATOR_BASE_DIR to a directory you can write to",
  "store-not-a-database": "move the file away, or set ORCHESTRATOR_BASE_DIR to another directory",
  "store-schema-newer":
    "use the newer orchestrate that wrote it, or point ORCHESTRATOR_BASE_DIR elsewhere",
  "store-location-unusable":
    "set ORCHESTRATOR_BASE_DIR (or --base-dir) to a directory you can write to",
};

/** The error's own hint, else the advice for its reason, else nothing. */
export function adviceFor(error: OrchestrateError): string | undefined {
  if (error.hint) return error.hint;
  return error.reason ? ADVICE[error.reason as StoreErrorReason] : undefined;
}
