import { hostname } from "node:os";
import { isAlive } from "../adapters/process/processTable.ts";
import type { AgentRun } from "../core/task.ts";
import type { Session } from "./session.ts";

/** An agent run as `agents` shows it: with whether its process is really alive (on this host). */
export interface AgentView extends AgentRun {
  /** False when the process is gone; null when it runs on another host (this one cannot tell). */
  alive: boolean | null;
}

/** The agents without an end, from every run and host, each checked for life when it is on this host. */
export async function listAgents(session: Session): Promise<AgentView[]> {
  const host = hostname();
  const runs = await session.queue.runningAgents();
  return runs.map((r) => ({
    ...r,
    alive: r.host === host && r.pid !== null ? isAlive(r.pid) : null,
  }));
}
