import { killAgent } from "../../app/killAgent.ts";
import { withSession } from "../../app/session.ts";
import { NotFoundError } from "../../core/errors.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
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
      const result = await withSession(config, { create: false }, async (session) => {
        if (!session)
          throw new NotFoundError(
            `no agent or task matches '${ref}'`,
            `there is no queue at ${config.dbPath} yet`,
          );
        return killAgent(session, ref);
      });
      if (flag(parsed, "json")) return printJson(env.output, result);
      println(
        env.output,
        `Killed ${result.agentId} (task ${result.taskId.slice(0, 8)}, pid ${result.pid ?? "?"}) and its processes in ${result.tookMs} ms`,
      );
    },
  };
}
