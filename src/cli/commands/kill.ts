import { hostname } from "node:os";
import { AGENT_ID_ENV } from "../../core/agentMarkers.ts";
import { ConflictError, NotFoundError } from "../../core/errors.ts";
import type { AgentRun } from "../../core/task.ts";
import type { TaskQueue } from "../../core/taskQueue.ts";
import { killTree } from "../agentKillTree.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom, withQueue } from "../context.ts";
import { printJson, println } from "../output.ts";

/** `orchestrate kill <agent-or-task-id>`: ends a stuck agent's whole process tree, from any terminal. */
export function makeKillCommand(env: CommandEnv): CommandSpec {
  return {
    name: "kill",
    args: [
      { name: "id", description: "agent id (agent-…) or task id, or a unique prefix of either" },
    ],
    options: [{ name: "json", description: "print the result as JSON" }],
    async run(parsed) {
      const ref = String(parsed.args["id"]).trim();
      const config = configFrom(globalsOf(parsed));
      const result = await withQueue(config, { create: false }, async (queue) => {
        if (!queue)
          throw new NotFoundError(
            `no agent or task matches '${ref}'`,
            `there is no queue at ${config.dbPath} yet`,
          );
        const run = await findRunningAgent(queue, ref);
        const started = Date.now();
        if (run.host !== hostname()) {
          throw new ConflictError(
            `agent ${run.id} runs on ${run.host}`,
            `run 'orchestrate kill ${run.id}' on that machine`,
          );
        }
        // Fail the task first so the owning run records a kill, not a crash to retry.
        await queue
          .fail(run.taskId, "killed by user (orchestrate kill)", { retryable: false })
          .catch(() => {});
        const target: Parameters<typeof killTree>[0] = {
          marker: { name: AGENT_ID_ENV, value: run.id },
        };
        if (run.pid) target.rootPid = run.pid;
        await killTree(target, 3_000);
        const now = Date.now();
        await queue.store.updateAgentRun(run.id, { endedAt: now, endReason: "killed" }, now);
        return { agentId: run.id, taskId: run.taskId, pid: run.pid, tookMs: now - started };
      });
      if (flag(parsed, "json")) return printJson(env.output, result);
      println(
        env.output,
        `Killed ${result.agentId} (task ${result.taskId.slice(0, 8)}, pid ${result.pid ?? "?"}) and its processes in ${result.tookMs} ms`,
      );
    },
  };
}

async function findRunningAgent(queue: TaskQueue, ref: string): Promise<AgentRun> {
  const running = await queue.store.runningAgents();
  const byAgent = running.filter((r) => r.id.startsWith(ref));
  if (byAgent.length === 1 && byAgent[0]) return byAgent[0];
  if (byAgent.length > 1)
    throw new ConflictError(`agent id '${ref}' is ambiguous`, "give more characters");
  const taskId = await queue.resolveId(ref);
  const forTask = running.filter((r) => r.taskId === taskId);
  if (forTask.length === 0 || !forTask[0]) {
    throw new NotFoundError(
      `task ${taskId.slice(0, 8)} has no running agent`,
      "see running agents with 'orchestrate agents'",
    );
  }
  return forTask[forTask.length - 1] ?? forTask[0];
}
