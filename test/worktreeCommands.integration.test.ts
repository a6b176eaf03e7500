/**
 * The commands around task branches, end to end on real git repositories (worktrees.integration covers
 * the isolation itself): `diff` (a task's own change, the ad-hoc tasks' integration branch), `worktrees`
 * (each task's state), `merge` (the one command that touches the user's checkout, and only cleanly),
 * `cleanup` (merged work goes, unmerged work stays unless asked), `retry` (on the same branch, or
 * `--fresh` from the base with the old work kept), a failing verification sending a task back, a
 * dependent waiting behind a resolver of its dependencies' conflict, and a run SIGKILLed mid-agent.
 * The agents are the fake agent of helpers/gitRepo.ts, acting on their task's `ACT {json}` line.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { isAlive } from "../src/adapters/process/processTable.ts";
import type { WorkDiff } from "../src/app/diffWork.ts";
import type { WorktreeRow } from "../src/app/listWorktrees.ts";
import type { WorkMerged } from "../src/app/mergeWork.ts";
import {
  branchOf,
  commitsOf,
  filesOfCommit,
  finished,
  INTEGRATION,
  makeRepo,
  type Repo,
  task,
  treeHashes,
  waitFor,
} from "./helpers/gitRepo.ts";
import { explain, startOrchestrate } from "./helpers/orchestrateCli.ts";
import type { StatusJson } from "./helpers/orchestrateJson.ts";
import { ID, short } from "./helpers/taskIds.ts";

/** The files a patch touches, in its order. */
function patchFiles(patch: string): string[] {
  return [...patch.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1] as string);
}

const CONFLICT_MARKERS = /^(<{7}|={7}|>{7})/m;

/** The user's checkout as git and the disk have it: HEAD, branch, index, status, every file's bytes. */
function checkout(r: Repo) {
  return {
    head: r.rev("HEAD"),
    branch: r.git(["symbolic-ref", "HEAD"]).trim(),
    index: r.git(["ls-files", "--stage"]),
    status: r.git(["status", "--porcelain=v1", "--untracked-files=all"]),
    mergeHead: r.gitOk(["rev-parse", "--verify", "--quiet", "MERGE_HEAD"]),
    files: treeHashes(r.cwd, [".git", ".orchestrator"]),
  };
}

describe("orchestrate diff", () => {
  let r: Repo;
  let a = "";
  let b = "";
  let c = "";

  before(async () => {
    r = makeRepo();
    r.declareAgent();
    a = await r.submitFake(task("Write alpha", { write: { "alpha.txt": "alpha by A\n" } }));
    b = await r.submitFake(task("Write beta", { write: { "beta.txt": "beta by B\n" } }));
    c = await r.submitFake(
      task("Write gamma on top of both", { write: { "gamma.txt": "gamma by C\n" } }),
      "-d",
      `${a},${b}`,
    );
    await r.runAll(["-m", "2"]);
  });

  it("a dependent's diff is its own change only, measured from its start (the base with its dependencies merged)", async () => {
    const patch = await r.ok(["diff", c]);
    assert.deepEqual(patchFiles(patch), ["gamma.txt"], patch);
    assert.match(patch, /^\+gamma by C$/m);
    assert.deepEqual(patchFiles(await r.ok(["diff", a])), ["alpha.txt"]);

    const json = await r.json<WorkDiff>(["diff", c]);
    const ws = (await r.detail(c)).workspace;
    assert.ok(ws?.startCommit, "the dependent has a start commit");
    assert.equal(json.base, ws.startCommit);
    assert.notEqual(json.base, ws.baseCommit, "not the base the task was submitted on");
    assert.ok(
      r.has(json.base, "alpha.txt") && r.has(json.base, "beta.txt"),
      "deps are in its base",
    );
    assert.ok(!r.has(json.base, "gamma.txt"));
    assert.equal(json.head, branchOf(c));
    assert.equal(json.text, patch);
    assert.equal(json.text, r.git(["diff", "--no-color", json.base, json.head]));
  });

  it("--stat summarises the task's own change", async () => {
    const stat = await r.ok(["diff", c, "--stat"]);
    assert.match(stat, /^ gamma\.txt \| 1 \+$/m, stat);
    assert.match(stat, /^ 1 file changed, 1 insertion\(\+\)$/m);
    assert.doesNotMatch(stat, /alpha|beta/);
  });

  it("diff tasks: the ad-hoc integration branch against the base, with every task's files", async () => {
    const patch = await r.ok(["diff", "tasks"]);
    assert.deepEqual(patchFiles(patch).sort(), ["alpha.txt", "beta.txt", "gamma.txt"], patch);
    const json = await r.json<WorkDiff>(["diff", "tasks"]);
    assert.equal(json.base, r.rev("main"));
    assert.equal(json.head, INTEGRATION);
    assert.equal(json.text, patch);
    assert.match(
      await r.ok(["diff", "tasks", "--stat"]),
      /^ 3 files changed, 3 insertions\(\+\)$/m,
    );
  });
});

