import { readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Task } from "../core/task.ts";
import type { TaskWorkspace } from "../core/taskWorkspace.ts";
import { openRepositoryWorkspaces } from "./repositoryWorkspaces.ts";
import type { Session } from "./session.ts";

export interface CleanupResult {
  /** Tasks removed (or, in a dry run, that would be). */
  tasks: Task[];
  /** Files under the base dir removed with them (agent outputs and their raw streams). */
  files: string[];
  /** Old finished tasks kept because an unfinished task still depends on them. */
  keptForDependents: number;
  /** Worktrees removed (their work committed on their branch first), and task branches deleted. */
  worktreesRemoved: string[];
  branchesDeleted: string[];
  /** Old tasks kept because their branch has work not merged (delete it with `deleteUnmerged`). */
  keptUnmerged: TaskWorkspace[];
  dryRun: boolean;
}

/**
 * Removes finished (completed, failed, cancelled) tasks last changed before `before`, with their events,
 * agent runs and the agents' output files. Files are only ever deleted inside `baseDir/agent_outputs`.
 */
export async function cleanupFinishedTasks(
  session: Session,
  options: { before: number; dryRun: boolean; deleteUnmerged?: boolean },
): Promise<CleanupResult> {
  const { queue } = session;
  const baseDir = session.config.baseDir;
  const candidates = await queue.cleanupCandidates(options.before);
  const { keptForDependents } = candidates;
  const branches = await cleanupBranches(session, candidates.tasks, options);
  const kept = new Set(branches.keptUnmerged.map((ws) => ws.taskId));
  const tasks = candidates.tasks.filter((t) => !kept.has(t.id));
  const outputsDir = resolve(baseDir, "agent_outputs");
  const runs = options.dryRun
    ? (await Promise.all(tasks.map((t) => queue.agentRunsOf(t.id)))).flat()
    : await queue.deleteFinished(tasks.map((t) => t.id));
  const runIds = new Set(runs.map((r) => r.id));
  const files = new Set<string>();
  for (const run of runs) {
    if (run.outputPath && isInside(outputsDir, resolve(baseDir, run.outputPath))) {
      files.add(resolve(baseDir, run.outputPath));
    }
  }
  // The raw stream and any other file an agent left beside its output is named after the agent id.
  for (const name of listDir(outputsDir)) {
    const agentId = name.split("_output")[0] ?? "";
    if (runIds.has(agentId)) files.add(join(outputsDir, name));
  }
  if (!options.dryRun) for (const file of files) rmSync(file, { force: true });
  return {
    tasks,
    files: [...files].sort(),
    keptForDependents,
    ...branches,
    dryRun: options.dryRun,
  };
}

/**
 * The git side of cleanup, for old finished tasks with a branch. A merged branch (all its commits in
 * its integration branch) goes with its worktree and its task. An unmerged one keeps its branch and
 * its task, and only its worktree goes (its work committed on the branch first), unless the person
 * asks for unmerged branches to be deleted too. Without the repository at hand (run from elsewhere),
 * tasks with branches are all kept.
 */
async function cleanupBranches(
  session: Session,
  tasks: readonly Task[],
  options: { dryRun: boolean; deleteUnmerged?: boolean },
): Promise<Pick<CleanupResult, "worktreesRemoved" | "branchesDeleted" | "keptUnmerged">> {
  const result = {
    worktreesRemoved: [] as string[],
    branchesDeleted: [] as string[],
    keptUnmerged: [] as TaskWorkspace[],
  };
  if (tasks.length === 0) return result;
  const { queue } = session;
  const records = await queue.workspaces({ taskIds: tasks.map((t) => t.id) });
  if (records.length === 0) return result;
  const workspaces = await openRepositoryWorkspaces(session.config);
  if (!workspaces) {
    result.keptUnmerged.push(...records);
    return result;
  }
  const saved: TaskWorkspace[] = [];
  for (const ws of records) {
    const merged = await workspaces.isMerged(ws);
    const deleteBranch = merged ? "merged" : options.deleteUnmerged ? "any" : "never";
    if (options.dryRun) {
      if (ws.path) result.worktreesRemoved.push(ws.path);
      if (deleteBranch !== "never") result.branchesDeleted.push(ws.branch);
      else result.keptUnmerged.push(ws);
      continue;
    }
    const removed = await workspaces.remove(ws, { deleteBranch });
    if (removed.kept) {
      result.keptUnmerged.push(ws);
      continue;
    }
    if (removed.removedWorktree && ws.path) result.worktreesRemoved.push(ws.path);
    if (removed.deletedBranch) result.branchesDeleted.push(ws.branch);
    else result.keptUnmerged.push(removed.record);
    saved.push(removed.record);
  }
  if (!options.dryRun) {
    await queue.saveWorkspaces(saved);
    const groups = new Set(records.map((ws) => ws.group));
    for (const group of groups) {
      const left = await queue.workspaces({ group });
      const gone = new Set(tasks.map((t) => t.id));
      if (
        left.every(
          (ws) => gone.has(ws.taskId) && !result.keptUnmerged.some((k) => k.taskId === ws.taskId),
        )
      ) {
        await workspaces.removeIntegrationWorktree(group);
      }
    }
  }
  return result;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith("/");
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
