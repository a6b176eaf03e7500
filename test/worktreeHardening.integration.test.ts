/**
 * Worktree isolation against what users' repositories and agents really do: an agent that detaches
 * HEAD, a repository that signs commits and has hooks that refuse merges, an untracked file in the
 * way of `merge`; and `run`'s exit code (6 when a task failed, 130 after Ctrl-C). Agents here are shell lines (`SH:` in the task description), run by a custom
 * backend.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { taskBranch } from "../src/core/taskWorkspace.ts";
import { branchOf, INTEGRATION, makeRepo, type Repo, waitFor } from "./helpers/gitRepo.ts";
import { explain, startOrchestrate } from "./helpers/orchestrateCli.ts";

/** Declares backend `sh`: it runs the `SH:` line of its prompt in its working directory. */
function declareShell(r: Repo): void {
  mkdirSync(r.path(".orchestrator"), { recursive: true });
  writeFileSync(
    r.path(".orchestrator", "agents.json"),
    JSON.stringify({
      backends: {
        sh: {
          binary: "sh",
          args: [
            "-c",
            'eval "$(printf %s "$1" | sed -n "s/^SH://p" | head -n 1)"',
            "agent",
            "{prompt}",
          ],
          outputFormat: "text",
        },
      },
    }),
  );
}

function submitShell(r: Repo, line: string, ...flags: string[]): Promise<string> {
  return r.submit(`Shell step\nSH:${line}`, "-b", "sh", ...flags);
}

describe("an agent that leaves its branch", () => {
  it("has its commits brought back onto the task branch and merged, not lost", async () => {
    const r = makeRepo();
    declareShell(r);
    const id = await submitShell(r, "git checkout -q --detach && echo precious > precious.txt");
    await r.runAll([]);
    assert.equal(r.show(branchOf(id), "precious.txt"), "precious\n");
    assert.equal(r.show(INTEGRATION, "precious.txt"), "precious\n");
    const head = r.git(["-C", r.worktree(id), "symbolic-ref", "HEAD"]).trim();
    assert.equal(head, `refs/heads/${branchOf(id)}`, "the worktree is back on its branch");
  });
});

describe("a repository that signs commits and refuses merges in hooks", () => {
  it("does not stop orchestrate's own commits and merges", async () => {
    const r = makeRepo();
    declareShell(r);
    r.git(["config", "commit.gpgsign", "true"]);
    r.git(["config", "gpg.program", "/bin/false"]);
    const hooks = r.path(".git", "hooks");
    mkdirSync(hooks, { recursive: true });
    for (const hook of ["pre-commit", "pre-merge-commit", "commit-msg"]) {
      writeFileSync(join(hooks, hook), "#!/bin/sh\nexit 1\n");
      chmodSync(join(hooks, hook), 0o755);
    }
    const id = await submitShell(r, "echo signed > a.txt");
    await r.runAll([]);
    assert.equal(r.show(branchOf(id), "a.txt"), "signed\n");
    assert.equal(r.show(INTEGRATION, "a.txt"), "signed\n");
    assert.equal((await r.detail(id)).workspace?.merge, "merged");
  });
});

describe("merge with an untracked file in the way", () => {
  it("is refused as a conflict (exit 4) naming the file, and changes nothing", async () => {
    const r = makeRepo();
    declareShell(r);
    await submitShell(r, "echo from-agent > notes.txt");
    await r.runAll([]);
    writeFileSync(r.path("notes.txt"), "mine\n");
    const head = r.rev("HEAD");
    const result = await r.run(["merge", "tasks"]);
    assert.equal(result.code, 4, explain(["merge", "tasks"], result));
    assert.match(result.stderr, /untracked files/);
    assert.match(result.stderr, /notes\.txt/);
    assert.doesNotMatch(result.stderr, /bug in orchestrate/);
    assert.equal(r.rev("HEAD"), head);
    assert.equal(readFileSync(r.path("notes.txt"), "utf8"), "mine\n");
  });
});

describe("run's exit code, for scripts", () => {
  it("is 6 when a task it ran failed, 0 when all completed", async () => {
    const r = makeRepo();
    declareShell(r);
    await submitShell(r, "exit 1", "--max-attempts", "1");
    const failed = await r.run(["run"]);
    assert.equal(failed.code, 6, explain(["run"], failed));
    await submitShell(r, "echo ok > ok.txt");
    const ok = await r.run(["run"]);
    assert.equal(ok.code, 0, explain(["run"], ok));
  });

  it("is 130 after Ctrl-C, once the running agent has finished", async () => {
    const r = makeRepo();
    declareShell(r);
    const marker = join(r.root, "started");
    await submitShell(r, `touch ${marker}; sleep 1; echo done > done.txt`);
    await submitShell(r, "echo never > never.txt");
    const run = startOrchestrate(r.cwd, r.env(), ["run", "-m", "1"]);
    let out = "";
    run.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor("the first agent to start", () => existsSync(marker));
    run.kill("SIGINT");
    assert.equal(await run.exited, 130, out);
    assert.match(out, /interrupted/);
  });
});

describe("branch names", () => {
  it("never give a plan task its plan's integration branch", () => {
    const branch = taskBranch("plan-1a2b3c4d", "ffffffffffffffff", "integration");
    assert.notEqual(branch, "orchestrate/plan-1a2b3c4d/integration");
    assert.equal(branch, "orchestrate/plan-1a2b3c4d/integration-task");
  });
});