describe("orchestrate diff of a task without worktree isolation", () => {
  let r: Repo;
  before(() => {
    r = makeRepo();
    r.declareAgent();
  });

  it("submitted and run with --isolation none: exit 2, it has no branch", async () => {
    const id = await r.submitFake(
      task("Work in the checkout", { write: { "shared-dir.txt": "x\n" } }),
      "--isolation",
      "none",
    );
    await r.runAll(["--isolation", "none"]);
    assert.equal((await r.detail(id)).status, "completed");
    const diff = await r.run(["diff", id]);
    assert.equal(diff.code, 2, explain(["diff", id], diff));
    assert.match(diff.stderr, /task [0-9a-f]{8} has no branch: it ran without worktree isolation/);
  });

  // Submitted in the repository (so a workspace is recorded with a branch name), then run with
  // --isolation none: the agent changed the checkout, its branch never existed, and diff claims "No
  // changes" with exit 0 instead of saying the task has no branch.
  it("submitted in the repository, run with --isolation none: exit 2, it has no branch", async () => {
    const id = await r.submitFake(task("Also in the checkout", { write: { "y.txt": "y\n" } }));
    await r.runAll(["--isolation", "none"]);
    assert.equal((await r.detail(id)).status, "completed");
    assert.ok(existsSync(r.path("y.txt")), "the agent worked in the checkout");
    assert.ok(!r.hasBranch(branchOf(id)), "no branch was made");
    const diff = await r.run(["diff", id]);
    assert.equal(diff.code, 2, explain(["diff", id], diff));
    assert.match(diff.stderr, /has no branch/);
  });
});

