import type { Task } from "./task.ts";
import type { SubmitInput } from "./taskQueue.ts";
import type { ResolverSpec, TaskWorkspace, WorkspaceSeed } from "./taskWorkspace.ts";
import { oneLine } from "./text.ts";

/** A resolver task to queue: what it is asked, and the workspace it works in. */
export interface ResolverDraft {
  input: SubmitInput;
  seed: (id: string) => WorkspaceSeed;
}

/**
 * The resolver for a task whose dependencies' branches conflict while its starting tree is built: same
 * type, plan and backend as the waiting task, a worktree with the conflicting merge in progress, and a
 * prompt naming the files and what each side was for. The waiting task then depends on it.
 */
export function baseConflictResolver(input: {
  task: Task;
  workspace: TaskWorkspace;
  files: readonly string[];
  merges: readonly string[];
  /** The dependencies whose branches are merged, the conflicting one last. */
  sides: readonly Task[];
}): ResolverDraft {
  const { task, workspace, files } = input;
  const conflicting = input.sides.at(-1);
  const before = input.sides.slice(0, -1);
  const description = [
    `Resolve a merge conflict so that task ${short(task.id)} can start: ${oneLine(task.description, 200)}`,
    "",
    `It starts from the work of the tasks it depends on, and their branches conflict in: ${files.join(", ")}.`,
    before.length > 0
      ? `Already merged:\n${before.map(side).join("\n")}`
      : "Already merged: the base commit.",
    conflicting ? `Conflicting with it:\n${side(conflicting)}` : "",
    "",
    "The merge is in progress in your worktree. Keep what each side intended; where they truly contradict, " +
      "choose what the waiting task needs and say so in your summary. Do not drop either side silently.",
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");
  return draft(task, workspace, description, {
    kind: "base",
    forTasks: [task.id],
    merges: input.merges,
    files,
  });
}

/**
 * The resolver for a finished task whose branch conflicts with its group's integration branch: it
 * works on the integration branch with the task's branch being merged, and its own branch goes into the
 * merge queue in the task's place.
 */
export function integrationConflictResolver(input: {
  task: Task;
  workspace: TaskWorkspace;
  files: readonly string[];
  /** Tasks already integrated that changed the conflicting files. */
  otherSide: readonly Task[];
}): ResolverDraft {
  const { task, workspace, files } = input;
  const description = [
    `Resolve a merge conflict: the work of task ${short(task.id)} conflicts with the work already integrated for ` +
      `its ${task.planId ? "plan" : "tasks"} (branch of the merge: ${workspace.branch}).`,
    "",
    `Files in conflict: ${files.join(", ")}.`,
    `Being merged:\n${side(task)}`,
    input.otherSide.length > 0
      ? `Already integrated, touching the same files:\n${input.otherSide.map(side).join("\n")}`
      : "Already integrated: earlier work of the same group.",
    "",
    "The merge is in progress in your worktree. Keep what each side intended; where they truly contradict, " +
      "say in your summary what you chose and why. Do not drop either side silently.",
  ].join("\n");
  return draft(task, workspace, description, {
    kind: "integration",
    forTasks: [task.id, ...(workspace.resolves?.forTasks ?? [])],
    merges: [workspace.branch],
    files,
  });
}

function draft(
  task: Task,
  workspace: TaskWorkspace,
  description: string,
  resolves: ResolverSpec,
): ResolverDraft {
  return {
    input: {
      description,
      agentType: task.agentType,
      priority: task.priority,
      planId: task.planId,
      backend: task.backend,
      maxAttempts: task.maxAttempts,
      timeoutMs: task.timeoutMs,
    },
    seed: (id) => ({
      group: workspace.group,
      branch: `${workspace.branch}-${resolves.kind === "base" ? "base" : "merge"}-${id.slice(0, 4)}`,
      baseCommit: workspace.baseCommit,
      resolves,
      merge: resolves.kind === "base" ? "none" : "pending",
    }),
  };
}

function side(task: Task): string {
  return `- task ${short(task.id)} (${task.agentType ?? "auto"}): ${oneLine(task.description, 300)}`;
}

function short(id: string): string {
  return id.slice(0, 8);
}
