import type { Llm, LlmMessage } from "../ports/llm.ts";
import { type AgentTypeInfo, BUILTIN_AGENT_TYPES } from "./agentTypes.ts";
import { CancelledError } from "./errors.ts";
import { heuristicPlan, heuristicSplit } from "./heuristicDecomposer.ts";
import type { PlanMessage, PlannedTask } from "./plan.ts";
import type { SplitPart } from "./planEdits.ts";
import {
  type Checked,
  checkModelPlan,
  checkModelSplit,
  type ModelPlan,
  PLAN_FORMAT,
  SPLIT_FORMAT,
} from "./planSchema.ts";
import { priorityName } from "./priority.ts";

/** A decomposition and how it was made; warnings are for the person (fallbacks, repairs). */
export interface Decomposition<T> {
  value: T;
  /** `heuristic`, or the model's name. */
  planner: string;
  warnings: string[];
}

/**
 * The Task Decomposer: goal -> phases -> specialist tasks. With a model it asks for a plan in a JSON
 * schema, checks it, gives the problems back once, and falls back to the heuristic decomposer with a
 * warning if the second answer is still unusable (or the model cannot be reached). Without a model it
 * is the heuristic decomposer. Splitting a task and discussing a plan work the same way.
 */
export class Decomposer {
  readonly llm: Llm | null;
  readonly types: readonly AgentTypeInfo[];

  constructor(llm: Llm | null, types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES) {
    this.llm = llm;
    this.types = types;
  }

  async decompose(goal: string): Promise<Decomposition<ModelPlan>> {
    const fallback = (): ModelPlan => ({ tasks: heuristicPlan(goal, this.types), analysis: null });
    if (!this.llm) return { value: fallback(), planner: "heuristic", warnings: [] };
    const request = `Break this goal into a plan of specialist tasks.\n\nGoal: ${goal}\n\nFirst analyse it briefly: the scope, what you assume, and the main risks. Then use phases (for example Design, Implementation, Testing, or what the goal needs). Give every task a short key (t1, t2, ...), a self-contained description an agent can act on alone, the agent_type best suited to it, a priority (low, normal, high, urgent) and depends_on: the keys of the tasks that must be finished first. Tasks that can run in parallel must not depend on each other. Answer with only a JSON object of this shape:\n${PLAN_FORMAT}`;
    return this.#ask(request, (answer) => checkModelPlan(answer, this.types), fallback, "plan");
  }

  async split(
    task: PlannedTask,
    goal: string,
    signal?: AbortSignal,
  ): Promise<Decomposition<SplitPart[]>> {
    const fallback = () => heuristicSplit(task);
    if (!this.llm) return { value: fallback(), planner: "heuristic", warnings: [] };
    const request = `The plan for the goal "${goal}" has this task, which is too big for one agent:\n\n[${task.agentType}] ${task.description}\n\nSplit it into 2 to 6 smaller tasks that together do exactly the same work. Give each a self-contained description, the agent_type best suited to it, and after: the indexes (0-based) of earlier parts it must wait for. Answer with only a JSON object of this shape:\n${SPLIT_FORMAT}`;
    return this.#ask(
      request,
      (answer) => checkModelSplit(answer, this.types),
      fallback,
      "split",
      signal,
    );
  }

  /**
   * One turn of the planning discussion: the model sees the goal, the current plan and the whole
   * discussion so far, and answers the person's message. Null when there is no model.
   */
  async discuss(
    goal: string,
    tasks: readonly PlannedTask[],
    history: readonly PlanMessage[],
    message: string,
    signal?: AbortSignal,
  ): Promise<string | null> {
    if (!this.llm) return null;
    const system = `${this.#system()}\n\nYou are discussing a plan with the person who will approve it. Answer their questions about scope, order, risks and missing work plainly and briefly. When you suggest changes, name the task keys; the person makes changes with the planner's commands (add, modify, split, remove).\n\nGoal: ${goal}\n\nCurrent plan:\n${describeTasks(tasks)}`;
    const messages = alternating([
      { role: "user", content: `Analyse and plan this goal: ${goal}` },
      ...history.map((m) => ({ role: m.role, content: m.content })),
      { role: "user", content: message },
    ]);
    try {
      return (
        await this.llm.complete({
          system,
          messages,
          maxTokens: 2_000,
          ...(signal ? { signal } : {}),
        })
      ).trim();
    } catch (error) {
      if (signal?.aborted) throw new CancelledError("the question was cancelled");
      throw error;
    }
  }

  async #ask<T>(
    request: string,
    check: (answer: string) => Checked<T>,
    fallback: () => T,
    what: string,
    signal?: AbortSignal,
  ): Promise<Decomposition<T>> {
    const llm = this.llm;
    if (!llm) return { value: fallback(), planner: "heuristic", warnings: [] };
    const messages: LlmMessage[] = [{ role: "user", content: request }];
    const system = this.#system();
    let problems: string[] = [];
    try {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const answer = await llm.complete({
          system,
          messages,
          maxTokens: 8_000,
          ...(signal ? { signal } : {}),
        });
        const checked = check(answer);
        if (checked.ok) {
          return {
            value: checked.value,
            planner: llm.name,
            warnings: checked.repairs.map((r) => `repaired the model's ${what}: ${r}`),
          };
        }
        problems = checked.problems;
        messages.push(
          { role: "assistant", content: answer },
          {
            role: "user",
            content: `That answer cannot be used:\n- ${problems.join("\n- ")}\n\nAnswer again with only the corrected JSON object.`,
          },
        );
      }
    } catch (error) {
      if (signal?.aborted) throw new CancelledError(`the ${what} was cancelled`);
      return {
        value: fallback(),
        planner: "heuristic",
        warnings: [
          `${llm.name} could not be asked for a ${what} (${error instanceof Error ? error.message : String(error)}); used the built-in heuristic instead`,
        ],
      };
    }
    return {
      value: fallback(),
      planner: "heuristic",
      warnings: [
        `${llm.name} gave no usable ${what} after one correction (${problems.slice(0, 3).join("; ")}); used the built-in heuristic instead`,
      ],
    };
  }

  #system(): string {
    const types = this.types.map((t) => `- ${t.name}: ${t.description || t.title}`).join("\n");
    return `You plan software work for a team of specialist AI coding agents that run in parallel, coordinated by a task queue with dependencies. Each task is done by one agent of one of these types:\n${types}`;
  }
}

/**
 * A conversation the Messages API accepts: it starts with the person, and turns alternate. The saved
 * discussion opens with the model's analysis (answering the planning request, given here as the first
 * turn), and a turn whose answer failed leaves two person turns in a row; those are joined.
 */
function alternating(messages: readonly LlmMessage[]): LlmMessage[] {
  const out: LlmMessage[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (last && last.role === m.role) last.content = `${last.content}\n\n${m.content}`;
    else out.push({ ...m });
  }
  if (out[0]?.role === "assistant") out.shift();
  return out;
}

/** A plan as plain text lines for a model's prompt. */
export function describeTasks(tasks: readonly PlannedTask[]): string {
  return tasks
    .map(
      (t) =>
        `${t.key} [${t.phase}] (${t.agentType}, ${priorityName(t.priority)})${t.dependsOn.length > 0 ? ` after ${t.dependsOn.join(", ")}` : ""}: ${t.description}`,
    )
    .join("\n");
}
