import type { Task } from "../core/task.ts";

/**
 * The workspace port: where an agent works. A workspace is prepared for one task just before its agent
 * starts and released once the agent has ended, however it ended, before the task's end is recorded.
 * Today's adapter is the project directory itself (every agent shares it); a git worktree per task is
 * a second adapter behind the same port.
 */
export interface Workspaces {
  /** What kind of workspace this is, for messages: `directory`, `worktree`. */
  readonly kind: string;
  /** Prepares the workspace for `task`'s agent. Throwing fails that task's start, not the run. */
  acquire(request: WorkspaceRequest): Promise<Workspace>;
}

export interface WorkspaceRequest {
  task: Task;
  agentId: string;
}

export interface Workspace {
  /** The directory the agent runs in (its cwd). */
  readonly dir: string;
  /** Called once, after the agent ended; `success` says whether its task is about to complete. */
  release(end: WorkspaceEnd): Promise<void>;
}

export interface WorkspaceEnd {
  success: boolean;
  /** Why the agent ended, in a word: completed, failed, timeout, killed, crashed. */
  reason: string;
}
