import type { PlanSessions } from "../../app/planSessions.ts";
import { withSession } from "../../app/session.ts";
import type { Config } from "../../core/config.ts";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import { shortId } from "../../core/ids.ts";
import { dependencyMap, type Plan } from "../../core/plan.ts";
import type { Task } from "../../core/task.ts";
import { type CommandEnv, flag, globalsOf, requiredOption, stringOption } from "../commandEnv.ts";
import type { CommandSpec, OptionSpec, ParsedCommand } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { formatAge, paint, printJson, println, statusStyle, table } from "../output.ts";
import { offerExecution, planningLoop } from "../planLoop.ts";
import { progressLine, renderDiscussion, renderGraph, renderPlan } from "../planView.ts";

/** Where the planner's keyboard input comes from; tests of the loop pass their own stream. */
export interface PlanIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
}

const PLANNER_OPTION: OptionSpec = {
  name: "planner",
  value: "<name>",
  description:
    "model that plans: auto, heuristic, anthropic-api, openai-api, claude (auto: the first configured, else heuristic)",
  default: "auto",
};

/** `orchestrate plan <goal>`: decompose a goal and shape the plan interactively (or approve it at once). */
export function makePlanCommand(
  env: CommandEnv,
  io: PlanIo = { input: process.stdin },
): CommandSpec {
  return {
    name: "plan",
    args: [
      {
        name: "goal",
        description: "what to build (quote it, or give several words)",
        variadic: true,
      },
    ],
    options: [
      PLANNER_OPTION,
      { name: "yes", short: "y", description: "approve the plan without prompts" },
      { name: "execute", description: "with --yes: also queue its tasks at once" },
      {
        name: "isolation",
        value: "<mode>",
        description:
          "how its tasks are kept apart, recorded with the plan: worktree, none or auto (env ORCHESTRATOR_ISOLATION)",
      },
      { name: "json", description: "print the plan as JSON and exit (a draft unless --yes)" },
    ],
    details:
      'In the session: [d]iscuss with the model, [a]dd, [m]odify, [s]plit or [r]emove a task, [v]iew the\nplan and its dependency graph, [p]roceed to approval, [q]uit keeping the draft. Every change is saved\nat once; resume a draft with \'orchestrate plan-continue <id>\'. Answers can be piped on stdin.\n\nExamples:\n  orchestrate plan "Build a REST API with auth"\n  orchestrate plan "Build a pipeline that loads sales data" --yes --execute\n  orchestrate plan "Add search" --planner heuristic --json',
    async run(parsed) {
      const words = parsed.args["goal"];
      const goal = (Array.isArray(words) ? words : [words ?? ""]).join(" ");
      const yes = flag(parsed, "yes");
      const json = flag(parsed, "json");
      if (flag(parsed, "execute") && !yes) {
        throw new UsageError(
          "--execute needs --yes",
          "add --yes to approve and queue without prompts",
        );
      }
      if (goal.trim() === "") {
        throw new UsageError(
          "the goal is empty",
          'say what to build: orchestrate plan "Build a REST API with auth"',
        );
      }
      const isolation = stringOption(parsed, "isolation");
      const config = configFrom({
        ...globalsOf(parsed),
        ...(isolation === undefined ? {} : { isolation }),
      });
      await withPlanner(env, config, parsed, true, async (planner) => {
        if (!json) {
          const model = planner.decomposer.llm;
          env.output.err.write(
            `${model ? `Asking ${model.name} for a plan…` : "Planning with the built-in heuristic (no model configured)…"}\n`,
          );
        }
        const { plan, warnings } = await planner.start(goal, { approve: yes });
        for (const w of warnings)
          env.output.err.write(`${paint("yellow", `warning: ${w}`, env.output.err)}\n`);
        if (yes) {
          const final = flag(parsed, "execute") ? (await planner.execute(plan.id)).plan : plan;
          return report(env, planner, final, json);
        }
        if (json) return printJson(env.output, planJson(plan, []));
        await planningLoop(planner, plan, io.input, env.output);
      });
    },
  };
}

/** `orchestrate plan-list`. */
export function makePlanListCommand(env: CommandEnv): CommandSpec {
  return {
    name: "plan-list",
    args: [],
    options: [
      {
        name: "limit",
        short: "n",
        value: "<n>",
        description: "how many plans to show, newest first",
        default: "50",
      },
      { name: "json", description: "print the plans as JSON" },
    ],
    async run(parsed) {
      const limitText = requiredOption(parsed, "limit");
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > 10_000) {
        throw new UsageError(
          `invalid --limit '${limitText}'`,
          "give a whole number from 1 to 10000",
        );
      }
      const config = configFrom(globalsOf(parsed));
      const plans = await withSession(config, { create: false }, async (session) =>
        session ? session.listPlans(limit) : [],
      );
      if (flag(parsed, "json")) return printJson(env.output, plans);
      if (plans.length === 0) {
        println(env.output, 'No plans yet. Start one with: orchestrate plan "<goal>"');
        return;
      }
      const now = env.now();
      const lines = table(env.output, plans, [
        { header: "ID", value: (p) => shortId(p.id) },
        { header: "STATUS", value: (p) => p.status, style: (p) => statusStyle(p.status) },
        {
          header: "TASKS",
          value: (p) => {
            const done = p.queued["completed"] ?? 0;
            const failed = (p.queued["failed"] ?? 0) + (p.queued["cancelled"] ?? 0);
            if (Object.keys(p.queued).length === 0) return String(p.taskCount);
            return `${done}/${p.taskCount} done${failed > 0 ? `, ${failed} failed` : ""}`;
          },
        },
        { header: "AGE", value: (p) => formatAge(p.createdAt, now) },
        { header: "GOAL", value: (p) => p.goal, flex: true },
      ]);
      for (const line of lines) println(env.output, line);
    },
  };
}

