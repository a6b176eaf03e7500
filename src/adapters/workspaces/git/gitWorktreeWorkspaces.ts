import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { ConflictError } from "../../../core/errors.ts";
import type { Task } from "../../../core/task.ts";
import {
  BRANCH_PREFIX,
  integrationBranch,
  type TaskWorkspace,
  workspaceFromSeed,
  workspaceSeed,
} from "../../../core/taskWorkspace.ts";
import {
  BaseConflict,
  type IntegrationResult,
  type Workspace,
  type WorkspaceEnd,
  type WorkspaceRelease,
  type WorkspaceRequest,
  type Workspaces,
} from "../../../ports/workspace.ts";
import { git, gitEnvironment, gitOut } from "./git.ts";
import { commitIdentity, type GitRepository, refExists } from "./gitRepository.ts";
import { RepoLock } from "./repoLock.ts";
import { runShell } from "./shellCommand.ts";
import { copyWorktreeIncludes } from "./worktreeInclude.ts";

export interface GitWorktreeOptions {
  repo: GitRepository;
  /** Where the run was started; an agent works in the same subdirectory of its worktree. */
  projectDir: string;
  /** The orchestrator's base dir: worktrees live under it, and it is excluded from git. */
  baseDir: string;
  /** Run in each new worktree before its first agent (e.g. `npm ci`). */
  setupCommand: string | null;
  /** Run on each merged result in the integration worktree (e.g. `npm test`). */
  verifyCommand: string | null;
  /** The user's environment, for set-up and verification. */
  env: Readonly<Record<string, string | undefined>>;
  /** Longest a set-up or verification may take. */
  commandTimeoutMs?: number;
  clock?: () => number;
}

const INTEGRATION_DIR = "_integration";
const SETUP_MARKER = "orchestrate-setup-done";
const CONFLICT_MARKER = /^(<{7}|>{7})( |$)/m;
const STALE_INDEX_LOCK_MS = 5_000;
/**
 * Orchestrate's own commits and merges never depend on the user's commit set-up: no signing (a key
 * behind a passphrase would fail them), and no hooks (`--no-verify` at each call site).
 */
const NO_SIGNING = ["-c", "commit.gpgsign=false"];

/**
 * Opens worktree isolation on a repository: makes sure the base dir is excluded from git (in
 * `.git/info/exclude`, never the user's `.gitignore`) and learns the identity to commit with.
 */
export async function openGitWorktreeWorkspaces(
  options: GitWorktreeOptions,
): Promise<GitWorktreeWorkspaces> {
  const env = gitEnvironment(options.env);
  const identity = await commitIdentity(options.repo.root, env);
  const workspaces = new GitWorktreeWorkspaces(options, { ...env, ...identity });
  await workspaces.excludeBaseDir();
  return workspaces;
}

/**
 * A git worktree per task, on its own branch, under `<base dir>/worktrees/<group>/`. The user's own
 * checkout is never touched: no checkout, reset, stash or index change happens in it; every git step
 * runs in a worktree of ours or only adds refs and worktrees.
 *
 * - A task's tree starts at its base commit merged with each dependency's branch (a conflict raises
 *   BaseConflict: the task waits for a resolver). A retry continues on the same branch.
 * - When an agent ends, whatever it left is committed on its branch (a WIP commit unless it succeeded).
 * - A success is merged into the group's integration branch (one merge at a time per group, in the
 *   integration worktree), optionally verified there; a conflict or a failed verification is reported,
 *   and the integration branch is left as it was.
 * - Steps on the shared repository (worktree add and remove, branch creation) take the repository lock.
 */
export class GitWorktreeWorkspaces implements Workspaces {
  readonly kind = "worktree";
  readonly #options: GitWorktreeOptions;
  readonly #env: Record<string, string>;
  readonly #lock: RepoLock;
  readonly #subdir: string;
  readonly #worktreesDir: string;
  readonly #clock: () => number;
  readonly #timeoutMs: number;

  constructor(options: GitWorktreeOptions, env: Record<string, string>) {
    this.#options = options;
    this.#env = env;
    this.#lock = new RepoLock(options.repo.commonDir);
    const rel = relative(options.repo.root, options.projectDir);
    this.#subdir = rel.startsWith("..") ? "" : rel;
    this.#worktreesDir = join(options.baseDir, "worktrees");
    this.#clock = options.clock ?? Date.now;
    this.#timeoutMs = options.commandTimeoutMs ?? 30 * 60_000;
  }

