// The cost of a git worktree per task on a repository of 10,000 files: the time GitWorktreeWorkspaces
// takes to create a task's worktree (no set-up command), to release it with a one-file change (commit,
// merge into the integration branch) and to clean it up (worktree removed, merged branch deleted),
// each against the raw git commands alone, timed in the same run on the same repository; and the disk
// one worktree takes, against the repository's own checkout. bench/run.ts reports these rows.
//
//   node bench/worktrees.ts [--quick]   (this measurement alone: prints its rows, writes no report)
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { gitEnvironment } from "../src/adapters/workspaces/git/git.ts";
import { probeRepository } from "../src/adapters/workspaces/git/gitRepository.ts";
import { openGitWorktreeWorkspaces } from "../src/adapters/workspaces/git/gitWorktreeWorkspaces.ts";
import { DEFAULT_BASE_DIR } from "../src/core/config.ts";
import type { Task } from "../src/core/task.ts";
import {
  integrationBranch,
  type TaskWorkspace,
  workspaceFromSeed,
  workspaceSeed,
} from "../src/core/taskWorkspace.ts";

/** The repository: `pkgA/modB/fileC.txt`, 10 × 10 × 100 small files, one commit. */
export const WORKTREE_FILES = 10_000;
const DIRS = 10;
const SUBDIRS = 10;
const PER_DIR = WORKTREE_FILES / (DIRS * SUBDIRS);

/** Tasks timed (after one warm-up task each for orchestrate and for raw git). */
export function worktreeTasks(quick: boolean): number {
  return quick ? 4 : 12;
}

export interface WorktreeBenchRow {
  measure: string;
  result: string;
}

interface Options {
  tmp: string;
  quick: boolean;
  log: (message: string) => void;
}

interface Stats {
  median: number;
  min: number;
  max: number;
}

const execFileAsync = promisify(execFile);
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtMs = (s: Stats): string =>
  `${fmt(s.median, 1)} ms (min ${fmt(s.min, 1)}, max ${fmt(s.max, 1)})`;
const mib = (kib: number): string => `${fmt(kib / 1024, 1)} MiB`;
const ratio = (a: number, b: number): string => `${fmt(a / b, 2)}×`;

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  const median = sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? Number.NaN) + hi) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** Sizes in KiB as `du -sk` gives them (disk used: every small file takes at least one block). */
function duKib(path: string, ...flags: string[]): number {
  const result = spawnSync("du", ["-sk", ...flags, path], { encoding: "utf8" });
  const kib = Number(result.stdout.split("\t")[0]);
  if (result.status !== 0 || !Number.isFinite(kib)) {
    throw new Error(`du -sk ${path} failed: ${result.stderr}`);
  }
  return kib;
}

function filePath(i: number): string {
  const file = i % PER_DIR;
  const sub = Math.floor(i / PER_DIR) % SUBDIRS;
  const dir = Math.floor(i / (PER_DIR * SUBDIRS));
  return join(`pkg${dir}`, `mod${sub}`, `file${String(file).padStart(3, "0")}.txt`);
}

/** A task as the queue hands one to the runner: claimed, its agent starting. */
function benchTask(n: number, now: number): Task {
  return {
    id: randomBytes(8).toString("hex"),
    description: `Worktree benchmark task ${n}`,
    agentType: null,
    status: "in_progress",
    priority: 2,
    context: null,
    createdAt: now,
    assignedAt: now,
    completedAt: null,
    assignedTo: `agent-wt${n}`,
    output: null,
    error: null,
    planId: null,
    attempts: 1,
    maxAttempts: 1,
    timeoutMs: null,
    runAfter: now,
    leaseExpiresAt: null,
    workerId: "bench",
    backend: null,
    startedAt: now,
    updatedAt: now,
    costUsd: null,
    inputTokens: null,
    outputTokens: null,
    sessionId: null,
    unmetDependencies: 0,
  };
}

