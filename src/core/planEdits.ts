import { type AgentTypeInfo, BUILTIN_AGENT_TYPES, routeByKeywords } from "./agentTypes.ts";
import { closestMatch } from "./closestMatch.ts";
import { topologicalOrder } from "./dependencyGraph.ts";
import { ConflictError, NotFoundError, UsageError } from "./errors.ts";
import { PLAN_KEY_PATTERN, type PlannedTask } from "./plan.ts";
import { DEFAULT_PRIORITY } from "./priority.ts";

/**
 * The pure operations of a planning session on its task list: add, modify, split, remove, and the checks
 * approval needs. Each returns a new list (the input is never changed) so the caller can save the result
 * in one step, and refuses, with a UsageError or ConflictError, a change that would leave a task depending
 * on nothing that exists or on itself through others.
 */

export interface TaskDraft {
  description: string;
  /** A type name; omitted or `auto` routes by the description's keywords. */
  agentType?: string | undefined;
  priority?: number | undefined;
  phase?: string | undefined;
  dependsOn?: readonly string[] | undefined;
}

/** Where a removed task's dependents now wait. */
export interface RewiredDependent {
  key: string;
  before: string[];
  after: string[];
}

const DEFAULT_PHASE = "Implementation";

/** The next free key of the `t<n>` series. */
export function nextTaskKey(
  tasks: readonly PlannedTask[],
  taken: ReadonlySet<string> = new Set(),
): string {
  let max = 0;
  for (const t of tasks) {
    const match = /^t(\d+)$/.exec(t.key);
    if (match) max = Math.max(max, Number(match[1]));
  }
  let n = max + 1;
  while (taken.has(`t${n}`)) n++;
  return `t${n}`;
}

/** Finds a task by key (case-insensitive), or explains which keys exist. */
export function findPlannedTask(tasks: readonly PlannedTask[], key: string): PlannedTask {
  const wanted = key.trim().toLowerCase();
  const task = tasks.find((t) => t.key === wanted);
  if (task) return task;
  const keys = tasks.map((t) => t.key);
  const suggestion = closestMatch(wanted, keys);
  throw new NotFoundError(
    `the plan has no task '${key.trim()}'`,
    (suggestion ? `did you mean '${suggestion}'? ` : "") +
      (keys.length > 0 ? `Its tasks are ${keys.join(", ")}.` : "The plan has no tasks yet."),
  );
}

/** Adds a task at the end; returns the new list and the task (with its new key). */
export function addPlannedTask(
  tasks: readonly PlannedTask[],
  draft: TaskDraft,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): { tasks: PlannedTask[]; task: PlannedTask } {
  const task: PlannedTask = {
    key: nextTaskKey(tasks),
    phase: cleanPhase(draft.phase),
    description: cleanDescription(draft.description),
    agentType: typeFor(draft.agentType, draft.description, types),
    priority: draft.priority ?? DEFAULT_PRIORITY,
    dependsOn: resolveKeys(tasks, draft.dependsOn ?? []),
  };
  return { tasks: [...tasks, task], task };
}

/** Changes fields of one task; fields left undefined keep their value. */
export function modifyPlannedTask(
  tasks: readonly PlannedTask[],
  key: string,
  changes: Partial<TaskDraft>,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): { tasks: PlannedTask[]; task: PlannedTask } {
  const old = findPlannedTask(tasks, key);
  const description =
    changes.description === undefined ? old.description : cleanDescription(changes.description);
  const task: PlannedTask = {
    ...old,
    description,
    phase: changes.phase === undefined ? old.phase : cleanPhase(changes.phase),
    agentType:
      changes.agentType === undefined
        ? old.agentType
        : typeFor(changes.agentType, description, types),
    priority: changes.priority ?? old.priority,
    dependsOn:
      changes.dependsOn === undefined
        ? old.dependsOn
        : resolveKeys(
            tasks.filter((t) => t.key !== old.key),
            changes.dependsOn,
            old.key,
          ),
  };
  const next = tasks.map((t) => (t.key === old.key ? task : t));
  refuseCycle(next);
  return { tasks: next, task };
}

/** One part of a split: a task draft plus which earlier parts (by index) it waits for. */
export interface SplitPart {
  description: string;
  agentType?: string | undefined;
  /** Indexes of earlier parts this part depends on. */
  after?: readonly number[] | undefined;
}

