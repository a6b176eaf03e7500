import { withSession } from "../../app/session.ts";
import { resolveSubmitRequest, submitTasks } from "../../app/submitTasks.ts";
import { AUTO_AGENT_TYPE, agentTypeNames } from "../../core/agentTypes.ts";
import { parseDuration } from "../../core/duration.ts";
import { UsageError } from "../../core/errors.ts";
import { PRIORITIES, parsePriority, priorityName } from "../../core/priority.ts";
import { DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT } from "../../core/taskQueue.ts";
import {
  type CommandEnv,
  flag,
  globalsOf,
  listOption,
  requiredOption,
  stringOption,
} from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { printJson, println } from "../output.ts";

/** `orchestrate submit <description>`: validates everything first, then adds the task in one transaction. */
export function makeSubmitCommand(env: CommandEnv): CommandSpec {
  return {
    name: "submit",
    args: [
      {
        name: "description",
        description: "what the agent should do (quote it, or give several words)",
        variadic: true,
      },
    ],
    options: [
      {
        name: "agent",
        short: "a",
        value: "<type>",
        description: `specialist agent type, or '${AUTO_AGENT_TYPE}' to route by description`,
        default: AUTO_AGENT_TYPE,
      },
      {
        name: "priority",
        short: "p",
        value: "<level>",
        description: `${Object.keys(PRIORITIES).join(", ")} (or ${Object.values(PRIORITIES).join(", ")})`,
        default: "normal",
      },
      {
        name: "depends-on",
        short: "d",
        value: "<id>",
        description:
          "a task (id or unique prefix) that must complete first; repeat it or use commas",
        multiple: true,
      },
      {
        name: "context",
        short: "c",
        value: "<json>",
        description: 'extra context for the agent: \'{"repo":"api"}\'',
      },
      {
        name: "max-attempts",
        value: "<n>",
        description: `attempts before the task fails (1-${MAX_ATTEMPTS_LIMIT})`,
        default: String(DEFAULT_MAX_ATTEMPTS),
      },
      {
        name: "backend",
        short: "b",
        value: "<name>",
        description:
          "run this task with this backend (claude, codex, gemini) instead of the run's choice",
      },
      {
        name: "timeout",
        short: "t",
        value: "<duration>",
        description: "agent time limit per attempt: 90s, 30m, 2h",
      },
      {
        name: "decompose",
        description:
          "treat the description as a goal: plan it (model or heuristic) and queue all its tasks with their dependencies",
      },
      {
        name: "planner",
        value: "<name>",
        description: "with --decompose: auto, heuristic, anthropic-api, openai-api, claude",
        default: "auto",
      },
      {
        name: "isolation",
        value: "<mode>",
        description:
          "worktree (its own git worktree and branch, from HEAD now), none, or auto (env ORCHESTRATOR_ISOLATION)",
      },
      { name: "quiet", short: "q", description: "print only the task id" },
      { name: "json", description: "print the task as JSON" },
    ],
    details: `Agent types:\n  ${agentTypeNames().join("\n  ")}\n\nExample:\n  orchestrate submit "Design the users table" --agent data-architect-governance --priority high\n  orchestrate submit "Build the users API" --depends-on 3f2a9c1e\n  orchestrate submit "Build a REST API with auth" --decompose`,
    async run(parsed) {
      const words = parsed.args["description"];
      const description = (Array.isArray(words) ? words : [words ?? ""]).join(" ");
      // Validate every input before touching the database, so bad input never leaves a half-made task.
      if (description.trim() === "") {
        throw new UsageError(
          "the task description is empty",
          'describe the work: orchestrate submit "Add a login endpoint"',
        );
      }
      const isolation = stringOption(parsed, "isolation");
      const config = configFrom({
        ...globalsOf(parsed),
        ...(isolation === undefined ? {} : { isolation }),
      });
      if (flag(parsed, "decompose")) {
        const { submitDecomposed } = await import("./submitDecomposed.ts");
        return submitDecomposed(env, parsed, config, description);
      }
      if (requiredOption(parsed, "planner") !== "auto") {
        throw new UsageError(
          "--planner only applies with --decompose",
          "add --decompose to plan the description as a goal, or drop --planner",
        );
      }
      const priority = parsePriority(requiredOption(parsed, "priority"));
      const context = parseContext(stringOption(parsed, "context"));
      const maxAttempts = parseWholeNumber(
        requiredOption(parsed, "maxAttempts"),
        "--max-attempts",
        1,
        MAX_ATTEMPTS_LIMIT,
      );
      const timeout = stringOption(parsed, "timeout");
      const timeoutMs = timeout === undefined ? null : parseDuration(timeout, "--timeout", "s");
      const input = resolveSubmitRequest(config.baseDir, {
        description,
        agent: requiredOption(parsed, "agent"),
        priority,
        context,
        dependsOn: listOption(parsed, "dependsOn"),
        maxAttempts,
        timeoutMs,
        backend: stringOption(parsed, "backend") ?? null,
      });
      const task = await withSession(config, { create: true }, async (session) => {
        const [stored] = await submitTasks(session, [input]);
        if (!stored) throw new Error("the submitted task was not stored");
        return stored;
      });
      if (flag(parsed, "json")) return printJson(env.output, task);
      if (flag(parsed, "quiet")) return println(env.output, task.id);
      const waits =
        task.unmetDependencies > 0 ? `, waits for ${task.unmetDependencies} task(s)` : "";
      println(
        env.output,
        `Submitted ${task.id} (${priorityName(task.priority)} priority, agent ${task.agentType ?? AUTO_AGENT_TYPE}${waits})`,
      );
    },
  };
}

function parseContext(raw: string | undefined): Record<string, unknown> | null {
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(
      `--context is not valid JSON: ${(error as Error).message}`,
      `give a JSON object in single quotes, for example --context '{"repo":"api","branch":"main"}'`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(
      "--context must be a JSON object",
      `for example --context '{"repo":"api"}'`,
    );
  }
  return value as Record<string, unknown>;
}

function parseWholeNumber(raw: string, flagName: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(
      `invalid ${flagName} '${raw}'`,
      `give a whole number from ${min} to ${max}`,
    );
  }
  return value;
}
