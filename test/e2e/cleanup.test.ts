// End-to-end: orchestrate cleanup removes old finished tasks, and keeps what others depend on.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { assertUserError } from "../helpers/assertUserError.ts";
import type { StatusJson } from "../helpers/orchestrateJson.ts";
import { type Sandbox, useSandbox } from "../helpers/sandbox.ts";
import { short } from "../helpers/taskIds.ts";

const DIST_URL = pathToFileURL(`${join(import.meta.dirname, "..", "..", "dist")}/`).href;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cleanup", { concurrency: false }, () => {
  const box = useSandbox();
  let old = "";
  let done = "";
  let waiting = "";
  let idle = "";

  before(async () => {
    old = await box.submit("Abandoned work", "-p", "low");
    await box.ok(["cancel", old]);
    done = await box.submit("Finished work", "-p", "urgent");
    waiting = await box.submit("Needs the finished work", "-d", done);
    idle = await box.submit("Not started", "-p", "low");
    await completeTask(box, done);
  });

  it("the dependency was completed by a worker", async () => {
    assert.equal((await box.task(done)).status, "completed");
    assert.equal((await box.task(waiting)).unmetDependencies, 0);
  });

  it("with the default cutoff (7d) removes nothing", async () => {
    assert.match(
      await box.ok(["cleanup", "--dry-run"]),
      /^Would remove 0 finished task\(s\) older than 7d0h and 0 file\(s\)\n/,
    );
    assert.match(await box.ok(["cleanup"]), /^Removed 0 finished task\(s\)/);
    assert.equal(await box.taskCount(), 4);
  });

  it("--dry-run lists the old finished tasks and keeps them", async () => {
    await sleep(30);
    const out = await box.ok(["cleanup", "--older-than", "1ms", "--dry-run"]);
    const lines = out.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^Would remove 1 finished task\(s\) older than 1ms/);
    assert.match(lines[1] ?? "", new RegExp(`^  ${short(old)}  cancelled  Abandoned work$`));
    assert.match(out, /Kept 1 old task\(s\) that unfinished tasks still depend on/);
    assert.ok(!out.includes(short(done)), "the completed dependency is not listed");
    const json = await box.json<{
      dryRun: boolean;
      olderThanMs: number;
      tasks: { id: string; status: string; description: string }[];
      files: string[];
      keptForDependents: number;
      worktreesRemoved: string[];
      branchesDeleted: string[];
      keptUnmerged: { taskId: string; branch: string }[];
    }>(["cleanup", "--older-than", "1ms", "-n"]);
    assert.deepEqual(json, {
      dryRun: true,
      olderThanMs: 1,
      tasks: [{ id: old, status: "cancelled", description: "Abandoned work" }],
      files: [],
      keptForDependents: 1,
      worktreesRemoved: [],
      branchesDeleted: [],
      keptUnmerged: [],
    });
    assert.equal(await box.taskCount(), 4);
    assert.equal((await box.task(old)).status, "cancelled");
  });

  it("a real run removes old finished tasks but keeps a pending task's completed dependency", async () => {
    const out = await box.ok(["cleanup", "--older-than", "1ms"]);
    assert.match(out, /^Removed 1 finished task\(s\) older than 1ms and 0 file\(s\)\n/);
    assert.match(out, new RegExp(`\n  ${short(old)}  cancelled  Abandoned work\n`));
    assert.match(out, /Kept 1 old task\(s\)/);
    assertUserError(["task", old], await box.run(["task", old]), 3, /no task matches/);
    const status = await box.json<StatusJson>(["status"]);
    assert.equal(status.total, 3);
    assert.deepEqual(status.recent.map((t) => t.id).sort(), [done, waiting, idle].sort());
    const dependent = await box.task(waiting);
    assert.deepEqual(
      dependent.dependencies.map((d) => [d.id, d.status]),
      [[done, "completed"]],
    );
    const again = await box.json<{ tasks: unknown[]; keptForDependents: number }>([
      "cleanup",
      "--older-than",
      "1ms",
    ]);
    assert.deepEqual(again.tasks, []);
    assert.equal(again.keptForDependents, 1);
  });
});

/**
 * Completes task `id` the way a worker would: claim it and complete it, through the built queue
 * (no CLI command does this yet). Runs in its own process, like a worker, against the same `dist/`.
 */
async function completeTask(box: Sandbox, id: string): Promise<void> {
  const script = `
const [distUrl, dbPath, taskId] = process.argv.slice(1);
const { openSqliteStore } = await import(new URL("adapters/store/sqlite/sqliteStore.js", distUrl));
const { TaskQueue } = await import(new URL("core/taskQueue.js", distUrl));
const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 5000 });
try {
  const queue = new TaskQueue({ store });
  const claimed = await queue.next("e2e-worker");
  if (claimed?.id !== taskId) throw new Error("claimed " + claimed?.id + ", not " + taskId);
  await queue.complete(taskId, "done", { workerId: "e2e-worker" });
} finally {
  await store.close();
}
`;
  const args = [
    "--input-type=module",
    "-e",
    script,
    DIST_URL,
    box.path(".orchestrator", "tasks.db"),
    id,
  ];
  const result = await box.node(args);
  assert.equal(result.code, 0, `worker failed: ${result.stderr}`);
}
