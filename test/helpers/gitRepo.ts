/**
 * Real git repositories in temporary directories for the worktree tests, and the fake agent they run:
 * a `Repo` sandbox (git helpers, the agent declared as backend `fake`), `makeRepo` (removed when the
 * test file ends), the `ACT {json}` task descriptions the agent acts on, and helpers reading branches.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after } from "node:test";
import type { TaskDetail } from "../../src/app/taskDetail.ts";
import type { RunResult, StartedChild } from "./nodeProcess.ts";
import { explain } from "./orchestrateCli.ts";
import { Sandbox } from "./sandbox.ts";
import { short } from "./taskIds.ts";

/**
 * The fake agent. A resolver's prompt ("Resolve a merge conflict ... Files in conflict: a, b." for a
 * merge into integration, "... their branches conflict in: a, b." for a dependent's base) makes it drop
 * the conflict markers of those files, keeping both sides; with FAKE_RESOLVER_GATE set it first waits
 * for that file to exist. Otherwise it reads the first `ACT {json}` line of its prompt (its own task's:
 * the description comes first). With `marker` (a path outside the worktree) it acts on the line the
 * first time and creates the marker; once the marker exists it acts on `again` instead. Then it:
 * `write`s {file: text} ($CWD becomes its working directory), writes its prompt's "The previous
 * attempt" section (or NONE) to `previous`, `report`s a file listing its cwd, the contents of the `see`
 * files and the mode bits of the `modes` files, then `exit`s with that code or stays alive `sleepMs`.
 */
export const AGENT = String.raw`
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
const prompt = process.argv[2] ?? "";
if (/^# Your task[^\n]*\n\nResolve a merge conflict/.test(prompt)) {
  const gate = process.env.FAKE_RESOLVER_GATE;
  if (gate) while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 50));
  const listed = /^Files in conflict: (.*)\.$/m.exec(prompt) ?? /their branches conflict in: (.*)\.$/m.exec(prompt);
  const files = (listed?.[1] ?? "").split(", ").filter(Boolean);
  for (const file of files) {
    const kept = readFileSync(file, "utf8").split("\n").filter((l) => !/^(<{7}|={7}|>{7}|\|{7})/.test(l));
    writeFileSync(file, kept.join("\n"));
  }
  console.log("resolved " + files.join(", "));
  process.exit(0);
}
let act = JSON.parse(/^ACT (.*)$/m.exec(prompt)?.[1] ?? "{}");
if (act.marker) {
  if (existsSync(act.marker)) act = act.again ?? {};
  else writeFileSync(act.marker, "ran\n");
}
for (const [file, text] of Object.entries(act.write ?? {})) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.replaceAll("$CWD", process.cwd()));
}
if (act.previous) {
  const section = /^## The previous attempt\n[\s\S]*?(?=^## |(?![\s\S]))/m.exec(prompt)?.[0];
  writeFileSync(act.previous, section ?? "NONE\n");
}
if (act.report) {
  const lines = ["cwd: " + process.cwd()];
  for (const f of act.see ?? []) lines.push(f + ": " + (existsSync(f) ? readFileSync(f, "utf8").trim() : "MISSING"));
  for (const f of act.modes ?? []) lines.push(f + " mode " + (existsSync(f) ? (statSync(f).mode & 0o777).toString(8) : "MISSING"));
  writeFileSync(act.report, lines.join("\n") + "\n");
}
console.log("did " + JSON.stringify(act));
if (act.exit !== undefined) process.exit(act.exit);
if (act.sleepMs) setTimeout(() => {}, act.sleepMs);
`;

export interface Act {
  write?: Record<string, string>;
  report?: string;
  see?: string[];
  modes?: string[];
  /** Where to write the prompt's "The previous attempt" section (NONE when it has none). */
  previous?: string;
  exit?: number;
  sleepMs?: number;
  /** A file outside the worktree: absent, this act runs and creates it; present, `again` runs. */
  marker?: string;
  again?: Act;
}

/** A task description: a title, then the line the fake agent acts on. */
export function task(title: string, act: Act): string {
  return `${title}\nACT ${JSON.stringify(act)}`;
}

/** The caller's GIT_* variables (GIT_DIR in a hook, say) must never point git at another repository. */
const NO_GIT_VARIABLES = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith("GIT_"))
    .map((name) => [name, undefined]),
);

export const INTEGRATION = "orchestrate/tasks/integration";

