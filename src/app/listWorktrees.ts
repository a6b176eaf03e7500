import { existsSync } from "node:fs";
import { diskUsage } from "../adapters/workspaces/diskUsage.ts";
import type { Task } from "../core/task.ts";
import type { TaskWorkspace } from "../core/taskWorkspace.ts";
import type { Session } from "./session.ts";

/** A task's worktree as `orchestrate worktrees` shows it. */
export interface WorktreeRow {
  taskId: string;
  description: string;
  taskStatus: Task["status"];
  branch: string;
  path: string | null;
  /** running, waiting, finished (not merged yet), merged, conflict (a resolver is at work), unmerged (failed or cancelled with its work on the branch). */
  state: "running" | "waiting" | "finished" | "merged" | "conflict" | "unmerged";
  /** Whether the worktree directory is still on disk. */
  present: boolean;
  headCommit: string | null;
  baseCommit: string;
  filesChanged: number;
  resolverTaskId: string | null;
  /** Disk used by the worktree directory, in bytes (null when it is gone or cannot be measured). */
  sizeBytes: number | null;
}

/** Every task workspace with its task's state and the disk its worktree uses, oldest change first. */
export async function listWorktrees(session: Session): Promise<WorktreeRow[]> {
  const { queue } = session;
  const records = await queue.workspaces();
  const rows: WorktreeRow[] = [];
  for (const ws of records) {
    const task = await queue.find(ws.taskId);
    if (!task) continue;
    const present = ws.path !== null && existsSync(ws.path);
    rows.push({
      taskId: ws.taskId,
      description: task.description,
      taskStatus: task.status,
      branch: ws.branch,
      path: ws.path,
      state: stateOf(task, ws),
      present,
      headCommit: ws.headCommit,
      baseCommit: ws.baseCommit,
      filesChanged: ws.filesChanged.length,
      resolverTaskId: ws.resolverTaskId,
      sizeBytes: present ? await diskUsage(ws.path as string) : null,
    });
  }
  return rows;
}

function stateOf(task: Task, ws: TaskWorkspace): WorktreeRow["state"] {
  if (task.status === "assigned" || task.status === "in_progress") return "running";
  if (ws.merge === "merged") return "merged";
  if (ws.merge === "conflict") return "conflict";
  if (task.status === "completed") return "finished";
  if (task.status === "pending") return "waiting";
  return "unmerged";
}