  get repository(): GitRepository {
    return this.#options.repo;
  }

  /** Adds the base dir to `.git/info/exclude` when it is inside the work tree (once). */
  async excludeBaseDir(): Promise<void> {
    const rel = relative(this.#options.repo.root, this.#options.baseDir);
    if (rel === "" || rel.startsWith("..")) return;
    const pattern = `/${rel.split(sep).join("/")}/`;
    const file = join(this.#options.repo.commonDir, "info", "exclude");
    await this.#lock.with("repo", async () => {
      const text = existsSync(file) ? readFileSync(file, "utf8") : "";
      if (text.split("\n").includes(pattern)) return;
      mkdirSync(dirname(file), { recursive: true });
      const sepLine = text === "" || text.endsWith("\n") ? "" : "\n";
      appendFileSync(file, `${sepLine}# orchestrate's base dir (queue, worktrees)\n${pattern}\n`);
    });
  }

  async acquire(request: WorkspaceRequest): Promise<Workspace> {
    const record = request.record ?? (await this.#seedNow(request.task));
    const path = this.#pathOf(record);
    const made = await this.#lock.with("repo", () => this.#ensureWorktree(record, path));
    let ws: TaskWorkspace = { ...record, path };
    if (!made) {
      await this.#clearStaleIndexLock(path);
    }
    if (!made && ws.resolves && (await this.#mergeInProgress(path))) {
      // A resolution an earlier attempt did not finish: it goes on, merge still in progress.
    } else if (!made) {
      // A start cut off while it merged the dependencies' branches: that merge is redone below.
      await this.#abortMerge(path);
      // What an earlier attempt's agent left (its run died before it could be committed).
      await this.#commitAll(
        path,
        `WIP orchestrate: ${short(ws.taskId)} work left by an earlier attempt`,
        false,
      );
    } else if (ws.resolves) {
      await this.#startResolverMerge(path, ws);
    }
    if (!ws.resolves) await this.#mergeDependencies(path, ws, request, made);
    // A resolver's own work is the resolution: it starts at its start point, merge in progress.
    const startCommit =
      ws.startCommit ?? (await gitOut(["rev-parse", "HEAD"], { cwd: path, env: this.#env }));
    ws = {
      ...ws,
      startCommit,
      ...(await this.#setUp(path)),
      state: "active",
      updatedAt: this.#clock(),
    };
    const dir = this.#subdir ? join(path, this.#subdir) : path;
    mkdirSync(dir, { recursive: true });
    return {
      dir,
      record: ws,
      promptNote: promptNote(dir, ws),
      release: (end) => this.#release(ws, end),
    };
  }

  async recover(
    idle: readonly TaskWorkspace[],
  ): Promise<{ changed: TaskWorkspace[]; notes: string[] }> {
    const changed: TaskWorkspace[] = [];
    const notes: string[] = [];
    await this.#lock.with("repo", () =>
      git(["worktree", "prune"], {
        cwd: this.#options.repo.root,
        env: this.#env,
        allowFailure: true,
      }),
    );
    for (const ws of idle) {
      try {
        await this.#recoverOne(ws, changed, notes);
      } catch (error) {
        notes.push(
          `${ws.branch}: could not be repaired (${error instanceof Error ? error.message : String(error)}); its worktree is left as it is`,
        );
      }
    }
    for (const group of existsSync(this.#worktreesDir) ? readdirSync(this.#worktreesDir) : []) {
      const dir = join(this.#worktreesDir, group, INTEGRATION_DIR);
      if (existsSync(dir) && (await this.#integrationDirty(dir, integrationBranch(group)))) {
        await this.#lock.with(`group-${group}`, () =>
          this.#cleanIntegration(dir, integrationBranch(group)),
        );
        notes.push(
          `${integrationBranch(group)}: undid a merge an ended run left halfway (not verified)`,
        );
      }
    }
    return { changed, notes };
  }

  /**
   * Removes a task's worktree (what is in it is committed first, so nothing is lost) and, when asked,
   * its branch: `merged` deletes it only when its commits are all in its integration branch, `any`
   * deletes it regardless. A resolver's merge in progress is never thrown away: that worktree stays.
   */
  async remove(
    ws: TaskWorkspace,
    options: { deleteBranch: "never" | "merged" | "any" },
  ): Promise<{
    record: TaskWorkspace;
    removedWorktree: boolean;
    deletedBranch: boolean;
    kept: string | null;
  }> {
    const root = this.#options.repo.root;
    let record = ws;
    if (ws.path && existsSync(ws.path)) {
      if (ws.resolves && (await this.#mergeInProgress(ws.path))) {
        return {
          record,
          removedWorktree: false,
          deletedBranch: false,
          kept: "a conflict resolution is in progress there",
        };
      }
      if (
        await this.#commitAll(
          ws.path,
          `WIP orchestrate: ${short(ws.taskId)} saved before its worktree was removed`,
          false,
        )
      ) {
        record = await this.#measured(ws);
      }
    }
    let deletedBranch = false;
    await this.#lock.with("repo", async () => {
      if (ws.path) {
        await git(["worktree", "remove", "--force", ws.path], {
          cwd: root,
          env: this.#env,
          allowFailure: true,
        });
      }
      await git(["worktree", "prune"], { cwd: root, env: this.#env, allowFailure: true });
      if (options.deleteBranch === "never") return;
      if (!(await refExists(root, `refs/heads/${ws.branch}`, this.#env))) return;
      if (options.deleteBranch === "merged" && !(await this.isMerged(ws))) return;
      await git(["branch", "-D", ws.branch], { cwd: root, env: this.#env });
      deletedBranch = true;
    });
    return {
      record: { ...record, path: null, state: "removed", updatedAt: this.#clock() },
      removedWorktree: ws.path !== null,
      deletedBranch,
      kept: null,
    };
  }

  /** Whether every commit of the task's branch is in its group's integration branch (or it has none left). */
  async isMerged(ws: TaskWorkspace): Promise<boolean> {
    const root = this.#options.repo.root;
    if (!(await refExists(root, `refs/heads/${ws.branch}`, this.#env))) return true;
    const into = integrationBranch(ws.group);
    if (!(await refExists(root, `refs/heads/${into}`, this.#env))) return false;
    const result = await git(["merge-base", "--is-ancestor", ws.branch, into], {
      cwd: root,
      env: this.#env,
      allowFailure: true,
    });
    return result.code === 0;
  }

  /**
   * Sets a task's branch aside for a fresh start: its worktree is removed (its work committed first)
   * and the branch renamed `<branch>-attempt-<n>`, never deleted. Returns the record for a new start and
   * the name the old work is kept under (null when there was no branch yet).
   */
  async setAside(ws: TaskWorkspace): Promise<{ record: TaskWorkspace; keptAs: string | null }> {
    const root = this.#options.repo.root;
    const { record: removed, kept } = await this.remove(ws, { deleteBranch: "never" });
    if (kept) {
      throw new ConflictError(
        `task ${short(ws.taskId)}'s worktree cannot be set aside: ${kept}`,
        `retry it without --fresh to go on with that resolution (its worktree: ${ws.path})`,
      );
    }
    let keptAs: string | null = null;
    await this.#lock.with("repo", async () => {
      if (!(await refExists(root, `refs/heads/${ws.branch}`, this.#env))) return;
      for (let n = 1; ; n++) {
        const name = `${ws.branch}-attempt-${n}`;
        if (await refExists(root, `refs/heads/${name}`, this.#env)) continue;
        await git(["branch", "-m", ws.branch, name], { cwd: root, env: this.#env });
        keptAs = name;
        return;
      }
    });
    return {
      record: {
        ...removed,
        startCommit: null,
        headCommit: null,
        filesChanged: [],
        state: "new",
        merge: ws.merge === "none" ? "none" : "pending",
        resolverTaskId: null,
        verifyLog: null,
        updatedAt: this.#clock(),
      },
      keptAs,
    };
  }

  /** Removes a group's integration worktree (its branch stays: it holds the group's merged work). */
  async removeIntegrationWorktree(group: string): Promise<boolean> {
    const dir = join(this.#worktreesDir, group, INTEGRATION_DIR);
    if (!existsSync(dir)) return false;
    await this.#lock.with("repo", async () => {
      const root = this.#options.repo.root;
      await git(["worktree", "remove", "--force", dir], {
        cwd: root,
        env: this.#env,
        allowFailure: true,
      });
      await git(["worktree", "prune"], { cwd: root, env: this.#env, allowFailure: true });
    });
    return true;
  }

  /** The environment git runs with here (the user's, with an identity to commit with). */
  get gitEnv(): Record<string, string> {
    return this.#env;
  }

  /** Repairs one worktree whose agent was lost (see `recover`). */
  async #recoverOne(ws: TaskWorkspace, changed: TaskWorkspace[], notes: string[]): Promise<void> {
    if (!ws.path || ws.state === "removed") return;
    if (!existsSync(ws.path)) {
      changed.push({ ...ws, path: null, state: "removed", updatedAt: this.#clock() });
      return;
    }
    if (ws.resolves && (await this.#mergeInProgress(ws.path))) {
      if (ws.state === "active") changed.push({ ...ws, state: "idle", updatedAt: this.#clock() });
      notes.push(`${ws.branch}: a conflict resolution in progress is kept for its next attempt`);
      return;
    }
    await this.#clearStaleIndexLock(ws.path);
    if (await this.#abortMerge(ws.path)) {
      notes.push(`${ws.branch}: undid a merge of its dependencies cut off halfway`);
    }
    const committed = await this.#commitAll(
      ws.path,
      `WIP orchestrate: ${short(ws.taskId)} work left when its run ended`,
      false,
    );
    if (committed) notes.push(`${ws.branch}: committed the work its ended run left uncommitted`);
    if (committed || ws.state === "active") {
      changed.push({ ...(await this.#measured(ws)), state: "idle", updatedAt: this.#clock() });
    }
  }

  // ---- acquiring ------------------------------------------------------------------------------

  /** A workspace for a task submitted without one: its base is HEAD now. */
  async #seedNow(task: Task): Promise<TaskWorkspace> {
    const head = await gitOut(["rev-parse", "HEAD"], {
      cwd: this.#options.repo.root,
      env: this.#env,
    });
    const seed = workspaceSeed({ id: task.id, planId: task.planId, key: null }, head);
    return workspaceFromSeed(task.id, seed, this.#clock());
  }

  #pathOf(ws: TaskWorkspace): string {
    const prefix = `${BRANCH_PREFIX}/${ws.group}/`;
    const leaf = ws.branch.startsWith(prefix) ? ws.branch.slice(prefix.length) : short(ws.taskId);
    return join(this.#worktreesDir, ws.group, leaf.replaceAll("/", "-"));
  }

  /**
   * Makes sure the task's worktree exists on its branch (under the repository lock). Returns true when
   * the branch was created now (its tree must still be built), false when it existed (a retry).
   */
  async #ensureWorktree(ws: TaskWorkspace, path: string): Promise<boolean> {
    const root = this.#options.repo.root;
    await git(["worktree", "prune"], { cwd: root, env: this.#env, allowFailure: true });
    const registered = await this.#registered();
    if (registered.get(path) === `refs/heads/${ws.branch}` && existsSync(path)) return false;
    if (registered.has(path)) {
      // Twice forced: a worktree add cut off by a crash leaves its entry locked ("initializing").
      await git(["worktree", "remove", "--force", "--force", path], {
        cwd: root,
        env: this.#env,
        allowFailure: true,
      });
      await git(["worktree", "prune"], { cwd: root, env: this.#env, allowFailure: true });
    }
    if (existsSync(path)) {
      // A directory git does not know (a worktree add cut off by a crash): kept aside, not deleted.
      renameSync(path, `${path}.orphan-${this.#clock()}`);
    }
    mkdirSync(dirname(path), { recursive: true });
    if (await refExists(root, `refs/heads/${ws.branch}`, this.#env)) {
      await git(["worktree", "add", path, ws.branch], { cwd: root, env: this.#env });
      return false;
    }
    const start = await this.#startOf(ws);
    await git(["worktree", "add", "-b", ws.branch, path, start], { cwd: root, env: this.#env });
    return true;
  }

  /** Where a new branch starts: its base, or for a merge-queue resolver the integration branch. */
  async #startOf(ws: TaskWorkspace): Promise<string> {
    if (ws.resolves?.kind === "integration") {
      const branch = integrationBranch(ws.group);
      if (await refExists(this.#options.repo.root, `refs/heads/${branch}`, this.#env))
        return branch;
    }
    return ws.baseCommit;
  }

  /** Worktree paths git knows, with the ref each has checked out. */
  async #registered(): Promise<Map<string, string>> {
    const out = await gitOut(["worktree", "list", "--porcelain"], {
      cwd: this.#options.repo.root,
      env: this.#env,
    });
    const result = new Map<string, string>();
    let path: string | null = null;
    for (const line of out.split("\n")) {
      if (line.startsWith("worktree ")) path = line.slice("worktree ".length);
      else if (line.startsWith("branch ") && path) result.set(path, line.slice("branch ".length));
      else if (line === "detached" && path) result.set(path, "detached");
    }
    return result;
  }

  /**
   * Merges each dependency's branch into the task's new tree, resolvers' first. A conflict aborts that
   * merge and raises BaseConflict; a branch made just now (no agent has worked on it) is removed
   * again, so that the task's next start builds it afresh on the resolver's branch.
   */
  async #mergeDependencies(
    path: string,
    ws: TaskWorkspace,
    request: WorkspaceRequest,
    made: boolean,
  ): Promise<void> {
    const merged: string[] = [];
    const mergedTaskIds: string[] = [];
    for (const dep of request.dependencies) {
      const branch = dep.workspace.branch;
      const result = await git(
        [
          ...NO_SIGNING,
          "merge",
          "--no-verify",
          "--no-edit",
          "-m",
          `orchestrate: start ${short(ws.taskId)} from ${branch}`,
          branch,
        ],
        { cwd: path, env: this.#env, allowFailure: true },
      );
      if (result.code === 0) {
        merged.push(branch);
        mergedTaskIds.push(dep.task.id);
        continue;
      }
      const files = await conflictedFiles(path, this.#env);
      await git(["merge", "--abort"], { cwd: path, env: this.#env, allowFailure: true });
      if (files.length === 0) throw new Error(`could not merge ${branch}: ${result.stderr.trim()}`);
      if (made) await this.#lock.with("repo", () => this.#removeWorktree(path, ws.branch));
      throw new BaseConflict(ws, files, [...merged, branch], [...mergedTaskIds, dep.task.id]);
    }
  }

  /** A resolver's worktree: the merges it reconciles, the last left in progress with its conflicts. */
  async #startResolverMerge(path: string, ws: TaskWorkspace): Promise<void> {
    const merges = ws.resolves?.merges ?? [];
    for (const [i, branch] of merges.entries()) {
      const last = i === merges.length - 1;
      const args = last
        ? ["merge", "--no-commit", "--no-ff", branch]
        : [
            ...NO_SIGNING,
            "merge",
            "--no-verify",
            "--no-edit",
            "-m",
            `orchestrate: merge ${branch}`,
            branch,
          ];
      const result = await git(args, { cwd: path, env: this.#env, allowFailure: true });
      if (result.code !== 0 && !(last && (await this.#mergeInProgress(path)))) {
        throw new Error(`could not prepare the merge of ${branch}: ${result.stderr.trim()}`);
      }
    }
  }

  async #removeWorktree(path: string, branch: string): Promise<void> {
    const root = this.#options.repo.root;
    await git(["worktree", "remove", "--force", path], {
      cwd: root,
      env: this.#env,
      allowFailure: true,
    });
    await git(["branch", "-D", branch], { cwd: root, env: this.#env, allowFailure: true });
  }

  /**
   * Copies `.worktreeinclude` files and runs the set-up command, once per worktree (a marker in the
   * worktree's own git dir remembers it); a failing set-up fails the attempt with its output.
   */
  async #setUp(path: string): Promise<Partial<TaskWorkspace>> {
    const gitDir = await gitOut(["rev-parse", "--absolute-git-dir"], { cwd: path, env: this.#env });
    const marker = join(gitDir, SETUP_MARKER);
    if (existsSync(marker)) return {};
    const baseRel = relative(this.#options.repo.root, this.#options.baseDir);
    await copyWorktreeIncludes(
      this.#options.repo.root,
      path,
      this.#env,
      baseRel.startsWith("..") ? null : baseRel.split(sep).join("/"),
    );
    let setupLog: string | null = null;
    const command = this.#options.setupCommand;
    if (command) {
      const result = await runShell(command, {
        cwd: this.#subdir ? join(path, this.#subdir) : path,
        env: this.#options.env,
        timeoutMs: this.#timeoutMs,
      });
      setupLog = `$ ${command}\n${result.output}`;
      if (result.code !== 0) {
        throw new Error(
          `the set-up command failed (${result.timedOut ? "timed out" : `exit ${result.code}`}): ${command}\n${result.output.slice(-4000)}`,
        );
      }
    }
    writeFileSync(marker, `${new Date(this.#clock()).toISOString()}\n`);
    return setupLog === null ? {} : { setupLog };
  }

  // ---- releasing ------------------------------------------------------------------------------

  async #release(ws: TaskWorkspace, end: WorkspaceEnd): Promise<WorkspaceRelease> {
    const path = ws.path as string;
    if (!existsSync(path)) {
      return {
        record: { ...ws, state: "removed", path: null, updatedAt: this.#clock() },
        integration: null,
      };
    }
    if (ws.resolves && (await this.#mergeInProgress(path))) {
      const marked = await this.#filesWithMarkers(path, ws.resolves.files);
      if (!end.success || marked.length > 0) {
        // The conflict is not resolved: the merge stays in progress for the next attempt, as it is.
        const record = {
          ...(await this.#measured(ws)),
          state: "idle" as const,
          updatedAt: this.#clock(),
        };
        const integration: IntegrationResult | null = end.success
          ? { kind: "rejected", output: `conflict markers remain in ${marked.join(", ")}` }
          : null;
        return { record, integration };
      }
    }
    const message = end.success
      ? `orchestrate: ${short(ws.taskId)} done`
      : `WIP orchestrate: ${short(ws.taskId)} ${end.reason}`;
    await this.#commitAll(path, message, ws.resolves !== null);
    const strayed = await this.#backOnBranch(path, ws);
    const record: TaskWorkspace = {
      ...(await this.#measured(ws)),
      state: "idle",
      updatedAt: this.#clock(),
    };
    if (strayed) {
      // Its work is kept on another branch; merging the task branch would claim what is not on it.
      return end.success
        ? { record, integration: { kind: "rejected", output: strayed } }
        : { record, integration: null };
    }
    if (!end.success || ws.merge === "none") return { record, integration: null };
    const integration = await this.#lock.with(`group-${ws.group}`, () => this.#integrate(record));
    if (integration.kind === "merged") {
      const verifyLog = integration.verifyOutput ?? record.verifyLog;
      return { record: { ...record, merge: "merged", verifyLog }, integration };
    }
    if (integration.kind === "rejected") {
      return { record: { ...record, verifyLog: integration.output }, integration };
    }
    return { record, integration };
  }

  /**
   * An agent may have switched branches or detached HEAD in its worktree. When its commits descend
   * from the task branch, the branch is moved up to them and checked out again (nothing else changes
   * in the tree). Otherwise its work is kept on a branch of its own (`<branch>-strayed-<n>`), the task
   * branch is checked out again, and the reason is returned: the attempt must not count as merged.
   */
  async #backOnBranch(path: string, ws: TaskWorkspace): Promise<string | null> {
    const head = await git(["symbolic-ref", "-q", "HEAD"], {
      cwd: path,
      env: this.#env,
      allowFailure: true,
    });
    if (head.stdout.trim() === `refs/heads/${ws.branch}`) return null;
    const commit = await gitOut(["rev-parse", "HEAD"], { cwd: path, env: this.#env });
    const descends = await git(["merge-base", "--is-ancestor", ws.branch, commit], {
      cwd: path,
      env: this.#env,
      allowFailure: true,
    });
    if (descends.code === 0) {
      await git(["update-ref", `refs/heads/${ws.branch}`, commit], { cwd: path, env: this.#env });
      await git(["checkout", "-q", ws.branch], { cwd: path, env: this.#env });
      return null;
    }
    let kept = "";
    for (let n = 1; ; n++) {
      kept = `${ws.branch}-strayed-${n}`;
      if (!(await refExists(path, `refs/heads/${kept}`, this.#env))) break;
    }
    await git(["branch", kept, commit], { cwd: path, env: this.#env });
    await git(["checkout", "-q", "-f", ws.branch], { cwd: path, env: this.#env });
    return `the agent left its branch (HEAD was not on ${ws.branch} nor ahead of it); its work is kept on ${kept}`;
  }

  /** The record with the branch's head and changed files as git has them now. */
  async #measured(ws: TaskWorkspace): Promise<TaskWorkspace> {
    const path = ws.path as string;
    const head = await gitOut(["rev-parse", "HEAD"], { cwd: path, env: this.#env });
    // -z: names with spaces or non-ASCII characters come as they are, not quoted.
    const files = await git(["diff", "--name-only", "-z", ws.startCommit ?? ws.baseCommit, head], {
      cwd: path,
      env: this.#env,
    });
    return {
      ...ws,
      headCommit: head,
      filesChanged: files.stdout.split("\0").filter((f) => f !== ""),
    };
  }

  /**
   * Commits everything in the worktree (new, changed and deleted files), hooks skipped so that saving
   * work never fails for a linter. A merge in progress is concluded by it. Returns whether it committed.
   */
  async #commitAll(path: string, message: string, allowEmptyMerge: boolean): Promise<boolean> {
    await git(["add", "-A"], { cwd: path, env: this.#env });
    const staged = await git(["diff", "--cached", "--quiet"], {
      cwd: path,
      env: this.#env,
      allowFailure: true,
    });
    const merging = allowEmptyMerge && (await this.#mergeInProgress(path));
    if (staged.code === 0 && !merging) return false;
    await git([...NO_SIGNING, "commit", "-q", "--no-verify", "-m", message], {
      cwd: path,
      env: this.#env,
    });
    return true;
  }

  /**
   * A git process killed mid-commit (with its agent, or with a run) leaves `index.lock` behind, and
   * every later commit in that worktree would fail. Called only when no agent works there; a lock a
   * live git might still hold (younger than a few seconds) is left alone.
   */
  async #clearStaleIndexLock(path: string): Promise<void> {
    const gitDir = await gitOut(["rev-parse", "--absolute-git-dir"], { cwd: path, env: this.#env });
    const lock = join(gitDir, "index.lock");
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_INDEX_LOCK_MS) rmSync(lock, { force: true });
    } catch {
      // No lock: the usual case.
    }
  }

  /** Whether an integration worktree holds a merge an ended run left: in progress, or made but never verified. */
  async #integrationDirty(dir: string, branch: string): Promise<boolean> {
    if (await this.#mergeInProgress(dir)) return true;
    const head = await gitOut(["rev-parse", "HEAD"], { cwd: dir, env: this.#env });
    return head !== (await gitOut(["rev-parse", branch], { cwd: dir, env: this.#env }));
  }

  /** Aborts a merge in progress in one of our worktrees (never the user's); says whether there was one. */
  async #abortMerge(path: string): Promise<boolean> {
    if (!(await this.#mergeInProgress(path))) return false;
    await git(["merge", "--abort"], { cwd: path, env: this.#env, allowFailure: true });
    return true;
  }

  async #mergeInProgress(path: string): Promise<boolean> {
    return refExists(path, "MERGE_HEAD", this.#env);
  }

  /**
   * Files of a resolution that still hold conflict markers. Whether the agent staged its resolution
   * does not matter (the commit stages everything); the content does.
   */
  async #filesWithMarkers(path: string, files: readonly string[]): Promise<string[]> {
    const unmerged = await conflictedFiles(path, this.#env);
    const marked = new Set<string>();
    for (const file of new Set([...files, ...unmerged])) {
      try {
        if (CONFLICT_MARKER.test(readFileSync(join(path, file), "utf8"))) marked.add(file);
      } catch {
        // Deleted as part of the resolution.
      }
    }
    return [...marked];
  }

  // ---- the merge queue ------------------------------------------------------------------------

  /**
   * Merges a finished task's branch into its group's integration branch in the integration worktree
   * (holding the group's lock: one merge at a time, in the order tasks finish), then verifies the
   * result when a command is configured. The merge is made on a detached HEAD and the branch moved
   * to it only once verified (compare-and-swap), so that a conflict, a failed verification or a run
   * killed halfway leaves the integration branch where it was.
   */
  async #integrate(ws: TaskWorkspace): Promise<IntegrationResult> {
    const branch = integrationBranch(ws.group);
    const dir = join(this.#worktreesDir, ws.group, INTEGRATION_DIR);
    await this.#lock.with("repo", () => this.#ensureIntegration(ws, branch, dir));
    await this.#cleanIntegration(dir, branch);
    const before = await gitOut(["rev-parse", "HEAD"], { cwd: dir, env: this.#env });
    const merged = await git(
      [
        ...NO_SIGNING,
        "merge",
        "--no-verify",
        "--no-ff",
        "--no-edit",
        "-m",
        `orchestrate: merge ${ws.branch} (task ${short(ws.taskId)})`,
        ws.branch,
      ],
      { cwd: dir, env: this.#env, allowFailure: true },
    );
    if (merged.code !== 0) {
      const files = await conflictedFiles(dir, this.#env);
      await this.#cleanIntegration(dir, branch);
      if (files.length === 0)
        throw new Error(`could not merge ${ws.branch}: ${merged.stderr.trim()}`);
      return { kind: "conflict", files, integrationBranch: branch };
    }
    const command = this.#options.verifyCommand;
    let verifyOutput: string | null = null;
    if (command) {
      await this.#setUp(dir);
      const result = await runShell(command, {
        cwd: this.#subdir ? join(dir, this.#subdir) : dir,
        env: this.#options.env,
        timeoutMs: this.#timeoutMs,
      });
      verifyOutput = `$ ${command} (${result.timedOut ? "timed out" : `exit ${result.code}`})\n${result.output}`;
      if (result.code !== 0) {
        await this.#cleanIntegration(dir, branch);
        return { kind: "rejected", output: verifyOutput };
      }
    }
    const commit = await gitOut(["rev-parse", "HEAD"], { cwd: dir, env: this.#env });
    await git(["update-ref", `refs/heads/${branch}`, commit, before], { cwd: dir, env: this.#env });
    return { kind: "merged", commit, verifyOutput };
  }

  async #ensureIntegration(ws: TaskWorkspace, branch: string, dir: string): Promise<void> {
    const root = this.#options.repo.root;
    if (!(await refExists(root, `refs/heads/${branch}`, this.#env))) {
      await git(["branch", branch, ws.baseCommit], { cwd: root, env: this.#env });
    }
    const registered = await this.#registered();
    if (registered.has(dir) && existsSync(dir)) return;
    await git(["worktree", "prune"], { cwd: root, env: this.#env, allowFailure: true });
    if (existsSync(dir)) renameSync(dir, `${dir}.orphan-${this.#clock()}`);
    mkdirSync(dirname(dir), { recursive: true });
    // Detached: the branch moves only by update-ref, once a merge is verified.
    await git(["worktree", "add", "--detach", dir, branch], { cwd: root, env: this.#env });
  }

  /**
   * The integration worktree is ours alone: whatever a merge or verification cut off left is thrown
   * away, and the tree is put back at the integration branch's tip (detached).
   */
  async #cleanIntegration(dir: string, branch: string): Promise<void> {
    await this.#abortMerge(dir);
    await git(["checkout", "-q", "-f", "--detach", branch], { cwd: dir, env: this.#env });
  }
}

/** Paths of files in conflict in a worktree. */
async function conflictedFiles(dir: string, env: Record<string, string>): Promise<string[]> {
  const out = await git(["diff", "--name-only", "--diff-filter=U", "-z"], { cwd: dir, env });
  return out.stdout.split("\0").filter((p) => p !== "");
}

function promptNote(dir: string, ws: TaskWorkspace): string {
  const own =
    `You work in your own git worktree, ${dir}, on branch ${ws.branch}. Other agents work at the same ` +
    "time in worktrees of their own, on other branches: change files only here. Whatever you leave here " +
    "when you end is committed to your branch (you may commit yourself too) and merged for the tasks after you.";
  if (!ws.resolves) return own;
  const conflicted = ws.resolves.merges.at(-1) ?? "another branch";
  return (
    `${own}\n\nThis worktree has a merge in progress: ${conflicted} conflicts with your branch in ` +
    `${ws.resolves.files.join(", ") || "some files"}. Resolve every conflict so that both sides' work is kept, ` +
    "remove every conflict marker, and leave the files resolved; do not abort the merge or reset the branch."
  );
}

function short(id: string): string {
  return id.slice(0, 8);
}
