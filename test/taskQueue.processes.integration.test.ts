import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeTempQueue } from "./helpers/tempStore.ts";

const WORKER = join(import.meta.dirname, "fixtures", "queueWorker.ts");
const children = new Set<ChildProcess>();

after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function startWorker(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Resolves with the first JSON line the child prints (rejects if it exits first). */
async function firstLine(child: ChildProcess): Promise<Record<string, unknown>> {
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>);
    });
    child.once("exit", (code) =>
      reject(new Error(`worker exited ${code} before printing: ${stderr}`)),
    );
  });
}

describe("the queue shared by several processes", () => {
  it("claims every task exactly once while 4 processes submit and claim at the same time", async () => {
    const t = makeTempQueue({ realClock: true });
    try {
      const perWorker = 150;
      const workers = 4;
      const total = perWorker * workers;
      const procs = Array.from({ length: workers }, (_, i) =>
        startWorker(["mixed", t.dbPath, `w${i}`, String(perWorker), String(total)]),
      );
      const reports = (await Promise.all(procs.map(firstLine))) as {
        name: string;
        submitted: number;
        completed: string[];
      }[];
      await Promise.all(procs.map((p) => (p.exitCode === null ? once(p, "exit") : null)));

      const completedIds = reports.flatMap((r) => r.completed);
      assert.equal(completedIds.length, total, "every task was completed by some worker");
      assert.equal(new Set(completedIds).size, total, "no task was completed twice");
      assert.ok(
        reports.filter((r) => r.completed.length > 0).length >= 2,
        "the work was shared between processes",
      );
      const counts = await t.store.countByStatus();
      assert.equal(counts.completed, total);
      const claims = new Map<string, number>();
      for (const event of await t.store.readEvents(0, 100 * total)) {
        if (event.kind === "task:claimed" && event.taskId) {
          claims.set(event.taskId, (claims.get(event.taskId) ?? 0) + 1);
        }
      }
      assert.equal(claims.size, total, "every task was claimed");
      assert.deepEqual(new Set(claims.values()), new Set([1]), "and none twice");
    } finally {
      await t.dispose();
    }
  });

  it("gives a task back after its lease expires when the claiming process is killed with SIGKILL", async () => {
    const t = makeTempQueue({ realClock: true, backoff: { baseMs: 1, maxMs: 1 } });
    try {
      const task = await t.queue.add({ description: "survives a crash" });
      const holder = startWorker(["hold", t.dbPath, "400"]);
      const claim = (await firstLine(holder)) as { id: string; workerId: string };
      assert.equal(claim.id, task.id);
      assert.equal((await t.queue.get(task.id)).status, "assigned");

      holder.kill("SIGKILL");
      await once(holder, "exit");
      assert.equal(
        await t.queue.next("host:9:rescuer"),
        null,
        "the lease still holds right after the crash",
      );

      await new Promise((resolve) => setTimeout(resolve, 450));
      assert.deepEqual(await t.queue.reapExpired(), { requeued: 1, failed: 0 });
      await new Promise((resolve) => setTimeout(resolve, 5)); // the 1 ms retry backoff
      const rescued = await t.queue.next("host:9:rescuer");
      assert.equal(rescued?.id, task.id);
      assert.equal(rescued?.attempts, 2);
      assert.equal(rescued?.workerId, "host:9:rescuer");
      const expired = (await t.store.eventsFor(task.id, 10)).find(
        (e) => e.kind === "task:lease_expired",
      );
      assert.equal(expired?.data?.["workerId"], claim.workerId);
    } finally {
      await t.dispose();
    }
  });
});