/**
 * Replaces one task by `parts`. Every part keeps the original's dependencies (plus the earlier parts it
 * names); tasks that depended on the original now depend on its last parts (those no other part waits
 * for), so the order of the plan is unchanged. Parts take the original's position, phase and priority.
 */
export function splitPlannedTask(
  tasks: readonly PlannedTask[],
  key: string,
  parts: readonly SplitPart[],
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): { tasks: PlannedTask[]; parts: PlannedTask[] } {
  const old = findPlannedTask(tasks, key);
  if (parts.length < 2) {
    throw new UsageError(
      `splitting ${old.key} needs at least two parts, got ${parts.length}`,
      "describe two or more smaller tasks that together do the original one",
    );
  }
  const taken = new Set(tasks.map((t) => t.key));
  const made: PlannedTask[] = [];
  parts.forEach((part, index) => {
    const newKey = nextTaskKey([...tasks, ...made], taken);
    taken.add(newKey);
    const earlier = (part.after ?? []).filter((i) => Number.isInteger(i) && i >= 0 && i < index);
    made.push({
      key: newKey,
      phase: old.phase,
      description: cleanDescription(part.description),
      agentType: typeFor(part.agentType, part.description, types),
      priority: old.priority,
      dependsOn: [...old.dependsOn, ...earlier.map((i) => made[i]?.key ?? "")].filter(
        (k, i, all) => k !== "" && all.indexOf(k) === i,
      ),
    });
  });
  const waitedFor = new Set(made.flatMap((p) => p.dependsOn));
  const lastParts = made.filter((p) => !waitedFor.has(p.key)).map((p) => p.key);
  const next: PlannedTask[] = [];
  for (const t of tasks) {
    if (t.key === old.key) {
      next.push(...made);
      continue;
    }
    next.push(
      t.dependsOn.includes(old.key)
        ? { ...t, dependsOn: replaceKey(t.dependsOn, old.key, lastParts) }
        : t,
    );
  }
  const touched = new Set([
    ...made.map((p) => p.key),
    ...tasks.filter((t) => t.dependsOn.includes(old.key)).map((t) => t.key),
  ]);
  const reduced = withoutImpliedDependencies(next, touched);
  return { tasks: reduced, parts: reduced.filter((t) => made.some((p) => p.key === t.key)) };
}

/**
 * Removes one task. Its dependents are not left dangling: each now waits for what the removed task
 * waited for, so the remaining order holds. Returns which dependents changed, to tell the person.
 */
export function removePlannedTask(
  tasks: readonly PlannedTask[],
  key: string,
): { tasks: PlannedTask[]; removed: PlannedTask; rewired: RewiredDependent[] } {
  const removed = findPlannedTask(tasks, key);
  const rewired: RewiredDependent[] = [];
  const next: PlannedTask[] = [];
  for (const t of tasks) {
    if (t.key === removed.key) continue;
    if (!t.dependsOn.includes(removed.key)) {
      next.push(t);
      continue;
    }
    next.push({ ...t, dependsOn: replaceKey(t.dependsOn, removed.key, removed.dependsOn) });
  }
  const touched = new Set(tasks.filter((t) => t.dependsOn.includes(removed.key)).map((t) => t.key));
  const reduced = withoutImpliedDependencies(next, touched);
  for (const t of reduced) {
    const before = tasks.find((o) => o.key === t.key)?.dependsOn ?? [];
    if (before.includes(removed.key)) rewired.push({ key: t.key, before, after: t.dependsOn });
  }
  return { tasks: reduced, removed, rewired };
}

/**
 * Everything wrong with a task list as a plan, in words a person (or a model) can act on: no tasks, bad or
 * duplicate keys, empty descriptions, unknown types, dependencies on missing tasks or on themselves, cycles.
 */
