/**
 * Worktree isolation end to end, on real git repositories in temporary directories: each task works
 * in a worktree of its own on its own branch, dependents start from their dependencies' branches,
 * successes merge into the group's integration branch (a conflict queues a resolver), whatever an
 * agent leaves is committed on its branch however it ends, and the user's own checkout is never
 * touched. The agents are one small node script (helpers/gitRepo.ts) that does what its task's
 * `ACT {json}` line says; results are read straight from git.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { TaskDetail } from "../src/app/taskDetail.ts";
import {
  branchOf,
  commitsOf,
  filesOfCommit,
  finished,
  INTEGRATION,
  makeRepo,
  type Repo,
  sha256,
  task,
  treeHashes,
  waitFor,
} from "./helpers/gitRepo.ts";
import type { RunResult } from "./helpers/nodeProcess.ts";
import { explain, startOrchestrate } from "./helpers/orchestrateCli.ts";
import type { StatusJson } from "./helpers/orchestrateJson.ts";
import { short } from "./helpers/taskIds.ts";

const LOCK_TROUBLE = /index\.lock|could not lock|unable to create .*\.lock|cannot lock ref/i;

/** Whether two agent runs overlapped in time. */
function overlap(a: TaskDetail, b: TaskDetail): boolean {
  const [ra, rb] = [a.agentRuns[0], b.agentRuns[0]];
  assert.ok(ra && rb && ra.endedAt !== null && rb.endedAt !== null, "both agents ran and ended");
  return ra.startedAt < (rb.endedAt ?? 0) && rb.startedAt < (ra.endedAt ?? 0);
}

