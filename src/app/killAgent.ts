import { hostname } from "node:os";
import { killTree } from "../adapters/process/agentKillTree.ts";
import { AGENT_ID_ENV, AGENT_ID_PREFIX } from "../core/agentMarkers.ts";
import { ConflictError, NotFoundError } from "../core/errors.ts";
import type { AgentRun } from "../core/task.ts";
import type { TaskQueue } from "../core/taskQueue.ts";
import type { Session } from "./session.ts";

/** Why a killed agent's task failed, as `task` and the run that owned it show it. */
export const KILLED_BY_USER = "killed by user (orchestrate kill)";

export interface KillResult {
  agentId: string;
  taskId: string;
  pid: number | null;
  tookMs: number;
}

/**
 * Ends a running agent from any terminal: its task fails with "killed by user" (no retry) and its run
 * row is closed as killed in one transaction, then every process of its tree is ended (TERM, grace,
 * KILL). The run that owns the agent finds the task already ended and counts it as failed, once.
 * `ref` is an agent id (`agent-…`, or a unique prefix of one) or a task id (or a unique prefix).
 */
export async function killAgent(
  session: Session,
  ref: string,
  options: { graceMs?: number } = {},
): Promise<KillResult> {
  const started = Date.now();
  const run = await findRunningAgent(session.queue, ref.trim());
  if (run.host !== hostname()) {
    throw new ConflictError(
      `agent ${run.id} runs on ${run.host}`,
      `run 'orchestrate kill ${run.id}' on that machine`,
    );
  }
  // The task's end first, so the owning run records a kill, not a crash to retry.
  await session.queue.killAgent(run, KILLED_BY_USER);
  const target: Parameters<typeof killTree>[0] = { marker: { name: AGENT_ID_ENV, value: run.id } };
  if (run.pid) target.rootPid = run.pid;
  await killTree(target, options.graceMs ?? 3_000);
  return { agentId: run.id, taskId: run.taskId, pid: run.pid, tookMs: Date.now() - started };
}

async function findRunningAgent(queue: TaskQueue, ref: string): Promise<AgentRun> {
  const running = await queue.runningAgents();
  // Only a reference that starts like an agent id is taken for one; anything else is a task id.
  if (ref.toLowerCase().startsWith(AGENT_ID_PREFIX)) {
    const wanted = ref.toLowerCase();
    const matches = running.filter((r) => r.id.startsWith(wanted));
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      throw new ConflictError(`agent id '${ref}' is ambiguous`, "give more characters of the id");
    }
    throw new NotFoundError(
      `no running agent matches '${ref}'`,
      "see running agents with 'orchestrate agents'",
    );
  }
  const taskId = await queue.resolveId(ref);
  const forTask = running.filter((r) => r.taskId === taskId);
  const last = forTask.at(-1);
  if (!last) {
    throw new NotFoundError(
      `task ${taskId.slice(0, 8)} has no running agent`,
      "see running agents with 'orchestrate agents'",
    );
  }
  return last;
}
