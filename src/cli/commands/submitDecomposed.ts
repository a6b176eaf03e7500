import { makeDecomposer } from "../../app/planningModel.ts";
import { withSession } from "../../app/session.ts";
import { submitGoal } from "../../app/submitGoal.ts";
import type { Config } from "../../core/config.ts";
import { UsageError } from "../../core/errors.ts";
import { shortId } from "../../core/ids.ts";
import { DEFAULT_MAX_ATTEMPTS } from "../../core/taskQueue.ts";
import { type CommandEnv, flag, listOption, requiredOption, stringOption } from "../commandEnv.ts";
import type { ParsedCommand } from "../commandLine.ts";
import { paint, printJson, println } from "../output.ts";
import { planJson } from "./plan.ts";

/**
 * `submit <goal> --decompose`: the goal is decomposed (by the model `--planner` selects, else the
 * heuristic), kept as an approved plan, and all its tasks are queued with their dependencies in one
 * transaction. The plan's tasks carry their own types and priorities, so options that set them for a
 * single task are refused rather than silently ignored.
 */
export async function submitDecomposed(
  env: CommandEnv,
  parsed: ParsedCommand,
  config: Config,
  goal: string,
): Promise<void> {
  const singleTaskOptions: [string, boolean][] = [
    ["--agent", (stringOption(parsed, "agent") ?? "auto") !== "auto"],
    ["--priority", (stringOption(parsed, "priority") ?? "normal") !== "normal"],
    ["--depends-on", listOption(parsed, "dependsOn").length > 0],
    ["--context", stringOption(parsed, "context") !== undefined],
    ["--backend", stringOption(parsed, "backend") !== undefined],
    ["--timeout", stringOption(parsed, "timeout") !== undefined],
    ["--max-attempts", stringOption(parsed, "maxAttempts") !== String(DEFAULT_MAX_ATTEMPTS)],
  ];
  const given = singleTaskOptions.filter(([, set]) => set).map(([name]) => name);
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(", ")} cannot be used with --decompose: the plan sets each task's own`,
      "drop them, or shape the plan first with 'orchestrate plan <goal>'",
    );
  }
  const json = flag(parsed, "json");
  const decomposer = await makeDecomposer(config, requiredOption(parsed, "planner"), process.cwd());
  await withSession(config, { create: true, clock: env.now }, async (session) => {
    const { plan: executing, tasks, warnings } = await submitGoal(session, goal, decomposer);
    for (const w of warnings)
      env.output.err.write(`${paint("yellow", `warning: ${w}`, env.output.err)}\n`);
    if (json) return printJson(env.output, planJson(executing, tasks));
    if (flag(parsed, "quiet")) {
      for (const t of executing.tasks) if (t.taskId) println(env.output, t.taskId);
      return;
    }
    println(
      env.output,
      `Planned ${executing.tasks.length} tasks for plan ${shortId(executing.id)} (${executing.planner}) and queued them with their dependencies:`,
    );
    for (const t of executing.tasks) {
      const after = t.dependsOn.length > 0 ? ` after ${t.dependsOn.join(",")}` : "";
      println(
        env.output,
        `  ${shortId(t.taskId ?? "")}  ${t.key.padEnd(4)} ${t.agentType}${after}`,
      );
    }
    println(env.output, "Start agents with: orchestrate run");
  });
}
