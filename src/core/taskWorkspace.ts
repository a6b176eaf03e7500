/**
 * How tasks are kept apart: `worktree` gives each task its own git worktree on its own branch; `none`
 * runs every agent in the project directory itself.
 */
export type Isolation = "worktree" | "none";

/** An isolation mode as a person writes it, or null when it is not one. */
export function parseIsolation(raw: string): Isolation | null {
  const value = raw.trim().toLowerCase();
  return value === "worktree" || value === "none" ? value : null;
}

export const ISOLATION_HINT =
  "use worktree (each task in its own git worktree), none (every agent in the project directory) or auto";

/** A worktree's life: recorded (`new`), an agent in it (`active`), no agent (`idle`), deleted (`removed`). */
export type WorktreeState = "new" | "active" | "idle" | "removed";

/**
 * Where a task's branch stands with its group's integration branch: `pending` (not merged: still
 * working, waiting, or failed), `merged`, `conflict` (a resolver task reconciles it), or `none` (a
 * task whose branch is not merged by the queue: a resolver of a dependent's base).
 */
export type MergeState = "pending" | "merged" | "conflict" | "none";

/**
 * What a resolver task reconciles. `base`: a task's dependencies conflicted while its starting tree was
 * built; `integration`: a finished task's branch conflicted with its group's integration branch.
 */
export interface ResolverSpec {
  kind: "base" | "integration";
  /** The tasks whose work it reconciles (for `integration`, the task merged; for `base`, the waiting task). */
  forTasks: readonly string[];
  /** The branches merged onto the resolver's start, in order; the last one is the one that conflicted. */
  merges: readonly string[];
  /** The files in conflict when the resolver was made. */
  files: readonly string[];
}

/**
 * A task's git workspace: its branch, where the branch started, where it is now, what it changed, and
 * how far its work has been integrated. Recorded when the task is submitted (the base commit, HEAD
 * then) and updated as its agents start and end.
 */
export interface TaskWorkspace {
  taskId: string;
  /** The plan (`plan-<id8>`) or `tasks` (ad-hoc tasks): it names the integration branch. */
  group: string;
  branch: string;
  /** The commit the task's work is measured against (HEAD when it was submitted or its plan executed). */
  baseCommit: string;
  /**
   * Where the task's own work starts: the base with its dependencies' branches merged (the base itself
   * for a task without any); null before its worktree was first made. Its diff is measured from here.
   */
  startCommit: string | null;
  /** The branch's last commit as recorded after its latest agent; null before any agent ended. */
  headCommit: string | null;
  /** The worktree directory while it exists. */
  path: string | null;
  /** Files the task's own work changed (from `startCommit`), as of `headCommit`. */
  filesChanged: readonly string[];
  state: WorktreeState;
  merge: MergeState;
  /** The resolver task reconciling this task's conflict, while `merge` is `conflict`. */
  resolverTaskId: string | null;
  /** Set on resolver tasks: what they reconcile. */
  resolves: ResolverSpec | null;
  /** The set-up command's output for the latest worktree made, and the verification's latest output. */
  setupLog: string | null;
  verifyLog: string | null;
  updatedAt: number;
}

/** What a new task's workspace starts as: recorded with the task, in the same transaction. */
export type WorkspaceSeed = Pick<TaskWorkspace, "group" | "branch" | "baseCommit"> & {
  resolves?: ResolverSpec | null;
  merge?: MergeState;
};

/** Ad-hoc tasks (not of a plan) share one group, and so one integration branch. */
export const ADHOC_GROUP = "tasks";
export const BRANCH_PREFIX = "orchestrate";

/** The group of a task: its plan, or the ad-hoc group. */
export function workspaceGroup(planId: string | null): string {
  return planId ? `plan-${planId.slice(0, 8)}` : ADHOC_GROUP;
}

const INTEGRATION_LEAF = "integration";

/** The branch the group's finished work is merged into, one task at a time. */
export function integrationBranch(group: string): string {
  return `${BRANCH_PREFIX}/${group}/${INTEGRATION_LEAF}`;
}

/**
 * A task's branch, named so a person recognises it: `orchestrate/plan-1a2b3c4d/t2` for a plan's task,
 * `orchestrate/tasks/<key->1a2b3c4d` for an ad-hoc one (keys of separate submissions may repeat).
 */
export function taskBranch(group: string, taskId: string, key: string | null): string {
  const safeKey = key ? refSafe(key) : "";
  const leaf =
    group === ADHOC_GROUP
      ? safeKey
        ? `${safeKey}-${taskId.slice(0, 8)}`
        : taskId.slice(0, 8)
      : safeKey || taskId.slice(0, 8);
  // A plan task keyed `integration` must not get its plan's integration branch.
  return `${BRANCH_PREFIX}/${group}/${leaf === INTEGRATION_LEAF ? `${leaf}-task` : leaf}`;
}

/** A key reduced to what a git ref name and a directory name both accept. */
function refSafe(key: string): string {
  return key
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[-.]+|[-.]+$/g, "")
    .replace(/\.lock$/, "-lock")
    .slice(0, 60);
}

/** The seed of a new task's workspace. */
export function workspaceSeed(
  task: { id: string; planId: string | null; key: string | null },
  baseCommit: string,
): WorkspaceSeed {
  const group = workspaceGroup(task.planId);
  return { group, branch: taskBranch(group, task.id, task.key), baseCommit };
}

/** The workspace record of a seed, as a store writes it. */
export function workspaceFromSeed(taskId: string, seed: WorkspaceSeed, now: number): TaskWorkspace {
  return {
    taskId,
    group: seed.group,
    branch: seed.branch,
    baseCommit: seed.baseCommit,
    startCommit: null,
    headCommit: null,
    path: null,
    filesChanged: [],
    state: "new",
    merge: seed.merge ?? "pending",
    resolverTaskId: null,
    resolves: seed.resolves ?? null,
    setupLog: null,
    verifyLog: null,
    updatedAt: now,
  };
}
