import { z } from "zod";
import { type AgentTypeInfo, BUILTIN_AGENT_TYPES, routeByKeywords } from "./agentTypes.ts";
import { closestMatch } from "./closestMatch.ts";
import type { PlannedTask } from "./plan.ts";
import { planProblems, type SplitPart } from "./planEdits.ts";
import { PRIORITIES, type PriorityName } from "./priority.ts";

/**
 * What a model must answer when asked for a plan or a split, as zod schemas, and the checks that turn
 * its answer into tasks the store accepts. Small faults are repaired and reported (an unknown agent type
 * becomes the closest known one or is routed by keywords; a dependency on a missing task is dropped);
 * faults that change the plan's meaning (duplicate keys, cycles) are rejected, to be fed back to the model.
 */

/** Words models use for priorities beyond ours, mapped to ours. */
const PRIORITY_SYNONYMS: Record<string, PriorityName> = {
  medium: "normal",
  med: "normal",
  moderate: "normal",
  critical: "urgent",
  highest: "urgent",
  blocker: "urgent",
  lowest: "low",
  minor: "low",
};

const priority = z
  .preprocess(
    (value) => {
      if (typeof value !== "string") return value;
      const word = value.trim().toLowerCase();
      return PRIORITY_SYNONYMS[word] ?? word;
    },
    z.union([
      z.enum(Object.keys(PRIORITIES) as [PriorityName, ...PriorityName[]]),
      z.number().int().min(1).max(4),
    ]),
  )
  .optional();

export const modelPlanSchema = z.object({
  // Kept short: it opens the discussion. A longer one is cut rather than refused.
  analysis: z
    .string()
    .transform((text) => (text.length > 4000 ? `${text.slice(0, 3999)}…` : text))
    .optional(),
  tasks: z
    .array(
      z.object({
        key: z.string().min(1).max(40),
        phase: z.string().min(1).max(60).optional(),
        description: z.string().trim().min(1).max(4000),
        agent_type: z.string().min(1),
        priority,
        depends_on: z.array(z.string()).default([]),
      }),
    )
    .min(1)
    .max(40),
});

export const modelSplitSchema = z.object({
  parts: z
    .array(
      z.object({
        description: z.string().trim().min(1).max(4000),
        agent_type: z.string().min(1).optional(),
        after: z.array(z.number().int().min(0)).default([]),
      }),
    )
    .min(2)
    .max(8),
});

/** The JSON shape the model is asked for, spelled out in its prompt. */
export const PLAN_FORMAT = `{"analysis": "the scope, assumptions and main risks, in a few sentences", "tasks": [{"key": "t1", "phase": "Design", "description": "...", "agent_type": "specifications-engineer", "priority": "high", "depends_on": []}]}`;
export const SPLIT_FORMAT = `{"parts": [{"description": "...", "agent_type": "backend-systems-engineer", "after": []}, {"description": "...", "agent_type": "backend-systems-engineer", "after": [0]}]}`;

/** A model's plan: its tasks and its short analysis of the goal (scope, assumptions, risks). */
export interface ModelPlan {
  tasks: PlannedTask[];
  analysis: string | null;
}

export type Checked<T> =
  | { ok: true; value: T; repairs: string[] }
  | { ok: false; problems: string[] };

/** Parses and checks a model's plan answer. */
export function checkModelPlan(
  answer: string,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): Checked<ModelPlan> {
  const parsed = parseJsonAnswer(answer, modelPlanSchema);
  if (!parsed.ok) return parsed;
  const repairs: string[] = [];
  const problems: string[] = [];
  const tasks: PlannedTask[] = parsed.value.tasks.map((t) => {
    const key = t.key.trim().toLowerCase();
    return {
      key,
      phase: t.phase?.trim() || "Implementation",
      description: t.description.trim(),
      agentType: repairType(t.agent_type, t.description, key, types, repairs),
      priority: typeof t.priority === "number" ? t.priority : PRIORITIES[t.priority ?? "normal"],
      dependsOn: t.depends_on.map((d) => d.trim().toLowerCase()),
    };
  });
  const keys = new Set(tasks.map((t) => t.key));
  for (const t of tasks) {
    const kept = t.dependsOn.filter((d, i, all) => all.indexOf(d) === i);
    for (const dep of kept) {
      if (dep === t.key)
        repairs.push(`task ${t.key} depended on itself; that dependency was dropped`);
      else if (!keys.has(dep))
        repairs.push(
          `task ${t.key} depended on '${dep}', which is not in the plan; that dependency was dropped`,
        );
    }
    t.dependsOn = kept.filter((d) => d !== t.key && keys.has(d));
  }
  problems.push(...planProblems(tasks, types));
  if (problems.length > 0) return { ok: false, problems };
  const analysis = parsed.value.analysis?.trim() || null;
  return { ok: true, value: { tasks, analysis }, repairs };
}

/** Parses and checks a model's split answer. */
export function checkModelSplit(
  answer: string,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): Checked<SplitPart[]> {
  const parsed = parseJsonAnswer(answer, modelSplitSchema);
  if (!parsed.ok) return parsed;
  const repairs: string[] = [];
  const parts = parsed.value.parts.map((p, i) => ({
    description: p.description.trim(),
    agentType: repairType(p.agent_type ?? "auto", p.description, `part ${i + 1}`, types, repairs),
    after: p.after.filter((a) => a < i),
  }));
  return { ok: true, value: parts, repairs };
}

/**
 * The first JSON object in a model's answer (it may wrap it in a code fence or prose), validated by
 * `schema`; the problems in plain words otherwise.
 */
export function parseJsonAnswer<T>(answer: string, schema: z.ZodType<T>): Checked<T> {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(answer)?.[1];
  const candidate = fenced ?? answer.slice(answer.indexOf("{"), answer.lastIndexOf("}") + 1);
  let json: unknown;
  try {
    json = JSON.parse(candidate.trim());
  } catch (error) {
    return {
      ok: false,
      problems: [`the answer is not a JSON object (${(error as Error).message})`],
    };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data, repairs: [] };
  return {
    ok: false,
    problems: result.error.issues.map(
      (issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`,
    ),
  };
}

function repairType(
  requested: string,
  description: string,
  where: string,
  types: readonly AgentTypeInfo[],
  repairs: string[],
): string {
  const name = requested.trim().toLowerCase();
  const names = types.map((t) => t.name);
  if (names.includes(name)) return name;
  if (name === "auto") return routeByKeywords(description, types);
  const close = closestMatch(name, names);
  const chosen = close ?? routeByKeywords(description, types);
  repairs.push(`${where}: unknown agent type '${requested}' became ${chosen}`);
  return chosen;
}
