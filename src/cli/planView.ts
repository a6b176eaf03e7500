import { dependencyMap, type Plan, type PlannedTask } from "../core/plan.ts";
import { priorityName } from "../core/priority.ts";
import type { Task } from "../core/task.ts";
import type { MergeState } from "../core/taskWorkspace.ts";
import { type Output, paint, statusStyle, truncate } from "./output.ts";

/**
 * How plans look in a terminal: the plan by phase with each task's key, specialist, priority and what
 * it waits for; the dependency graph as waves of tasks that can run at once; and, once executing, each
 * task's queue state.
 */

/** The plan grouped by phase, one line per task. */
export function renderPlan(
  plan: Plan,
  output: Output,
  queued: readonly Task[] = [],
  merges: ReadonlyMap<string, MergeState> = new Map(),
): string[] {
  const out = output.out;
  const width = out.isTTY ? out.columns || 100 : 120;
  const stateOf = new Map(queued.map((t) => [t.id, t]));
  const typeWidth = Math.max(4, ...plan.tasks.map((t) => t.agentType.length));
  const keyWidth = Math.max(3, ...plan.tasks.map((t) => t.key.length));
  const lines = [
    `${paint("bold", "Plan", out)} ${plan.id}  ${paint(statusStyle(plan.status) ?? "reset", plan.status, out)}  ${plan.tasks.length} task${plan.tasks.length === 1 ? "" : "s"}, planned by ${plan.planner}`,
    `  ${plan.goal.trim().split("\n").join("\n  ")}`,
  ];
  for (const [phase, tasks] of phases(plan.tasks)) {
    lines.push("", paint("bold", phase, out));
    for (const t of tasks) {
      const task = t.taskId ? stateOf.get(t.taskId) : undefined;
      const state = task
        ? `${paint(statusStyle(task.status) ?? "reset", task.status.replace("_", " ").padEnd(11), out)} `
        : "";
      const merge = t.taskId ? merges.get(t.taskId) : undefined;
      const mergeNote = merge === "merged" ? "merged  " : merge === "conflict" ? "conflict  " : "";
      const after = `${mergeNote}${t.dependsOn.length > 0 ? `after ${t.dependsOn.join(",")}  ` : ""}`;
      const head = `  ${t.key.padEnd(keyWidth)}  ${t.agentType.padEnd(typeWidth)}  ${priorityName(t.priority).padEnd(6)}  `;
      const used = head.length + (task ? 12 : 0) + after.length;
      lines.push(
        `${head}${state}${paint("dim", after, out)}${truncate(t.description, Math.max(20, width - used))}`,
      );
    }
  }
  return lines;
}

/** The latest turns of the planning discussion (the model's analysis of the goal comes first). */
export function renderDiscussion(plan: Plan, output: Output, last = 6): string[] {
  if (plan.discussion.length === 0) return [];
  const out = output.out;
  const shown = plan.discussion.slice(-last);
  const lines = [paint("bold", "Discussion", out)];
  if (shown.length < plan.discussion.length) {
    lines.push(paint("dim", `  … ${plan.discussion.length - shown.length} earlier messages`, out));
  }
  for (const m of shown) {
    const who = m.role === "assistant" ? "model" : "you";
    lines.push(`  ${paint("bold", `${who}>`, out)} ${m.content.trim().split("\n").join("\n    ")}`);
  }
  return lines;
}

/**
 * The dependency graph as waves: wave 1 needs nothing, wave n waits only for earlier waves. Tasks of one
 * wave can run in parallel (up to MAX_AGENTS). Each line names what a task waits for.
 */
export function renderGraph(plan: Plan, output: Output): string[] {
  const out = output.out;
  const lines = [paint("bold", "Dependency graph", out)];
  const waves = executionWaves(plan.tasks);
  waves.forEach((wave, i) => {
    lines.push(`  wave ${i + 1}: ${wave.join(", ")}`);
  });
  const deps = dependencyMap(plan.tasks);
  for (const t of plan.tasks) {
    const waits = deps[t.key] ?? [];
    lines.push(
      `  ${t.key} <- ${waits.length > 0 ? waits.join(", ") : paint("dim", "(starts at once)", out)}`,
    );
  }
  return lines;
}

/** Task keys by wave: each task in the wave after the last of its dependencies. */
export function executionWaves(tasks: readonly PlannedTask[]): string[][] {
  const level = new Map<string, number>();
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const levelOf = (key: string, seen: Set<string>): number => {
    const known = level.get(key);
    if (known !== undefined) return known;
    if (seen.has(key)) return 0; // a cycle: approval refuses it; the view still renders
    seen.add(key);
    const deps = byKey.get(key)?.dependsOn.filter((d) => byKey.has(d)) ?? [];
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => levelOf(d, seen)));
    level.set(key, value);
    return value;
  };
  const waves: string[][] = [];
  for (const t of tasks) {
    const n = levelOf(t.key, new Set());
    const wave = waves[n] ?? [];
    wave.push(t.key);
    waves[n] = wave;
  }
  return waves.filter((w) => w !== undefined);
}

/** One line of counts for an executing plan: `3 completed, 1 in progress, 2 pending`. */
export function progressLine(plan: Plan, queued: readonly Task[]): string {
  const counts = new Map<string, number>();
  for (const t of queued) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const order = ["completed", "in_progress", "assigned", "pending", "failed", "cancelled"];
  const parts = order
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s.replace("_", " ")}`);
  const missing = plan.tasks.filter((t) => t.taskId === null || t.taskId === undefined).length;
  if (plan.executedAt !== null && missing > 0) parts.push(`${missing} removed by cleanup`);
  return parts.join(", ");
}

function phases(tasks: readonly PlannedTask[]): Map<string, PlannedTask[]> {
  const groups = new Map<string, PlannedTask[]>();
  for (const t of tasks) {
    const list = groups.get(t.phase) ?? [];
    list.push(t);
    groups.set(t.phase, list);
  }
  return groups;
}