/** A sandbox whose working directory is a git repository with one commit. */
export class Repo extends Sandbox {
  override env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    return super.env({ ...NO_GIT_VARIABLES, ...extra });
  }

  /** `git <args>` in the repository, which must succeed; never takes optional locks (no index refresh). */
  git(args: readonly string[]): string {
    return execFileSync("git", args, {
      cwd: this.cwd,
      env: this.env({ GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" }),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  /** Whether `git <args>` succeeds. */
  gitOk(args: readonly string[]): boolean {
    return (
      spawnSync("git", args, {
        cwd: this.cwd,
        env: this.env({ GIT_OPTIONAL_LOCKS: "0" }),
        stdio: "ignore",
      }).status === 0
    );
  }

  /** A file's content at a commit or branch. */
  show(ref: string, file: string): string {
    return this.git(["show", `${ref}:${file}`]);
  }

  /** Whether `file` exists at a commit or branch. */
  has(ref: string, file: string): boolean {
    return this.gitOk(["cat-file", "-e", `${ref}:${file}`]);
  }

  hasBranch(branch: string): boolean {
    return this.gitOk(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
  }

  isAncestor(commit: string, of: string): boolean {
    return this.gitOk(["merge-base", "--is-ancestor", commit, of]);
  }

  /** The commit a ref names. */
  rev(ref: string): string {
    return this.git(["rev-parse", `${ref}^{commit}`]).trim();
  }

  /** Declares the fake agent as backend `fake` in `<base dir>/agents.json` (creating the base dir). */
  declareAgent(): void {
    const script = join(this.root, "agent.mjs");
    writeFileSync(script, AGENT);
    mkdirSync(this.path(".orchestrator"), { recursive: true });
    writeFileSync(
      this.path(".orchestrator", "agents.json"),
      JSON.stringify({
        backends: {
          fake: { binary: process.execPath, args: [script, "{prompt}"], outputFormat: "text" },
        },
      }),
    );
  }

  /** Submits a task for the fake agent and returns its id. */
  submitFake(description: string, ...flags: string[]): Promise<string> {
    return this.submit(description, "-b", "fake", ...flags);
  }

  async detail(id: string): Promise<TaskDetail> {
    return this.json<TaskDetail>(["task", id]);
  }

  /** `orchestrate run <args>`, which must exit 6: it finished, and a task it ran failed. */
  async runWithFailures(
    args: readonly string[],
    env: Record<string, string> = {},
  ): Promise<RunResult> {
    const result = await this.run(["run", ...args], env);
    assert.equal(result.code, 6, explain(["run", ...args], result));
    return result;
  }

  /** `orchestrate run <args>`, which must exit 0. */
  async runAll(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
    const result = await this.run(["run", ...args], env);
    assert.equal(result.code, 0, explain(["run", ...args], result));
    return result;
  }

  /** The worktree directory of an ad-hoc task. */
  worktree(id: string): string {
    return this.path(".orchestrator", "worktrees", "tasks", short(id));
  }

  /** A path beside the repository (in the sandbox root), for markers and reports no task may commit. */
  outside(name: string): string {
    return join(this.root, name);
  }
}

const repos: Repo[] = [];
after(() => {
  for (const repo of repos) repo.remove();
});

/** A new repository on branch `main` holding `files` (and a README) in one commit; removed at the end. */
export function makeRepo(files: Record<string, string> = {}): Repo {
  const repo = new Repo();
  repo.create();
  repos.push(repo);
  repo.git(["init", "-q", "-b", "main"]);
  repo.git(["config", "user.name", "Worktree Test"]);
  repo.git(["config", "user.email", "worktree-test@example.com"]);
  repo.git(["config", "commit.gpgsign", "false"]);
  for (const [file, text] of Object.entries({ "README.md": "# project\n", ...files })) {
    mkdirSync(dirname(repo.path(file)), { recursive: true });
    writeFileSync(repo.path(file), text);
  }
  repo.git(["add", "-A"]);
  repo.git(["commit", "-q", "-m", "initial"]);
  return repo;
}

/** The ad-hoc task's branch. */
export function branchOf(id: string): string {
  return `orchestrate/tasks/${short(id)}`;
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Collects a started child's output and waits for its end, killing it after `limitMs`. */
export async function finished(
  child: StartedChild,
  limitMs: number,
): Promise<{ code: number | null; out: string }> {
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  try {
    const code = await child.exited;
    return { code, out };
  } finally {
    clearTimeout(timer);
  }
}

/** The commits of `branch` not on `not` (main by default), as `<sha> <subject>`, newest first. */
export function commitsOf(
  repo: Repo,
  branch: string,
  not = "main",
): { sha: string; subject: string }[] {
  return repo
    .git(["log", "--format=%H %s", branch, "--not", not])
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => ({ sha: l.slice(0, 40), subject: l.slice(41) }));
}

export function filesOfCommit(repo: Repo, sha: string): string[] {
  return repo
    .git(["show", "--name-only", "--format=", sha])
    .split("\n")
    .filter((l) => l !== "");
}

/** Every file of the working tree (outside `skip`) with a hash of its bytes and its mode. */
export function treeHashes(root: string, skip: readonly string[], at = ""): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of readdirSync(join(root, at), { withFileTypes: true })) {
    const rel = at ? `${at}/${entry.name}` : entry.name;
    if (skip.includes(rel)) continue;
    if (entry.isDirectory()) Object.assign(result, treeHashes(root, skip, rel));
    else {
      const path = join(root, rel);
      result[rel] = `${statSync(path).mode.toString(8)} ${sha256(readFileSync(path))}`;
    }
  }
  return result;
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
