// One worker of the multi-process benchmark (bench/run.ts spawns several of these on one database).
// Usage: node bench/worker.ts <db-path> <worker-id>
// It opens the store, prints "ready", waits for a line on stdin (the start signal, so that every worker
// begins at the same moment and Node's start-up is not timed), then claims and completes tasks until
// nothing is claimable, and prints one JSON line: {"workerId", "completed", "ms"}.
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { TaskQueue } from "../src/core/taskQueue.ts";

const [dbPath, workerId] = process.argv.slice(2);
if (!dbPath || !workerId) {
  process.stderr.write("usage: node bench/worker.ts <db-path> <worker-id>\n");
  process.exit(2);
}

const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 30_000 });
const queue = new TaskQueue({ store });
process.stdout.write("ready\n");
await once(process.stdin, "data");
process.stdin.pause();

const started = performance.now();
let completed = 0;
for (;;) {
  const task = await queue.next(workerId);
  if (!task) break;
  await queue.complete(task.id, "ok", { workerId });
  completed++;
}
const ms = performance.now() - started;
await store.close();
process.stdout.write(`${JSON.stringify({ workerId, completed, ms })}\n`);