describe("orchestrate worktrees", () => {
  it("after a run: merged for a success, unmerged for a failed task (JSON and text)", async () => {
    const r = makeRepo();
    r.declareAgent();
    const ok = await r.submitFake(task("Succeed", { write: { "ok.txt": "fine\n" } }));
    const bad = await r.submitFake(
      task("Fail", { write: { "bad-part.txt": "half\n" }, exit: 1 }),
      "--max-attempts",
      "1",
    );
    await r.runWithFailures(["-m", "2"]);

    const rows = await r.json<WorktreeRow[]>(["worktrees"]);
    assert.equal(rows.length, 2, JSON.stringify(rows));
    const rowOk = rows.find((row) => row.taskId === ok);
    const rowBad = rows.find((row) => row.taskId === bad);
    assert.ok(rowOk && rowBad, JSON.stringify(rows));
    assert.equal(rowOk.state, "merged");
    assert.equal(rowOk.taskStatus, "completed");
    assert.equal(rowOk.branch, branchOf(ok));
    assert.equal(rowOk.path, r.worktree(ok));
    assert.equal(rowOk.present, true);
    assert.equal(rowOk.headCommit, r.rev(branchOf(ok)));
    assert.equal(rowOk.filesChanged, 1);
    assert.equal(rowOk.resolverTaskId, null);
    assert.equal(rowBad.state, "unmerged");
    assert.equal(rowBad.taskStatus, "failed");
    assert.equal(rowBad.branch, branchOf(bad));
    assert.equal(rowBad.filesChanged, 1);
    assert.ok(rowBad.sizeBytes !== null && rowBad.sizeBytes > 0);

    const text = await r.ok(["worktrees"]);
    assert.match(text, /^ *TASK\s+STATE\s+BRANCH\s+FILES\s+SIZE\s+TASK DESCRIPTION/m, text);
    assert.match(
      text,
      new RegExp(`^ *${short(ok)}\\s+merged\\s+${branchOf(ok)}\\s+1\\s`, "m"),
      text,
    );
    assert.match(text, new RegExp(`^ *${short(bad)}\\s+unmerged\\s+${branchOf(bad)}\\s+1\\s`, "m"));
  });

  it("a task whose merge conflicted is in conflict with its resolver's id until the resolver merged it", async () => {
    const r = makeRepo({ "shared.txt": "one\ntwo\nthree\n" });
    r.declareAgent();
    const a = await r.submitFake(
      task("Two the A way", { write: { "shared.txt": "one\ntwo by A\nthree\n" } }),
    );
    const b = await r.submitFake(
      task("Two the B way", { write: { "shared.txt": "one\ntwo by B\nthree\n" } }),
    );
    // Resolvers wait for the gate, so the conflict can be seen before one runs.
    const gate = r.outside("resolver.gate");
    const run = startOrchestrate(r.cwd, r.env({ FAKE_RESOLVER_GATE: gate }), ["run", "-m", "2"]);
    const ended = finished(run, 20_000);
    let conflicted: WorktreeRow | undefined;
    let during: WorktreeRow[] = [];
    let text = "";
    try {
      await waitFor("a task in conflict", async () => {
        during = await r.json<WorktreeRow[]>(["worktrees"]);
        conflicted = during.find((row) => row.state === "conflict");
        return conflicted !== undefined;
      });
      text = await r.ok(["worktrees"]);
    } finally {
      writeFileSync(gate, "open\n");
    }
    const { code, out } = await ended;
    assert.equal(code, 0, out);
    assert.ok(conflicted);
    assert.ok([a, b].includes(conflicted.taskId), JSON.stringify(during));
    assert.equal(conflicted.taskStatus, "completed");
    const resolverId = conflicted.resolverTaskId ?? "";
    assert.match(resolverId, ID);
    assert.ok(![a, b].includes(resolverId));
    assert.match(text, new RegExp(`^ *${short(conflicted.taskId)}\\s+conflict\\s`, "m"), text);
    assert.match(
      text,
      new RegExp(
        `${short(conflicted.taskId)}: conflict being resolved by task ${short(resolverId)}`,
      ),
    );

    // After the run: the resolver ran and merged; the task it reconciled is merged, still naming it.
    const rows = await r.json<WorktreeRow[]>(["worktrees"]);
    const after = rows.find((row) => row.taskId === conflicted?.taskId);
    const resolver = rows.find((row) => row.taskId === resolverId);
    assert.ok(after && resolver, JSON.stringify(rows));
    assert.equal(after.resolverTaskId, resolverId);
    assert.equal(after.state, "merged");
    assert.equal(resolver.state, "merged");
    assert.match(resolver.branch, new RegExp(`^${branchOf(conflicted.taskId)}-merge-[0-9a-f]{4}$`));
    assert.ok(
      rows.every((row) => row.state === "merged"),
      JSON.stringify(rows),
    );
    const merged = r.show(INTEGRATION, "shared.txt");
    assert.match(merged, /two by A/);
    assert.match(merged, /two by B/);
  });
});

