import * as m001 from "./001_initial.ts";
import * as m002 from "./002_agent_run_details.ts";
import * as m003 from "./003_task_counts.ts";
import * as m004 from "./004_plans.ts";
import * as m005 from "./005_plan_status_in_core.ts";
import * as m006 from "./006_task_workspaces.ts";

/** A numbered schema change. The list is append-only: the position is the version. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006].map(
  (m, i) => ({
    version: i + 1,
    name: m.name,
    sql: m.sql,
  }),
);

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;