/** `orchestrate plan-continue <id>`: back into the loop for a draft; execution or progress otherwise. */
export function makePlanContinueCommand(
  env: CommandEnv,
  io: PlanIo = { input: process.stdin },
): CommandSpec {
  return {
    name: "plan-continue",
    args: [{ name: "id", description: "plan id or a unique prefix of it" }],
    options: [
      PLANNER_OPTION,
      {
        name: "yes",
        short: "y",
        description:
          "approve a draft and queue its tasks, or queue an approved plan's, without asking",
      },
      { name: "json", description: "print the plan (and its tasks' progress) as JSON and exit" },
    ],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      await withPlanner(env, config, parsed, false, async (planner) => {
        const plan = await planner.get(String(parsed.args["id"]));
        const queued = plan.executedAt === null ? [] : await planner.queuedTasks(plan);
        if (flag(parsed, "json")) return printJson(env.output, planJson(plan, queued));
        switch (plan.status) {
          case "draft":
            if (flag(parsed, "yes")) {
              await planner.approve(plan.id, plan.version);
              const { plan: executed } = await planner.execute(plan.id);
              return report(env, planner, executed, false);
            }
            await planningLoop(planner, plan, io.input, env.output);
            return;
          case "approved":
            for (const line of renderPlan(plan, env.output)) println(env.output, line);
            println(env.output);
            if (flag(parsed, "yes")) {
              const { plan: executed } = await planner.execute(plan.id);
              return report(env, planner, executed, false);
            }
            await offerExecution(planner, plan, io.input, env.output);
            return;
          default:
            for (const line of renderPlan(
              plan,
              env.output,
              queued,
              await planner.mergeStates(plan),
            ))
              println(env.output, line);
            println(env.output);
            println(env.output, `Progress: ${progressLine(plan, queued)}`);
            if (plan.status === "executing") {
              println(
                env.output,
                "Agents run them with: orchestrate run   (watch with: orchestrate status --watch)",
              );
            }
        }
      });
    },
  };
}

/** `orchestrate execute-plan <id>`: queue an approved plan's tasks, once. */
export function makeExecutePlanCommand(env: CommandEnv): CommandSpec {
  return {
    name: "execute-plan",
    args: [{ name: "id", description: "plan id or a unique prefix of it" }],
    options: [{ name: "json", description: "print the plan and its queued tasks as JSON" }],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      await withSession(config, { create: false, clock: env.now }, async (session) => {
        if (!session)
          throw new NotFoundError(
            `no plan matches '${String(parsed.args["id"])}'`,
            `there is no queue at ${config.dbPath} yet`,
          );
        const planner = await session.planSessions();
        const { plan, queued } = await planner.execute(String(parsed.args["id"]));
        const tasks = await planner.queuedTasks(plan);
        if (flag(parsed, "json"))
          return printJson(env.output, { ...planJson(plan, tasks), queuedNow: queued });
        println(
          env.output,
          queued
            ? `Queued ${tasks.length} tasks of plan ${shortId(plan.id)} with their dependencies. Start agents with: orchestrate run`
            : `Plan ${shortId(plan.id)} is ${plan.status}; its tasks were queued before, nothing was added (${progressLine(plan, tasks)}).`,
        );
      });
    },
  };
}

/** A plan as scripts see it: the plan, the spec's dependency map, and its queued tasks' states. */
export function planJson(plan: Plan, queued: readonly Task[]) {
  const byId = new Map(queued.map((t) => [t.id, t]));
  return {
    ...plan,
    dependencies: dependencyMap(plan.tasks),
    tasks: plan.tasks.map((t) => ({
      ...t,
      status: t.taskId ? (byId.get(t.taskId)?.status ?? null) : null,
    })),
  };
}

function report(
  env: CommandEnv,
  planner: PlanSessions,
  plan: Plan,
  json: boolean,
): Promise<void> | void {
  if (json) {
    return planner.queuedTasks(plan).then((tasks) => printJson(env.output, planJson(plan, tasks)));
  }
  for (const line of renderPlan(plan, env.output)) println(env.output, line);
  println(env.output);
  for (const line of renderDiscussion(plan, env.output)) println(env.output, line);
  if (plan.discussion.length > 0) println(env.output);
  for (const line of renderGraph(plan, env.output)) println(env.output, line);
  println(env.output);
  println(
    env.output,
    plan.status === "executing"
      ? `Queued ${plan.tasks.length} tasks. Start agents with: orchestrate run`
      : `Approved. Queue its tasks with: orchestrate execute-plan ${shortId(plan.id)}`,
  );
}

/**
 * Opens the queue and the plan sessions (with the model `--planner` selects). With `create: false` a
 * missing database is not created: there can be no plan to continue in it.
 */
export async function withPlanner(
  env: CommandEnv,
  config: Config,
  parsed: ParsedCommand,
  create: boolean,
  fn: (planner: PlanSessions) => Promise<void>,
): Promise<void> {
  const { makeDecomposer } = await import("../../app/planningModel.ts");
  const decomposer = await makeDecomposer(config, requiredOption(parsed, "planner"), process.cwd());
  await withSession(config, { create, clock: env.now }, async (session) => {
    if (!session) {
      throw new NotFoundError(
        `no plan matches '${String(parsed.args["id"])}'`,
        `there is no queue at ${config.dbPath} yet; start a plan with 'orchestrate plan <goal>'`,
      );
    }
    return fn(await session.planSessions(decomposer));
  });
}