describe("orchestrate merge", () => {
  let r: Repo;
  let a = "";
  let b = "";
  let initial = "";

  before(async () => {
    r = makeRepo({ "shared.txt": "one\ntwo\nthree\n" });
    initial = r.rev("HEAD");
    const untouched = checkout(r);
    r.declareAgent();
    a = await r.submitFake(
      task("Alpha, and two the A way", {
        write: { "alpha.txt": "alpha\n", "shared.txt": "one\ntwo by A\nthree\n" },
      }),
    );
    b = await r.submitFake(task("Beta", { write: { "beta.txt": "beta\n" } }));
    await r.runAll(["-m", "2"]);
    assert.deepEqual(checkout(r), untouched, "the run left the user's checkout as it was");
  });

  it("the run left the user's HEAD, branch and status alone", () => {
    assert.equal(r.rev("HEAD"), initial);
    assert.equal(r.git(["symbolic-ref", "--short", "HEAD"]).trim(), "main");
    assert.equal(r.git(["status", "--porcelain"]), "");
    assert.ok(!existsSync(r.path("alpha.txt")));
    assert.ok(r.has(INTEGRATION, "alpha.txt") && r.has(INTEGRATION, "beta.txt"));
  });

  it("refuses a checkout with an uncommitted change to a tracked file (exit 4), changing nothing", async () => {
    writeFileSync(r.path("README.md"), "# project\nmy own edit\n");
    const before = checkout(r);
    const merge = await r.run(["merge", "tasks"]);
    assert.equal(merge.code, 4, explain(["merge", "tasks"], merge));
    assert.match(merge.stderr, /uncommitted changes \(README\.md\)/);
    assert.deepEqual(checkout(r), before);
    assert.equal(readFileSync(r.path("README.md"), "utf8"), "# project\nmy own edit\n");
    r.git(["checkout", "-q", "--", "README.md"]);
  });

  it("a conflict with a commit on the user's branch: exit 4 naming the file, HEAD, index and files as before", async () => {
    writeFileSync(r.path("shared.txt"), "one\ntwo by the user\nthree\n");
    r.git(["commit", "-q", "-am", "the user's own change"]);
    const before = checkout(r);
    const merge = await r.run(["merge", "tasks"]);
    assert.equal(merge.code, 4, explain(["merge", "tasks"], merge));
    assert.match(merge.stderr, /conflicts with your branch in shared\.txt; nothing was changed/);
    assert.deepEqual(checkout(r), before);
    assert.equal(before.mergeHead, false, "no merge left in progress");
    assert.equal(before.status, "");
    assert.equal(readFileSync(r.path("shared.txt"), "utf8"), "one\ntwo by the user\nthree\n");
    r.git(["reset", "-q", "--hard", initial]);
  });

  it("merge <task> brings in that task's branch only, with a merge commit", async () => {
    const merged = await r.json<WorkMerged>(["merge", b]);
    assert.equal(merged.branch, branchOf(b));
    assert.equal(merged.into, "main");
    assert.equal(merged.alreadyUpToDate, false);
    const head = r.rev("HEAD");
    assert.equal(merged.commit, head);
    assert.equal(r.git(["rev-parse", "HEAD^1", "HEAD^2"]), `${initial}\n${r.rev(branchOf(b))}\n`);
    assert.equal(readFileSync(r.path("beta.txt"), "utf8"), "beta\n");
    assert.ok(!existsSync(r.path("alpha.txt")), "task A's work is not merged with B's");
    assert.equal(r.git(["status", "--porcelain"]), "");
    assert.equal(r.git(["symbolic-ref", "--short", "HEAD"]).trim(), "main");
  });

  it("merge tasks brings the integration branch into the user's branch with a merge commit", async () => {
    const beforeMerge = r.rev("HEAD");
    const out = await r.ok(["merge", "tasks"]);
    assert.match(
      out,
      /^Merged orchestrate\/tasks\/integration into main \([0-9a-f]{10}\)\.$/m,
      out,
    );
    assert.equal(
      r.git(["rev-parse", "HEAD^1", "HEAD^2"]),
      `${beforeMerge}\n${r.rev(INTEGRATION)}\n`,
    );
    assert.match(r.git(["log", "-1", "--format=%s"]), /^Merge orchestrate\/tasks\/integration/);
    assert.equal(readFileSync(r.path("alpha.txt"), "utf8"), "alpha\n");
    assert.equal(readFileSync(r.path("beta.txt"), "utf8"), "beta\n");
    assert.equal(readFileSync(r.path("shared.txt"), "utf8"), "one\ntwo by A\nthree\n");
    assert.equal(r.git(["status", "--porcelain"]), "");
    assert.ok(r.isAncestor(branchOf(a), "HEAD"));
  });
});