describe("two tasks in parallel, and a task that depends on both", () => {
  let r: Repo;
  let a = "";
  let b = "";
  let c = "";
  let ran: RunResult | null = null;

  before(async () => {
    r = makeRepo();
    r.declareAgent();
    a = await r.submitFake(
      task("Write the alpha module", { write: { "alpha.txt": "alpha by A\n" }, sleepMs: 800 }),
    );
    b = await r.submitFake(
      task("Write the beta module", { write: { "beta.txt": "beta by B\n" }, sleepMs: 800 }),
    );
    c = await r.submitFake(
      task("Wire alpha and beta together", {
        report: "seen.txt",
        see: ["alpha.txt", "beta.txt"],
      }),
      "-d",
      `${a},${b}`,
    );
    ran = await r.runAll(["-m", "2"]);
  });

  it("both parallel tasks' files land on the integration branch", async () => {
    assert.match(ran?.stdout ?? "", /3 completed, 0 failed/);
    const [da, db] = [await r.detail(a), await r.detail(b)];
    assert.equal(da.status, "completed");
    assert.equal(db.status, "completed");
    assert.ok(overlap(da, db), "the two agents ran at the same time");
    assert.equal(r.show(branchOf(a), "alpha.txt"), "alpha by A\n");
    assert.equal(r.show(branchOf(b), "beta.txt"), "beta by B\n");
    assert.ok(!r.gitOk(["cat-file", "-e", `${branchOf(a)}:beta.txt`]), "A never saw B's file");
    assert.equal(r.show(INTEGRATION, "alpha.txt"), "alpha by A\n");
    assert.equal(r.show(INTEGRATION, "beta.txt"), "beta by B\n");
    assert.ok(r.isAncestor(branchOf(a), INTEGRATION), "A's branch is merged into integration");
    assert.ok(r.isAncestor(branchOf(b), INTEGRATION), "B's branch is merged into integration");
    assert.ok(!r.gitOk(["cat-file", "-e", "main:alpha.txt"]), "the user's main is untouched");
  });

  it("the dependent's agent finds both dependencies' files in its worktree when it starts", () => {
    const seen = r.show(branchOf(c), "seen.txt");
    assert.match(seen, /^cwd: .*\.orchestrator\/worktrees\/tasks\//m);
    assert.match(seen, /^alpha\.txt: alpha by A$/m);
    assert.match(seen, /^beta\.txt: beta by B$/m);
    assert.ok(r.isAncestor(branchOf(a), branchOf(c)), "C's branch starts from A's");
    assert.ok(r.isAncestor(branchOf(b), branchOf(c)), "C's branch starts from B's");
    assert.match(r.show(INTEGRATION, "seen.txt"), /beta by B/);
  });
});

describe("two tasks changing the same lines", () => {
  it("queue a resolver naming the file, and neither side's commits are lost", async () => {
    const r = makeRepo({ "shared.txt": "one\ntwo\nthree\n" });
    r.declareAgent();
    const a = await r.submitFake(
      task("Say two the A way", {
        write: { "shared.txt": "one\ntwo by A\nthree\n" },
        sleepMs: 300,
      }),
    );
    const b = await r.submitFake(
      task("Say two the B way", {
        write: { "shared.txt": "one\ntwo by B\nthree\n" },
        sleepMs: 300,
      }),
    );
    await r.runAll(["-m", "2"]);

    const status = await r.json<StatusJson>(["status", "-n", "20"]);
    assert.equal(status.total, 3, "the two tasks and one resolver");
    const resolver = status.recent.find((t) => t.id !== a && t.id !== b);
    assert.ok(resolver, "a resolver task was queued");
    assert.match(resolver.description, /Resolve a merge conflict/);
    assert.match(resolver.description, /Files in conflict: shared\.txt\./);
    assert.equal((await r.detail(a)).status, "completed");
    assert.equal((await r.detail(b)).status, "completed");

    // Both tasks' branches still exist, with their own change as their head's content.
    assert.ok(r.hasBranch(branchOf(a)), "A's branch still exists");
    assert.ok(r.hasBranch(branchOf(b)), "B's branch still exists");
    assert.equal(r.show(branchOf(a), "shared.txt"), "one\ntwo by A\nthree\n");
    assert.equal(r.show(branchOf(b), "shared.txt"), "one\ntwo by B\nthree\n");
    assert.ok(commitsOf(r, branchOf(a)).some((c) => c.subject === `orchestrate: ${short(a)} done`));
    assert.ok(commitsOf(r, branchOf(b)).some((c) => c.subject === `orchestrate: ${short(b)} done`));

    // The loser's branch is the one the resolver's branch is named after; both are reachable from it.
    const branches = r
      .git(["for-each-ref", "--format=%(refname:short)", "refs/heads/orchestrate/tasks/"])
      .split("\n");
    const resolverBranch = branches.find((name) => /-merge-[0-9a-f]{4}$/.test(name));
    assert.ok(resolverBranch, `a resolver branch among ${branches.join(", ")}`);
    assert.ok(
      [branchOf(a), branchOf(b)].some((name) => resolverBranch.startsWith(`${name}-merge-`)),
      `${resolverBranch} is named after one of the two tasks' branches`,
    );
    for (const id of [a, b]) {
      assert.ok(r.isAncestor(branchOf(id), resolverBranch), `${branchOf(id)} is in the resolver's`);
    }

    // The resolver ran (in the same run) and its resolution reached integration with both sides.
    assert.equal((await r.detail(resolver.id)).status, "completed");
    for (const id of [a, b]) {
      assert.ok(r.isAncestor(branchOf(id), INTEGRATION), `${branchOf(id)} reached integration`);
    }
    const merged = r.show(INTEGRATION, "shared.txt");
    assert.match(merged, /two by A/);
    assert.match(merged, /two by B/);
    assert.doesNotMatch(merged, /^(<{7}|={7}|>{7})/m);
  });
});

describe("agents that do not succeed", () => {
  let r: Repo;
  const ids = { killed: "", timedOut: "", crashed: "" };
  let runOutput = "";

  before(async () => {
    r = makeRepo();
    r.declareAgent();
    ids.killed = await r.submitFake(
      task("Work until killed", { write: { "killed-part.txt": "half of it\n" }, sleepMs: 30_000 }),
      "--max-attempts",
      "1",
    );
    ids.timedOut = await r.submitFake(
      task("Work past the limit", {
        write: { "timeout-part.txt": "started\n" },
        sleepMs: 30_000,
      }),
      "--timeout",
      "2s",
      "--max-attempts",
      "1",
    );
    ids.crashed = await r.submitFake(
      task("Work then crash", { write: { "crash-part.txt": "before the crash\n" }, exit: 3 }),
      "--max-attempts",
      "1",
    );
    const run = startOrchestrate(r.cwd, r.env(), ["run", "-m", "3"]);
    const ended = finished(run, 20_000);
    const partial = join(r.worktree(ids.killed), "killed-part.txt");
    await waitFor("the agent to be killed to write its file", () => existsSync(partial));
    const kill = await r.run(["kill", ids.killed]);
    assert.equal(kill.code, 0, explain(["kill", ids.killed], kill));
    const { code, out } = await ended;
    runOutput = out;
    assert.equal(code, 6, `orchestrate run (whose tasks failed) exited ${code}:\n${out}`);
  });

  /** The WIP commit on the task's branch holding `file` with `text`. */
  function wip(id: string, file: string, text: string): string {
    const branch = branchOf(id);
    assert.ok(r.hasBranch(branch), `${branch} exists`);
    const commits = commitsOf(r, branch);
    const found = commits.find(
      (c) =>
        c.subject.startsWith(`WIP orchestrate: ${short(id)} `) &&
        filesOfCommit(r, c.sha).includes(file),
    );
    assert.ok(
      found,
      `a WIP commit with ${file} on ${branch}; it has: ${JSON.stringify(commits)}\n${runOutput}`,
    );
    assert.equal(r.show(branch, file), text);
    assert.ok(!r.isAncestor(branch, INTEGRATION) || !r.hasBranch(INTEGRATION), "not integrated");
    return found.subject;
  }

  it("a killed agent's partial file is committed on its branch", async () => {
    const detail = await r.detail(ids.killed);
    assert.equal(detail.status, "failed");
    assert.match(detail.error ?? "", /killed by user/);
    const subject = wip(ids.killed, "killed-part.txt", "half of it\n");
    // The run records the agent's end as a kill; its WIP commit must say the same.
    assert.deepEqual(
      detail.agentRuns.map((run) => run.endReason),
      ["killed"],
    );
    assert.equal(subject, `WIP orchestrate: ${short(ids.killed)} killed`);
  });

  it("a timed-out agent's partial file is committed on its branch", async () => {
    const detail = await r.detail(ids.timedOut);
    assert.equal(detail.status, "failed");
    assert.match(detail.error ?? "", /timed out after 2s/);
    const subject = wip(ids.timedOut, "timeout-part.txt", "started\n");
    assert.equal(subject, `WIP orchestrate: ${short(ids.timedOut)} timeout`);
  });

  it("a crashed agent's partial file is committed on its branch", async () => {
    assert.equal((await r.detail(ids.crashed)).status, "failed");
    const subject = wip(ids.crashed, "crash-part.txt", "before the crash\n");
    assert.match(subject, new RegExp(`^WIP orchestrate: ${short(ids.crashed)} (crashed|failed)$`));
  });
});

describe("the user's checkout", () => {
  it("keeps its HEAD, branch, index and working tree byte for byte through submit and run", async () => {
    const r = makeRepo({
      ".gitignore": "*.log\n",
      "src/app.txt": "version 1\n",
      "notes.txt": "notes\n",
    });
    // The user is on a branch of their own, with a staged change, an unstaged one, an untracked file.
    r.git(["checkout", "-q", "-b", "feature/mine"]);
    writeFileSync(r.path("src/app.txt"), "version 2, staged\n");
    r.git(["add", "src/app.txt"]);
    writeFileSync(r.path("notes.txt"), "notes, edited and not staged\n");
    writeFileSync(r.path("scratch.txt"), "untracked\n");
    writeFileSync(r.path("debug.log"), "ignored\n");
    const snapshot = () => ({
      index: sha256(readFileSync(r.path(".git", "index"))),
      head: r.git(["rev-parse", "HEAD"]),
      branch: r.git(["symbolic-ref", "HEAD"]),
      status: r.git(["status", "--porcelain=v1", "--untracked-files=all"]),
      files: treeHashes(r.cwd, [".git", ".orchestrator"]),
    });
    const beforeRun = snapshot();
    const gitignore = readFileSync(r.path(".gitignore"));
    r.declareAgent();

    const id = await r.submitFake(
      task("Rewrite the app", {
        write: { "src/app.txt": "by the agent\n", "added.txt": "new\n" },
      }),
    );
    await r.runAll(["-m", "1"]);

    assert.equal((await r.detail(id)).status, "completed");
    // The agent's work went to its branch and integration, from the user's HEAD then.
    assert.equal(r.show(INTEGRATION, "src/app.txt"), "by the agent\n");
    assert.ok(r.isAncestor(beforeRun.head.trim(), branchOf(id)), "its branch starts at HEAD");
    assert.deepEqual(snapshot(), beforeRun);
    assert.ok(gitignore.equals(readFileSync(r.path(".gitignore"))), ".gitignore is unchanged");
    const exclude = readFileSync(r.path(".git", "info", "exclude"), "utf8");
    assert.ok(
      exclude.split("\n").includes("/.orchestrator/"),
      `exclude lists the base dir:\n${exclude}`,
    );
  });
});

describe("set-up of a new worktree", () => {
  it("copies .worktreeinclude files (keeping an executable bit) and runs the set-up command before the agent", async () => {
    const r = makeRepo({
      ".gitignore": ".env\ntools/local-*.sh\nprivate.key\nsetup.out\n",
      ".worktreeinclude": ".env\ntools/local-*.sh\n",
    });
    writeFileSync(r.path(".env"), "SECRET=s3cret\n");
    mkdirSync(r.path("tools"));
    writeFileSync(r.path("tools/local-run.sh"), "#!/bin/sh\necho local\n");
    chmodSync(r.path("tools/local-run.sh"), 0o755);
    writeFileSync(r.path("private.key"), "not for worktrees\n");
    r.declareAgent();
    const id = await r.submitFake(
      task("Check the set-up", {
        report: "report.txt",
        see: [".env", "setup.out", "private.key"],
        modes: ["tools/local-run.sh"],
      }),
    );
    await r.runAll(["-m", "1"], {
      ORCHESTRATOR_SETUP_COMMAND: "pwd > setup.out && test -x tools/local-run.sh",
    });

    assert.equal((await r.detail(id)).status, "completed");
    const report = r.show(branchOf(id), "report.txt");
    const cwd = /^cwd: (.*)$/m.exec(report)?.[1] ?? "";
    assert.equal(cwd, r.worktree(id), "the agent ran in the task's worktree");
    assert.match(report, /^\.env: SECRET=s3cret$/m);
    assert.match(report, /^tools\/local-run\.sh mode 755$/m);
    assert.match(report, /^private\.key: MISSING$/m, "only listed files are copied");
    assert.equal(/^setup\.out: (.*)$/m.exec(report)?.[1], cwd, "set-up ran in the worktree first");
    assert.ok(!r.gitOk(["cat-file", "-e", `${branchOf(id)}:.env`]), ".env is not committed");
    assert.equal(readFileSync(join(r.worktree(id), ".env"), "utf8"), "SECRET=s3cret\n");
  });

  it("a failing set-up command fails the attempt with its output in the task's error", async () => {
    const r = makeRepo();
    r.declareAgent();
    const id = await r.submitFake(
      task("Never gets to work", { write: { "worked.txt": "yes\n" } }),
      "--max-attempts",
      "1",
    );
    const ran = await r.runWithFailures(["-m", "1"], {
      ORCHESTRATOR_SETUP_COMMAND: "echo 'cannot install: E_SETUP_42' >&2; exit 7",
    });
    const detail = await r.detail(id);
    assert.equal(detail.status, "failed", ran.stdout);
    assert.match(detail.error ?? "", /set-up command failed/);
    assert.match(detail.error ?? "", /exit 7/);
    assert.match(detail.error ?? "", /cannot install: E_SETUP_42/);
    assert.ok(!existsSync(join(r.worktree(id), "worked.txt")), "the agent never ran");
    assert.ok(!r.gitOk(["cat-file", "-e", `${branchOf(id)}:worked.txt`]));
  });
});

describe("many agents on one repository", () => {
  it("8 tasks started at once all complete, each in its own worktree, with no git lock error", async () => {
    const r = makeRepo();
    r.declareAgent();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push(
        await r.submitFake(
          task(`Part ${i}`, { write: { [`part${i}.txt`]: "$CWD\n" }, sleepMs: 3_000 }),
        ),
      );
    }
    const ran = await r.runAll(["-m", "8"]);
    const output = `${ran.stdout}${ran.stderr}`;
    assert.doesNotMatch(output, LOCK_TROUBLE);
    assert.match(ran.stdout, /8 completed, 0 failed/, output);

    const details = await Promise.all(ids.map((id) => r.detail(id)));
    const paths = new Set<string>();
    for (const [i, d] of details.entries()) {
      assert.equal(d.status, "completed", d.error ?? "");
      assert.doesNotMatch(JSON.stringify(d), LOCK_TROUBLE);
      const path = r.show(branchOf(d.id), `part${i}.txt`).trim();
      assert.equal(path, r.worktree(d.id), `task ${i} worked in its own worktree`);
      paths.add(path);
      assert.equal(r.show(INTEGRATION, `part${i}.txt`).trim(), path);
    }
    assert.equal(paths.size, 8);
    const listed = r.git(["worktree", "list", "--porcelain"]);
    for (const path of paths)
      assert.ok(listed.includes(`worktree ${path}\n`), `${path} is a worktree`);
    // All eight agents were running at one moment.
    const runs = details.map((d) => d.agentRuns[0]);
    const latestStart = Math.max(...runs.map((run) => run?.startedAt ?? Infinity));
    const earliestEnd = Math.min(...runs.map((run) => run?.endedAt ?? 0));
    assert.ok(latestStart < earliestEnd, "the eight agents overlapped");
  });
});
