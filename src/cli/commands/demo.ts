import { installedBackends } from "../../app/backendRegistry.ts";
import { queueDemo } from "../../app/demo.ts";
import { withSession } from "../../app/session.ts";
import { loadAgentConfig } from "../../core/agentConfig.ts";
import { UsageError } from "../../core/errors.ts";
import { ISOLATION_HINT, parseIsolation } from "../../core/taskWorkspace.ts";
import { type CommandEnv, flag, globalsOf, requiredOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { paint, println } from "../output.ts";
import { runExitCode, runWithView } from "../runView.ts";

/** `orchestrate demo`: queue the demo plan and run it, with real agents when any are installed. */
export function makeDemoCommand(env: CommandEnv): CommandSpec {
  return {
    name: "demo",
    args: [],
    options: [
      {
        name: "simulated",
        description: "use the built-in simulated agent even if an agent CLI is installed",
      },
      {
        name: "isolation",
        value: "<mode>",
        description:
          "none (default: the demo makes no branches or worktrees in your repository) or worktree",
        default: "none",
      },
    ],
    async run(parsed) {
      const isolationFlag = requiredOption(parsed, "isolation");
      const isolation = parseIsolation(isolationFlag);
      if (!isolation) {
        throw new UsageError(
          `--isolation is '${isolationFlag}', which is not an isolation mode`,
          ISOLATION_HINT,
        );
      }
      const config = configFrom(globalsOf(parsed));
      const agentConfig = loadAgentConfig(config.baseDir);
      const installed = installedBackends(agentConfig, process.env);
      const simulated = flag(parsed, "simulated") || installed.length === 0;
      const out = env.output.out;
      if (simulated) {
        const why =
          installed.length === 0
            ? "No agent CLI (claude, codex, gemini) is installed"
            : "--simulated given";
        println(
          env.output,
          paint(
            "yellow",
            `${why}: running the demo with orchestrate's built-in SIMULATED agent.`,
            out,
          ),
        );
        println(
          env.output,
          paint(
            "yellow",
            "It shows the whole flow (queue, dependencies, parallel agents, context passing) but does no AI work.",
            out,
          ),
        );
      } else {
        println(
          env.output,
          `Running the demo with real agents via ${installed[0]} (this uses your account and may cost money).`,
        );
      }
      const summary = await withSession(config, { create: true }, async (session) => {
        const { planId, tasks } = await queueDemo(session, { simulated, isolation });
        println(env.output, `Queued ${tasks.length} tasks (plan ${planId}):`);
        for (const t of tasks) {
          const waits =
            t.unmetDependencies > 0 ? paint("dim", ` (waits for ${t.unmetDependencies})`, out) : "";
          println(
            env.output,
            `  ${t.id.slice(0, 8)}  ${(t.agentType ?? "auto").padEnd(26)} ${t.description}${waits}`,
          );
        }
        println(env.output);
        const ran = await runWithView(env, session, {
          agentConfig,
          ...(simulated ? { backend: "simulated" } : {}),
          follow: false,
          timeoutMs: 600_000,
          maxAgents: config.maxAgents,
          isolation,
          cwd: process.cwd(),
          env: process.env,
        });
        println(
          env.output,
          `\nSee the results: orchestrate status${config.sources.baseDir === "default" ? "" : ` --base-dir ${config.baseDir}`}, orchestrate task <id>; shared artifacts are in ${config.baseDir}/shared_artifacts`,
        );
        return ran;
      });
      return runExitCode(summary);
    },
  };
}
