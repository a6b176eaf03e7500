import { loadAgentConfig } from "../../core/agentConfig.ts";
import { ConflictError } from "../../core/errors.ts";
import { randomHex } from "../../core/ids.ts";
import type { SubmitInput } from "../../core/taskQueue.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom, withQueue } from "../context.ts";
import { paint, println } from "../output.ts";
import { backendOrder, backendRegistry, makeResolver, runQueue } from "./run.ts";

/** A small, realistic plan: five specialist tasks with dependencies, two of which can run in parallel. */
export function demoTasks(planId: string): SubmitInput[] {
  const base = { planId, maxAttempts: 2 };
  return [
    {
      ...base,
      key: "spec",
      agentType: "specifications-engineer",
      priority: 3,
      description:
        "Write the requirements for a todo REST API with user sign-up, login and per-user todo lists",
    },
    {
      ...base,
      key: "schema",
      agentType: "data-architect-governance",
      dependsOn: ["spec"],
      description: "Design the database schema for users and todos, with constraints and indexes",
    },
    {
      ...base,
      key: "ui",
      agentType: "frontend-ui-engineer",
      dependsOn: ["spec"],
      description: "Build the React UI for signing in and managing todos",
    },
    {
      ...base,
      key: "api",
      agentType: "backend-systems-engineer",
      dependsOn: ["spec", "schema"],
      description: "Implement the REST API endpoints for auth and todos on the schema",
    },
    {
      ...base,
      key: "tests",
      agentType: "backend-systems-engineer",
      dependsOn: ["api"],
      description: "Write end-to-end tests for the API: sign-up, login, todo CRUD, auth failures",
    },
  ];
}

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
    ],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      const agentConfig = loadAgentConfig(config.baseDir);
      const backends = backendRegistry(agentConfig);
      const installed = backendOrder(agentConfig).filter(
        (n) => backends.get(n)?.availability(process.env).available,
      );
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
      await withQueue(config, { create: true }, async (queue) => {
        if (!queue) throw new Error("queue not opened");
        const counts = await queue.store.countByStatus();
        const unfinished = counts.pending + counts.assigned + counts.in_progress;
        if (unfinished > 0) {
          throw new ConflictError(
            `the queue at ${config.dbPath} has ${unfinished} unfinished task(s); the demo would run them too`,
            "run the demo in an empty directory, or give it its own queue: orchestrate demo --base-dir /tmp/orchestrate-demo",
          );
        }
        const planId = `demo-${randomHex(6)}`;
        const tasks = await queue.addMany(
          demoTasks(planId).map((t) => (simulated ? { ...t, backend: "simulated" } : t)),
        );
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
        const resolver = makeResolver(
          backends,
          simulated ? "simulated" : undefined,
          process.env,
          agentConfig,
        );
        await runQueue(env, queue, config, resolver, {
          follow: false,
          timeoutMs: 600_000,
          agentConfig,
        });
        println(
          env.output,
          `\nSee the results: orchestrate status${config.sources.baseDir === "default" ? "" : ` --base-dir ${config.baseDir}`}, orchestrate task <id>; shared artifacts are in ${config.baseDir}/shared_artifacts`,
        );
      });
    },
  };
}
