import { describeBackends } from "../../app/backendRegistry.ts";
import { type AgentView, listAgents } from "../../app/listAgents.ts";
import { withSession } from "../../app/session.ts";
import { loadAgentConfig } from "../../core/agentConfig.ts";
import { formatDuration } from "../../core/duration.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { paint, printJson, table } from "../output.ts";

/** `orchestrate agents`: running agents from any terminal; `--backends`: what can run here. */
export function makeAgentsCommand(env: CommandEnv): CommandSpec {
  return {
    name: "agents",
    args: [],
    options: [
      {
        name: "backends",
        description: "show the agent backends: installed, configured, and why not",
      },
      { name: "json", description: "print as JSON" },
    ],
    async run(parsed) {
      const json = flag(parsed, "json");
      const config = configFrom(globalsOf(parsed));
      if (flag(parsed, "backends")) {
        const rows = describeBackends(loadAgentConfig(config.baseDir), process.env);
        if (json) return printJson(env.output, rows);
        const lines = table(env.output, rows, [
          { header: "BACKEND", value: (r) => r.name },
          {
            header: "USABLE",
            value: (r) => (r.available ? "yes" : "no"),
            style: (r) => (r.available ? "green" : "red"),
          },
          { header: "PATH", value: (r) => r.path ?? "-" },
          { header: "NOTE", value: (r) => r.reason ?? "", flex: true },
        ]);
        env.output.out.write(`${lines.join("\n")}\n`);
        return;
      }
      const views: AgentView[] = await withSession(config, { create: false }, async (session) =>
        session ? listAgents(session) : [],
      );
      if (json) return printJson(env.output, views);
      if (views.length === 0) {
        env.output.out.write("No agents are running.\n");
        return;
      }
      const now = env.now();
      const lines = table(env.output, views, [
        { header: "AGENT", value: (a) => a.id },
        { header: "TASK", value: (a) => a.taskId.slice(0, 8) },
        { header: "TYPE", value: (a) => a.agentType ?? "auto" },
        { header: "BACKEND", value: (a) => a.backend },
        {
          header: "PID",
          value: (a) => `${a.pid ?? "-"}${a.alive === false ? " (gone)" : ""}`,
          style: (a) => (a.alive === false ? "red" : undefined),
        },
        { header: "ELAPSED", value: (a) => formatDuration(now - a.startedAt) },
        { header: "LAST ACTIVITY", value: (a) => a.lastActivity ?? "", flex: true },
      ]);
      env.output.out.write(`${lines.join("\n")}\n`);
      if (views.some((v) => v.alive === false)) {
        env.output.out.write(
          paint(
            "dim",
            "(gone) = the process is no longer alive; its run will record the end, or its lease expires.\n",
            env.output.out,
          ),
        );
      }
    },
  };
}