/** Runs every worktree measurement and returns its rows. */
export async function benchWorktrees(options: Options): Promise<WorktreeBenchRow[]> {
  const tasks = worktreeTasks(options.quick);
  const repo = mkdtempSync(join(options.tmp, "worktrees-"));
  // The user's environment minus anything pointing git elsewhere (GIT_DIR in a hook, say).
  const env = gitEnvironment(process.env);
  const git = async (args: readonly string[], cwd = repo): Promise<string> =>
    (await execFileAsync("git", args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
  try {
    // ---- the repository: one commit of WORKTREE_FILES small files, packed as a clone would be
    options.log(`building a git repository of ${fmt(WORKTREE_FILES)} files`);
    let t0 = performance.now();
    for (let i = 0; i < WORKTREE_FILES; i++) {
      const path = join(repo, filePath(i));
      if (i % PER_DIR === 0) mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, `// ${filePath(i)}\nexport const value${i} = ${i};\n`);
    }
    await git(["init", "-q", "-b", "main"]);
    for (const [key, value] of [
      ["user.name", "Bench"],
      ["user.email", "bench@localhost"],
      ["commit.gpgsign", "false"],
    ] as const) {
      await git(["config", key, value]);
    }
    await git(["add", "-A"]);
    await git(["-c", "gc.auto=0", "commit", "-q", "--no-verify", "-m", "10,000 files"]);
    await git(["gc", "-q"]);
    const head = (await git(["rev-parse", "HEAD"])).trim();
    const checkoutKib = duKib(repo, "--exclude=.git");
    options.log(
      `  built in ${fmt((performance.now() - t0) / 1000, 1)} s; checkout ${mib(checkoutKib)}, .git ${mib(duKib(join(repo, ".git")))}`,
    );

    const baseDir = join(repo, DEFAULT_BASE_DIR);
    const probed = await probeRepository(repo);
    if (!probed?.head) throw new Error(`${repo} is not a git repository with a commit`);
    const workspaces = await openGitWorktreeWorkspaces({
      repo: probed,
      projectDir: repo,
      baseDir,
      setupCommand: null,
      verifyCommand: null,
      env: process.env,
    });
    const rawDir = join(baseDir, "raw");
    mkdirSync(rawDir, { recursive: true });
    const rawIntegration = join(rawDir, "_integration");
    await git(["worktree", "add", "-q", "-b", "raw/integration", rawIntegration, "HEAD"]);

    const raw = { add: [] as number[], release: [] as number[], remove: [] as number[] };
    const orch = { add: [] as number[], release: [] as number[], remove: [] as number[] };
    const disk = { worktree: [] as number[], admin: [] as number[], raw: [] as number[] };
    /** .git's growth (worktrees' own git dirs aside) over orchestrate's steps only. */
    let gitGrowthKib = 0;
    const gitKib = (): number => duKib(join(repo, ".git"), "--exclude=worktrees");
    let firstRelease = Number.NaN;
    // Each task changes one file of its own, so no merge conflicts.
    let changed = 0;
    const change = (dir: string): void =>
      appendFileSync(join(dir, filePath(changed++)), "// changed by its task\n");
    /** What the clean-up phase removes: raw worktrees and branches, orchestrate's task records. */
    const rawLeft: { dir: string; branch: string }[] = [];
    const orchLeft: TaskWorkspace[] = [];

    /** Raw git: `worktree add`, then a one-file change committed and merged. */
    const rawTask = async (n: number, timed: boolean): Promise<void> => {
      const branch = `raw/t${n}`;
      const dir = join(rawDir, `t${n}`);
      t0 = performance.now();
      await git(["worktree", "add", "-q", "-b", branch, dir, "HEAD"]);
      const added = performance.now() - t0;
      const kib = duKib(dir);
      change(dir);
      t0 = performance.now();
      await git(["add", "-A"], dir);
      await git(["commit", "-q", "--no-verify", "-m", `raw task ${n}`], dir);
      await git(
        ["merge", "-q", "--no-ff", "--no-edit", "-m", `merge ${branch}`, branch],
        rawIntegration,
      );
      const released = performance.now() - t0;
      rawLeft.push({ dir, branch });
      if (!timed) return;
      raw.add.push(added);
      raw.release.push(released);
      disk.raw.push(kib);
    };

    /** Orchestrate: `acquire`, then the same kind of one-file change released (committed, merged). */
    const orchTask = async (n: number, timed: boolean): Promise<void> => {
      const now = Date.now();
      const task = benchTask(n, now);
      const record = workspaceFromSeed(
        task.id,
        workspaceSeed({ id: task.id, planId: null, key: null }, head),
        now,
      );
      const gitBefore = gitKib();
      t0 = performance.now();
      const ws = await workspaces.acquire({
        task,
        agentId: task.assignedTo ?? "",
        record,
        dependencies: [],
      });
      const added = performance.now() - t0;
      const path = ws.record?.path ?? ws.dir;
      const worktreeKib = duKib(path);
      const adminDir = (await git(["rev-parse", "--absolute-git-dir"], path)).trim();
      const adminKib = duKib(adminDir);
      change(ws.dir);
      t0 = performance.now();
      const release = await ws.release({ success: true, reason: "completed" });
      const released = performance.now() - t0;
      if (release.integration?.kind !== "merged" || !release.record) {
        throw new Error(`task ${n} was not merged: ${JSON.stringify(release.integration)}`);
      }
      orchLeft.push(release.record);
      if (!timed) {
        firstRelease = released;
        return;
      }
      gitGrowthKib += gitKib() - gitBefore;
      orch.add.push(added);
      orch.release.push(released);
      disk.worktree.push(worktreeKib);
      disk.admin.push(adminKib);
    };

    // Tasks first, clean-up after them all, as `orchestrate cleanup` removes finished tasks' worktrees
    // in a batch. (Deleting 10,000 files just before creating 10,000 more would also slow the creation
    // on some file systems: ext4 without a journal skips inodes freed in the last half minute or so.)
    options.log(`one warm-up task each, then ${tasks} tasks with raw git and with orchestrate`);
    await rawTask(0, false);
    await orchTask(0, false);
    for (let n = 1; n <= tasks; n++) {
      await rawTask(n, true);
      await orchTask(n, true);
    }
    options.log(`cleaning up the ${tasks + 1} worktrees of each`);
    for (const [i, left] of rawLeft.entries()) {
      t0 = performance.now();
      await git(["worktree", "remove", "--force", left.dir]);
      await git(["branch", "-q", "-D", left.branch]);
      const removed = performance.now() - t0;
      const record = orchLeft[i];
      if (!record) throw new Error(`no orchestrate task ${i} to clean up`);
      const gitBefore = gitKib();
      t0 = performance.now();
      const removal = await workspaces.remove(record, { deleteBranch: "merged" });
      const orchRemoved = performance.now() - t0;
      if (!removal.removedWorktree || !removal.deletedBranch) {
        throw new Error(`task ${i}'s clean-up left something: ${JSON.stringify(removal)}`);
      }
      if (i === 0) continue; // the warm-up tasks
      gitGrowthKib += gitKib() - gitBefore;
      raw.remove.push(removed);
      orch.remove.push(orchRemoved);
    }

    // Everything was merged and cleaned up: only the two integration worktrees are left, no task branch.
    const into = integrationBranch("tasks");
    const merges = Number((await git(["rev-list", "--count", "--merges", into])).trim());
    const worktrees = (await git(["worktree", "list", "--porcelain"])).match(/^worktree /gm) ?? [];
    const branches = (await git(["branch", "--list", "orchestrate/*", "raw/*"])).trim().split("\n");
    if (merges !== tasks + 1 || worktrees.length !== 3 || branches.length !== 2) {
      throw new Error(
        `after the tasks: ${merges} merges into ${into}, ${worktrees.length} worktrees, branches ${branches.join(", ")}`,
      );
    }

    const s = {
      rawAdd: stats(raw.add),
      rawRelease: stats(raw.release),
      rawRemove: stats(raw.remove),
      add: stats(orch.add),
      release: stats(orch.release),
      remove: stats(orch.remove),
      rawBoth: stats(raw.add.map((a, i) => a + (raw.remove[i] ?? Number.NaN))),
      both: stats(orch.add.map((a, i) => a + (orch.remove[i] ?? Number.NaN))),
      rawAll: stats(
        raw.add.map((a, i) => a + (raw.release[i] ?? Number.NaN) + (raw.remove[i] ?? Number.NaN)),
      ),
      all: stats(
        orch.add.map(
          (a, i) => a + (orch.release[i] ?? Number.NaN) + (orch.remove[i] ?? Number.NaN),
        ),
      ),
    };
    const worktreeKib = stats(disk.worktree).median;
    const adminKib = stats(disk.admin).median;
    const rawKib = stats(disk.raw).median;
    const where = `${fmt(WORKTREE_FILES)}-file repository, ${tasks} tasks`;
    return [
      {
        measure: `Baseline: \`git worktree add -b <branch> <dir> HEAD\`, ${where}`,
        result: fmtMs(s.rawAdd),
      },
      {
        measure:
          "Baseline: a one-file change, `git add -A` + `git commit` in the worktree, `git merge --no-ff` in an integration worktree",
        result: fmtMs(s.rawRelease),
      },
      {
        measure: "Baseline: `git worktree remove --force <dir>` + `git branch -D <branch>`",
        result: fmtMs(s.rawRemove),
      },
      {
        measure: `Worktree per task, creation: \`GitWorktreeWorkspaces.acquire\` (no set-up command), ${where}`,
        result: `${fmtMs(s.add)}; ${ratio(s.add.median, s.rawAdd.median)} raw \`git worktree add\``,
      },
      {
        measure:
          "Worktree per task, release of a one-file change: `release` (commit, merge into the integration branch)",
        result: `${fmtMs(s.release)}; ${ratio(s.release.median, s.rawRelease.median)} the raw commit + merge; the group's first release, which also checks out the integration worktree: ${fmt(firstRelease, 1)} ms`,
      },
      {
        measure: 'Worktree per task, clean-up: `remove` with `deleteBranch: "merged"`',
        result: `${fmtMs(s.remove)}; ${ratio(s.remove.median, s.rawRemove.median)} raw \`git worktree remove\` + \`git branch -D\``,
      },
      {
        measure: "Worktree per task in all: creation + release + clean-up",
        result: `${fmtMs(s.all)}; ${ratio(s.all.median, s.rawAll.median)} raw git (${fmt(s.rawAll.median, 1)} ms). Creation + clean-up alone: ${fmt(s.both.median, 1)} ms, ${ratio(s.both.median, s.rawBoth.median)} raw add + remove (${fmt(s.rawBoth.median, 1)} ms)`,
      },
      {
        measure: `Disk of one task's worktree, ${fmt(WORKTREE_FILES)}-file repository`,
        result: `${mib(worktreeKib + adminKib)}: its files ${mib(worktreeKib)} + its git dir in .git/worktrees ${mib(adminKib)} (the index); raw \`git worktree add\` ${mib(rawKib)} of files; the repository's own checkout ${mib(checkoutKib)}; .git grows ${fmt(gitGrowthKib / tasks)} KiB per task merged and cleaned up`,
      },
    ];
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick");
  const tmp = mkdtempSync(join(os.tmpdir(), "orchestrate-bench-"));
  const started = performance.now();
  const log = (message: string): void => {
    const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${t}s] ${message}\n`);
  };
  try {
    for (const row of await benchWorktrees({ tmp, quick, log })) {
      process.stdout.write(`${row.measure}\n    ${row.result}\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
