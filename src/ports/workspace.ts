import type { Task } from "../core/task.ts";
import type { TaskWorkspace } from "../core/taskWorkspace.ts";

/**
 * The workspace port: where an agent works. A workspace is prepared for one task just before its agent
 * starts and released once the agent has ended, however it ended, before the task's end is recorded.
 * Two adapters: the project directory itself (every agent shares it), and a git worktree per task on
 * its own branch, whose release commits what the agent left and merges a success into the group's
 * integration branch. Adapters never touch the store: they get the records they need and return the
 * records as git now has them, and core saves those with the task's own changes.
 *
 * Branch creation and fetching stay behind this port, so that an adapter for many machines can push
 * task branches to a shared remote and fetch a dependency's branch before building a dependent's base.
 */
export interface Workspaces {
  /** What kind of workspace this is, for messages: `directory`, `worktree`. */
  readonly kind: string;
  /**
   * Prepares the workspace for `task`'s agent. Throwing fails that task's start, not the run; a
   * `BaseConflict` says the task's dependencies conflict, and it must wait for a resolver instead.
   */
  acquire(request: WorkspaceRequest): Promise<Workspace>;
  /**
   * Repairs what ended runs left behind in workspaces no agent uses now (uncommitted work, a merge cut
   * off halfway) and returns the records it changed, with a line for each repair.
   */
  recover(idle: readonly TaskWorkspace[]): Promise<{ changed: TaskWorkspace[]; notes: string[] }>;
}

export interface WorkspaceRequest {
  task: Task;
  agentId: string;
  /** The task's workspace as recorded (null when it has none yet). */
  record: TaskWorkspace | null;
  /** Its dependencies that have workspaces (resolvers first), whose branches its tree starts from. */
  dependencies: readonly DependencyWorkspace[];
}

export interface DependencyWorkspace {
  task: Task;
  workspace: TaskWorkspace;
}

export interface Workspace {
  /** The directory the agent runs in (its cwd). */
  readonly dir: string;
  /** The task's workspace as its agent starts (saved with the start); null for the project directory. */
  readonly record: TaskWorkspace | null;
  /** What the agent's prompt says about where it works (null: nothing to say). */
  readonly promptNote: string | null;
  /** Called once, after the agent ended; `success` says whether its task is about to complete. */
  release(end: WorkspaceEnd): Promise<WorkspaceRelease>;
}

export interface WorkspaceEnd {
  success: boolean;
  /** Why the agent ended, in a word: completed, failed, timeout, killed, crashed. */
  reason: string;
}

export interface WorkspaceRelease {
  /** The task's workspace after the end (committed, merged or not); null for the project directory. */
  record: TaskWorkspace | null;
  /** For a successful end with a branch: what merging it into the integration branch gave. */
  integration: IntegrationResult | null;
}

export type IntegrationResult =
  /** Merged (and verified, when a verification command is set: its output). */
  | { kind: "merged"; commit: string; verifyOutput: string | null }
  /** The branch conflicts with the integration branch in `files`; nothing was merged. */
  | { kind: "conflict"; files: string[]; integrationBranch: string }
  /** Merged, but the verification command failed on the result; the merge was undone. */
  | { kind: "rejected"; output: string };

/**
 * Building a task's starting tree met a conflict between its base and its dependencies' branches:
 * the task must wait for a resolver that merges `merges` (the last one conflicted) onto the base.
 */
export class BaseConflict extends Error {
  /** The waiting task's workspace (its base commit and group). */
  readonly workspace: TaskWorkspace;
  readonly files: readonly string[];
  /** The branches merged onto the base, the conflicting one last, and the tasks they belong to. */
  readonly merges: readonly string[];
  readonly mergedTaskIds: readonly string[];

  constructor(
    workspace: TaskWorkspace,
    files: readonly string[],
    merges: readonly string[],
    mergedTaskIds: readonly string[],
  ) {
    super(`its dependencies' branches conflict in ${files.join(", ") || "some files"}`);
    this.name = "BaseConflict";
    this.workspace = workspace;
    this.files = files;
    this.merges = merges;
    this.mergedTaskIds = mergedTaskIds;
  }
}
