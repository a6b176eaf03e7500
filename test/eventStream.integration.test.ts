/**
 * The event log read through the app layer as a stream from a cursor: what a dashboard or
 * `logs --follow` in another process sees of what runs and terminals write.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { followEvents } from "../src/app/eventStream.ts";
import { withSession } from "../src/app/session.ts";
import { loadConfig } from "../src/core/config.ts";
import type { TaskEvent } from "../src/core/task.ts";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function config() {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-events-"));
  dirs.push(dir);
  return loadConfig({ env: { ORCHESTRATOR_BASE_DIR: join(dir, ".orchestrator") }, cwd: dir });
}

describe("followEvents", () => {
  it("yields every event after the cursor in order, then new ones from another connection, until aborted", async () => {
    const cfg = config();
    await withSession(cfg, { create: true }, async (writer) => {
      await writer.queue.addMany([{ description: "one" }, { description: "two" }]);
      const abort = new AbortController();
      const seen: TaskEvent[] = [];
      const reading = withSession(cfg, { create: false }, async (reader) => {
        assert.ok(reader);
        for await (const event of followEvents(reader, { pollMs: 20, signal: abort.signal })) {
          seen.push(event);
          if (seen.length === 3) abort.abort();
        }
      });
      // A third event, written while the reader waits for more.
      await new Promise((r) => setTimeout(r, 60));
      await writer.queue.add({ description: "three" });
      await reading;
      assert.deepEqual(
        seen.map((e) => e.kind),
        ["task:submitted", "task:submitted", "task:submitted"],
      );
      const ids = seen.map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        "in id order",
      );
      assert.equal(new Set(ids).size, 3, "each once");
    });
  });

  it("resumes after the last id seen, in pages smaller than the log, losing and repeating nothing", async () => {
    const cfg = config();
    await withSession(cfg, { create: true }, async (session) => {
      await session.queue.addMany(
        Array.from({ length: 25 }, (_, i) => ({ description: `task ${i}` })),
      );
      const all = await session.queue.eventsAfter(0, 1_000);
      assert.equal(all.length, 25);
      const firstTen: TaskEvent[] = [];
      const abort = new AbortController();
      for await (const e of followEvents(session, { batch: 4, signal: abort.signal })) {
        firstTen.push(e);
        if (firstTen.length === 10) abort.abort();
      }
      const rest: TaskEvent[] = [];
      const again = new AbortController();
      const cursor = firstTen.at(-1)?.id ?? 0;
      for await (const e of followEvents(session, {
        afterId: cursor,
        batch: 4,
        pollMs: 10,
        signal: again.signal,
      })) {
        rest.push(e);
        if (rest.length === 15) again.abort();
      }
      assert.deepEqual(
        [...firstTen, ...rest].map((e) => e.id),
        all.map((e) => e.id),
      );
    });
  });
});