interface CleanupJson {
  dryRun: boolean;
  tasks: { id: string; status: string }[];
  worktreesRemoved: string[];
  branchesDeleted: string[];
  keptUnmerged: { taskId: string; branch: string }[];
}

describe("orchestrate cleanup", () => {
  /** The age the behaviour tests use: `--older-than 0` (as the README documents it) is refused. */
  const AGE = "1ms";
  let r: Repo;
  let ok = "";
  let bad = "";

  before(async () => {
    r = makeRepo();
    r.declareAgent();
    ok = await r.submitFake(task("Succeed", { write: { "ok.txt": "fine\n" } }));
    bad = await r.submitFake(
      task("Fail", { write: { "bad-part.txt": "half\n" }, exit: 1 }),
      "--max-attempts",
      "1",
    );
    await r.runWithFailures(["-m", "2"]);
    assert.equal((await r.detail(bad)).status, "failed");
    // Something left in the failed task's worktree after its run (not committed yet).
    writeFileSync(join(r.worktree(bad), "leftover.txt"), "left behind\n");
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  /** What cleanup could change: refs, worktrees git knows, directories, tasks, the leftover file. */
  function state() {
    return {
      refs: r.git(["for-each-ref", "--format=%(refname) %(objectname)"]),
      worktrees: r.git(["worktree", "list", "--porcelain"]),
      dirs: [r.worktree(ok), r.worktree(bad)].map((dir) => existsSync(dir)),
      leftover: r.git(["-C", r.worktree(bad), "status", "--porcelain"]),
    };
  }

  // README: "orchestrate cleanup --older-than 0   # remove merged worktrees and branches".
  it("accepts --older-than 0, as the README shows it", async () => {
    const args = ["cleanup", "--older-than", "0", "--dry-run", "--json"];
    const result = await r.run(args);
    assert.equal(result.code, 0, explain(args, result));
  });

  it("--dry-run --json lists what would go and changes nothing", async () => {
    const before = state();
    const tasksBefore = await r.taskCount();
    const json = await r.json<CleanupJson>(["cleanup", "--older-than", AGE, "--dry-run"]);
    assert.equal(json.dryRun, true);
    assert.deepEqual(
      json.tasks.map((t) => t.id),
      [ok],
    );
    assert.deepEqual(json.worktreesRemoved.sort(), [r.worktree(ok), r.worktree(bad)].sort());
    assert.deepEqual(json.branchesDeleted, [branchOf(ok)]);
    assert.deepEqual(json.keptUnmerged, [{ taskId: bad, branch: branchOf(bad) }]);
    assert.deepEqual(state(), before);
    assert.equal(before.leftover, "?? leftover.txt\n");
    assert.equal(await r.taskCount(), tasksBefore);
  });

  it("removes merged worktrees and branches, keeps the failed task's branch and task (saying so), its leftovers committed", async () => {
    const out = await r.ok(["cleanup", "--older-than", AGE]);
    assert.match(out, /^Removed 1 finished task\(s\)/m, out);
    assert.match(out, /^Removed 2 worktree\(s\) and 1 merged branch\(es\)$/m);
    assert.match(
      out,
      new RegExp(
        `^Kept 1 task branch\\(es\\) with work not merged, and their tasks: ${branchOf(bad)} `,
        "m",
      ),
    );
    // The merged task: worktree, branch and task gone; the integration branch keeps its work.
    assert.ok(!existsSync(r.worktree(ok)));
    assert.ok(!r.hasBranch(branchOf(ok)));
    assert.equal((await r.run(["task", ok])).code, 3, "the merged task is removed");
    assert.ok(r.hasBranch(INTEGRATION));
    assert.equal(r.show(INTEGRATION, "ok.txt"), "fine\n");
    // The failed task: its worktree dir gone, its branch and task kept, with all its work.
    assert.ok(!existsSync(r.worktree(bad)));
    assert.equal((await r.detail(bad)).status, "failed");
    assert.ok(r.hasBranch(branchOf(bad)));
    assert.equal(r.show(branchOf(bad), "bad-part.txt"), "half\n");
    assert.equal(r.show(branchOf(bad), "leftover.txt"), "left behind\n");
    const saved = commitsOf(r, branchOf(bad)).find((commit) =>
      filesOfCommit(r, commit.sha).includes("leftover.txt"),
    );
    assert.equal(
      saved?.subject,
      `WIP orchestrate: ${short(bad)} saved before its worktree was removed`,
    );
    const listed = r.git(["worktree", "list", "--porcelain"]);
    assert.ok(!listed.includes(r.worktree(ok)) && !listed.includes(r.worktree(bad)), listed);
  });

  it("--delete-unmerged then deletes the kept branch and its task; the integration branch stays", async () => {
    const json = await r.json<CleanupJson>(["cleanup", "--older-than", AGE, "--delete-unmerged"]);
    assert.equal(json.dryRun, false);
    assert.deepEqual(
      json.tasks.map((t) => t.id),
      [bad],
    );
    assert.deepEqual(json.branchesDeleted, [branchOf(bad)]);
    assert.deepEqual(json.keptUnmerged, []);
    assert.deepEqual(json.worktreesRemoved, []);
    assert.ok(!r.hasBranch(branchOf(bad)));
    assert.equal((await r.run(["task", bad])).code, 3);
    assert.ok(r.hasBranch(INTEGRATION));
    assert.equal(await r.taskCount(), 0);
  });
});

describe("orchestrate retry", () => {
  it("continues on the task's branch; --fresh starts over from the base and keeps the old work aside", async () => {
    const r = makeRepo();
    r.declareAgent();
    /** Fails the first time leaving progress.txt; the next time reports whether it is there. */
    const failsThenReports = (name: string) =>
      task(`Work in two goes (${name})`, {
        write: { "progress.txt": `step 1 by ${name}\n` },
        exit: 1,
        marker: r.outside(`${name}.marker`),
        again: { report: "seen.txt", see: ["progress.txt"] },
      });
    const same = await r.submitFake(failsThenReports("same"), "--max-attempts", "1");
    const fresh = await r.submitFake(failsThenReports("fresh"), "--max-attempts", "1");
    await r.runWithFailures(["-m", "2"]);
    for (const id of [same, fresh]) {
      assert.equal((await r.detail(id)).status, "failed");
      assert.ok(r.has(branchOf(id), "progress.txt"), "the failed attempt's work is on its branch");
    }
    const sameBefore = r.rev(branchOf(same));
    const freshBefore = r.rev(branchOf(fresh));

    assert.match(await r.ok(["retry", same]), /^Requeued [0-9a-f]{16}/);
    const retried = await r.json<{ id: string; status: string; keptAs: string | null }>([
      "retry",
      "--fresh",
      fresh,
    ]);
    assert.equal(retried.status, "pending");
    assert.equal(retried.keptAs, `${branchOf(fresh)}-attempt-1`);
    assert.equal(r.rev(retried.keptAs), freshBefore, "the old work is kept, as it was");
    await r.runAll(["-m", "2"]);

    // A plain retry: the new agent found the file the failed attempt left; one branch, one history.
    assert.equal((await r.detail(same)).status, "completed");
    assert.match(r.show(branchOf(same), "seen.txt"), /^progress\.txt: step 1 by same$/m);
    assert.ok(
      r.isAncestor(sameBefore, branchOf(same)),
      "it went on from the failed attempt's head",
    );
    // A fresh retry: the new agent started from the base; the old work is still on -attempt-1.
    assert.equal((await r.detail(fresh)).status, "completed");
    assert.match(r.show(branchOf(fresh), "seen.txt"), /^progress\.txt: MISSING$/m);
    assert.ok(!r.has(branchOf(fresh), "progress.txt"));
    assert.ok(!r.isAncestor(freshBefore, branchOf(fresh)), "the new branch does not hold the old");
    assert.equal(r.git(["merge-base", branchOf(fresh), "main"]).trim(), r.rev("main"));
    assert.equal(r.show(`${branchOf(fresh)}-attempt-1`, "progress.txt"), "step 1 by fresh\n");
  });
});

describe("ORCHESTRATOR_VERIFY_COMMAND", () => {
  it("a failed verification keeps the attempt off integration; the next attempt sees its output and lands", async () => {
    const r = makeRepo();
    r.declareAgent();
    const id = await r.submitFake(
      task("Make must-exist.txt exist", {
        write: { "work.txt": "first attempt\n" },
        previous: r.outside("previous-1.txt"),
        marker: r.outside("verify.marker"),
        again: {
          write: { "work.txt": "second attempt\n", "must-exist.txt": "here\n" },
          previous: r.outside("previous-2.txt"),
        },
      }),
    );
    await r.runAll(["-m", "1"], { ORCHESTRATOR_VERIFY_COMMAND: "test -f must-exist.txt" });

    const detail = await r.detail(id);
    assert.equal(detail.status, "completed", detail.error ?? "");
    assert.equal(detail.agentRuns.length, 2);
    assert.equal(readFileSync(r.outside("previous-1.txt"), "utf8"), "NONE\n");
    const previous = readFileSync(r.outside("previous-2.txt"), "utf8");
    assert.match(previous, /^## The previous attempt/);
    assert.match(previous, /its work was not merged/);
    assert.match(previous, /\$ test -f must-exist\.txt \(exit 1\)/);

    // The first attempt's commit, the oldest on the branch, never reached integration by itself:
    // integration has one merge of the task, of its second attempt's head.
    const commits = commitsOf(r, branchOf(id));
    const first = commits.at(-1);
    assert.ok(first, JSON.stringify(commits));
    assert.equal(r.show(first.sha, "work.txt"), "first attempt\n");
    assert.ok(!r.has(first.sha, "must-exist.txt"));
    const merges = r
      .git(["rev-list", "--first-parent", INTEGRATION, "--not", "main"])
      .split("\n")
      .filter((l) => l !== "");
    assert.equal(merges.length, 1, `integration has one merge: ${merges.join(", ")}`);
    assert.equal(r.rev(`${merges[0]}^2`), r.rev(branchOf(id)));
    assert.notEqual(r.rev(`${merges[0]}^2`), first.sha);
    assert.equal(r.show(INTEGRATION, "work.txt"), "second attempt\n");
    assert.equal(r.show(INTEGRATION, "must-exist.txt"), "here\n");
  });
});

describe("a dependent whose two dependencies change the same lines", () => {
  it("waits behind a resolver of its base, then runs on a tree with both sides and no markers", async () => {
    const r = makeRepo({ "shared.txt": "one\ntwo\nthree\n" });
    r.declareAgent();
    const a = await r.submitFake(
      task("Two the A way", { write: { "shared.txt": "one\ntwo by A\nthree\n" } }),
    );
    const b = await r.submitFake(
      task("Two the B way", { write: { "shared.txt": "one\ntwo by B\nthree\n" } }),
    );
    const c = await r.submitFake(
      task("Build on both", { report: "seen.txt", see: ["shared.txt"] }),
      "-d",
      `${a},${b}`,
    );
    await r.runAll(["-m", "2"]);

    const status = await r.json<StatusJson>(["status", "-n", "50"]);
    const resolvers = status.recent.filter((t) => ![a, b, c].includes(t.id));
    const resolver = resolvers.find((t) =>
      t.description.startsWith(`Resolve a merge conflict so that task ${short(c)} can start`),
    );
    assert.ok(resolver, `a resolver of C's base among ${JSON.stringify(resolvers)}`);
    assert.match(resolver.description, /their branches conflict in: shared\.txt\./);
    const rd = await r.detail(resolver.id);
    assert.equal(rd.status, "completed");
    assert.match(rd.workspace?.branch ?? "", new RegExp(`^${branchOf(c)}-base-[0-9a-f]{4}$`));
    assert.equal(rd.workspace?.resolves?.kind, "base");

    const cd = await r.detail(c);
    assert.equal(cd.status, "completed", cd.error ?? "");
    assert.ok(
      cd.dependencies.some((d) => d.id === resolver.id),
      "C depends on the resolver",
    );
    assert.ok(cd.events.some((e) => e.kind === "task:deferred"));
    assert.equal(cd.agentRuns.length, 1, "C's agent started once, after the resolver");
    assert.ok((rd.agentRuns[0]?.endedAt ?? Infinity) <= (cd.agentRuns[0]?.startedAt ?? 0));
    assert.ok(
      r.isAncestor(rd.workspace?.branch ?? "", branchOf(c)),
      "C starts from the resolution",
    );

    const seen = r.show(branchOf(c), "seen.txt");
    assert.match(seen, /two by A/, seen);
    assert.match(seen, /two by B/);
    assert.doesNotMatch(seen, CONFLICT_MARKERS);
  });
});

describe("a run SIGKILLed while its agent works", () => {
  it("the next run commits the agent's file on its branch (WIP) and completes the task; no agent is left", async () => {
    const r = makeRepo();
    r.declareAgent();
    const id = await r.submitFake(
      task("Work through a crash", {
        write: { "crash-work.txt": "written before the kill\n" },
        sleepMs: 30_000,
        marker: r.outside("crash.marker"),
        again: { report: "seen.txt", see: ["crash-work.txt"] },
      }),
    );
    const first = startOrchestrate(r.cwd, r.env(), ["run", "--lease", "2s"]);
    const firstEnded = finished(first, 20_000);
    await waitFor("the agent to write its file", () =>
      existsSync(join(r.worktree(id), "crash-work.txt")),
    );
    let agentPid = 0;
    await waitFor("the agent's run to be recorded", async () => {
      agentPid = (await r.detail(id)).agentRuns[0]?.pid ?? 0;
      return agentPid > 0;
    });
    assert.ok(isAlive(agentPid), "the agent runs");
    first.kill("SIGKILL");
    const { code } = await firstEnded;
    assert.equal(code, null, "the run was killed");

    const ran = await r.runAll(["--lease", "2s"]);
    assert.match(ran.stdout, /1 completed, 0 failed/, ran.stdout);
    const detail = await r.detail(id);
    assert.equal(detail.status, "completed", detail.error ?? "");
    const commits = commitsOf(r, branchOf(id));
    const wip = commits.find(
      (commit) =>
        commit.subject.startsWith(`WIP orchestrate: ${short(id)} `) &&
        filesOfCommit(r, commit.sha).includes("crash-work.txt"),
    );
    assert.ok(wip, `a WIP commit holding crash-work.txt: ${JSON.stringify(commits)}`);
    assert.equal(r.show(branchOf(id), "crash-work.txt"), "written before the kill\n");
    assert.match(r.show(branchOf(id), "seen.txt"), /^crash-work\.txt: written before the kill$/m);
    assert.equal(r.show(INTEGRATION, "crash-work.txt"), "written before the kill\n");
    assert.ok(!isAlive(agentPid), `the killed run's agent ${agentPid} is gone`);
    assert.deepEqual(await r.json(["agents"]), []);
  });
});
