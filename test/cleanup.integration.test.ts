/**
 * The cleanup use case: old finished tasks go with their events, agent runs and their agents' files;
 * a finished task an unfinished one still depends on stays; nothing outside agent_outputs/ is touched.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cleanupFinishedTasks } from "../src/app/cleanup.ts";
import { openStore } from "../src/app/openStore.ts";
import { Session } from "../src/app/session.ts";
import { loadConfig } from "../src/core/config.ts";
import { NotFoundError } from "../src/core/errors.ts";
import { agentRun } from "./store/storeFixtures.ts";

const DAY = 86_400_000;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("cleanupFinishedTasks", () => {
  it("removes old finished tasks with their events and output files, keeping what unfinished work needs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-cleanup-"));
    dirs.push(dir);
    const base = join(dir, ".orchestrator");
    const config = loadConfig({ env: { ORCHESTRATOR_BASE_DIR: base }, cwd: dir });
    let now = 1_700_000_000_000;
    const store = openStore(config, { create: true });
    assert.ok(store);
    const session = new Session(config, store, { clock: () => now });
    const { queue } = session;
    try {
      const old = await queue.add({ description: "old done" });
      const needed = await queue.add({ description: "old but needed" });
      await queue.add({ description: "waits", dependsOn: [needed.id] });
      await queue.add({ description: "still pending" });
      const worker = "host:1:w";
      for (let i = 0; i < 2; i++) {
        const claimed = await queue.next(worker);
        assert.ok(claimed && [old.id, needed.id].includes(claimed.id));
        const started = await queue.startAgent(
          claimed,
          agentRun(`agent-${i}`, claimed.id, worker, now),
        );
        assert.ok(started);
        await queue.finishAgent(
          started,
          {
            agentRunId: `agent-${i}`,
            workerId: worker,
            end: { endedAt: now, endReason: "completed" },
          },
          { kind: "completed", output: "ok", details: {} },
          { claimNext: false },
        );
      }
      const agentOfOld = (await queue.agentRunsOf(old.id))[0]?.id ?? "";
      const outputs = join(base, "agent_outputs");
      mkdirSync(outputs, { recursive: true });
      writeFileSync(join(outputs, `${agentOfOld}_output.md`), "out");
      writeFileSync(join(outputs, `${agentOfOld}_output.raw.jsonl`), "{}");
      writeFileSync(join(outputs, "agent-y_output.md"), "someone else's");
      now += 8 * DAY;

      const dry = await cleanupFinishedTasks(session, { before: now - 7 * DAY, dryRun: true });
      assert.deepEqual(
        dry.tasks.map((x) => x.id),
        [old.id],
      );
      assert.equal(dry.keptForDependents, 1);
      assert.equal(dry.files.length, 2);
      assert.equal((await queue.get(old.id)).id, old.id, "a dry run removes nothing");

      const real = await cleanupFinishedTasks(session, { before: now - 7 * DAY, dryRun: false });
      assert.deepEqual(
        real.tasks.map((x) => x.id),
        [old.id],
      );
      await assert.rejects(queue.get(old.id), NotFoundError);
      assert.deepEqual(await queue.eventsOf(old.id, 10), []);
      assert.deepEqual(readdirSync(outputs), ["agent-y_output.md"]);
      assert.equal((await queue.get(needed.id)).status, "completed");
    } finally {
      await session.close();
    }
  });
});
