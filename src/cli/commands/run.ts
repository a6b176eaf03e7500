import { withSession } from "../../app/session.ts";
import { loadAgentConfig } from "../../core/agentConfig.ts";
import { parseDuration } from "../../core/duration.ts";
import { type CommandEnv, flag, globalsOf, stringOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { runExitCode, runWithView } from "../runView.ts";

const DEFAULT_TIMEOUT = "30m";

/** `orchestrate run`: the spec's Task Distributor and Agent Spawner, until the queue is done. */
export function makeRunCommand(env: CommandEnv): CommandSpec {
  return {
    name: "run",
    args: [],
    options: [
      {
        name: "max-agents",
        short: "m",
        value: "<n>",
        description: "agents at once (env MAX_AGENTS; default 3)",
      },
      {
        name: "backend",
        short: "b",
        value: "<name>",
        description: "run every task with this backend (claude, codex, gemini)",
      },
      {
        name: "follow",
        short: "f",
        description: "keep waiting for new tasks when the queue is empty",
      },
      {
        name: "timeout",
        value: "<duration>",
        description: "time limit per attempt for tasks without one",
        default: DEFAULT_TIMEOUT,
      },
      {
        name: "isolation",
        value: "<mode>",
        description:
          "worktree (a git worktree and branch per task), none (all in this directory) or auto (env ORCHESTRATOR_ISOLATION; default auto: worktree in a git repository)",
      },
      {
        name: "lease",
        value: "<duration>",
        description:
          "how long a claimed task stays ours without renewal; after a crash it runs again this much later",
        default: "30s",
      },
    ],
    details:
      "Ctrl-C stops taking new tasks and waits for running agents; a second Ctrl-C ends them (their tasks are\nretried later). In a git repository each task works in its own worktree under the base dir, on\nbranch orchestrate/<plan>/<task>; finished work is merged into orchestrate/<plan>/integration. Your own\ncheckout is never touched: review with 'orchestrate diff', bring it in with 'orchestrate merge'.",
    async run(parsed) {
      const globals = globalsOf(parsed);
      const maxAgents = stringOption(parsed, "maxAgents");
      const isolation = stringOption(parsed, "isolation");
      const config = configFrom({
        ...globals,
        ...(maxAgents === undefined ? {} : { maxAgents }),
        ...(isolation === undefined ? {} : { isolation }),
      });
      const agentConfig = loadAgentConfig(config.baseDir);
      const timeoutMs = parseDuration(
        stringOption(parsed, "timeout") ?? DEFAULT_TIMEOUT,
        "--timeout",
        "s",
      );
      const leaseMs = parseDuration(stringOption(parsed, "lease") ?? "30s", "--lease", "s");
      const backend = stringOption(parsed, "backend");
      const summary = await withSession(config, { create: true, leaseMs }, (session) =>
        runWithView(env, session, {
          agentConfig,
          ...(backend === undefined ? {} : { backend }),
          follow: flag(parsed, "follow"),
          timeoutMs,
          maxAgents: config.maxAgents,
          cwd: process.cwd(),
          env: process.env,
        }),
      );
      return runExitCode(summary);
    },
  };
}