export function planProblems(
  tasks: readonly PlannedTask[],
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): string[] {
  const problems: string[] = [];
  if (tasks.length === 0) problems.push("the plan has no tasks");
  const keys = new Set<string>();
  const typeNames = new Set(types.map((t) => t.name));
  for (const t of tasks) {
    if (!PLAN_KEY_PATTERN.test(t.key))
      problems.push(`task key '${t.key}' is not a short lowercase name`);
    if (keys.has(t.key)) problems.push(`two tasks have the key '${t.key}'`);
    keys.add(t.key);
    if (t.description.trim() === "") problems.push(`task ${t.key} has no description`);
    if (!typeNames.has(t.agentType))
      problems.push(`task ${t.key} has unknown agent type '${t.agentType}'`);
  }
  for (const t of tasks) {
    for (const dep of t.dependsOn) {
      if (dep === t.key) problems.push(`task ${t.key} depends on itself`);
      else if (!keys.has(dep))
        problems.push(`task ${t.key} depends on '${dep}', which is not in the plan`);
    }
  }
  const sorted = topologicalOrder(
    tasks.map((t) => t.key),
    (k) => tasks.find((t) => t.key === k)?.dependsOn.filter((d) => d !== k) ?? [],
  );
  if ("cycle" in sorted)
    problems.push(`tasks depend on each other in a cycle: ${sorted.cycle.join(" -> ")}`);
  return problems;
}

/** The task keys in an order where each comes after its dependencies (plan order where free). */
export function executionOrder(tasks: readonly PlannedTask[]): string[] {
  const sorted = topologicalOrder(
    tasks.map((t) => t.key),
    (k) => tasks.find((t) => t.key === k)?.dependsOn ?? [],
  );
  if ("cycle" in sorted)
    throw new ConflictError(`tasks depend on each other in a cycle: ${sorted.cycle.join(" -> ")}`);
  return sorted.order;
}

/**
 * Drops dependencies that another dependency already implies (t3 after t1 and t2, where t2 is after
 * t1, becomes t3 after t2): rewiring after a removal or split otherwise piles up redundant edges.
 */
export function withoutImpliedDependencies(
  tasks: readonly PlannedTask[],
  only?: ReadonlySet<string>,
): PlannedTask[] {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const reach = new Map<string, Set<string>>();
  const ancestors = (key: string, seen: Set<string> = new Set()): Set<string> => {
    const known = reach.get(key);
    if (known) return known;
    const all = new Set<string>();
    if (seen.has(key)) return all;
    seen.add(key);
    for (const dep of byKey.get(key)?.dependsOn ?? []) {
      all.add(dep);
      for (const a of ancestors(dep, seen)) all.add(a);
    }
    reach.set(key, all);
    return all;
  };
  return tasks.map((t) => {
    if (only && !only.has(t.key)) return t;
    const kept = t.dependsOn.filter(
      (d) => !t.dependsOn.some((other) => other !== d && ancestors(other).has(d)),
    );
    return kept.length === t.dependsOn.length ? t : { ...t, dependsOn: kept };
  });
}

function refuseCycle(tasks: readonly PlannedTask[]): void {
  executionOrder(tasks);
}

function replaceKey(list: readonly string[], key: string, by: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of list) {
    for (const r of k === key ? by : [k]) if (!out.includes(r)) out.push(r);
  }
  return out;
}

function resolveKeys(
  tasks: readonly PlannedTask[],
  keys: readonly string[],
  self?: string,
): string[] {
  const out: string[] = [];
  for (const raw of keys) {
    const key = raw.trim().toLowerCase();
    if (key === "") continue;
    if (key === self) {
      throw new ConflictError(
        `task ${self} cannot depend on itself`,
        "name other tasks of the plan",
      );
    }
    const task = findPlannedTask(tasks, key);
    if (!out.includes(task.key)) out.push(task.key);
  }
  return out;
}

function typeFor(
  requested: string | undefined,
  description: string,
  types: readonly AgentTypeInfo[],
): string {
  const name = requested?.trim().toLowerCase();
  if (name === undefined || name === "" || name === "auto")
    return routeByKeywords(description, types);
  if (types.some((t) => t.name === name)) return name;
  const suggestion = closestMatch(
    name,
    types.map((t) => t.name),
  );
  throw new UsageError(
    `unknown agent type '${requested}'`,
    (suggestion ? `did you mean '${suggestion}'? ` : "") +
      `Known types: ${types.map((t) => t.name).join(", ")}, or auto.`,
  );
}

function cleanDescription(text: string): string {
  const description = text.trim();
  if (description === "") {
    throw new UsageError("the task description is empty", "describe the work in a sentence");
  }
  return description;
}

function cleanPhase(phase: string | undefined): string {
  const name = phase?.trim();
  return name === undefined || name === "" ? DEFAULT_PHASE : name;
}
