// End-to-end: the reading commands before anything was submitted create no queue.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { assertUserError } from "../helpers/assertUserError.ts";
import type { StatusJson } from "../helpers/orchestrateJson.ts";
import { useSandbox } from "../helpers/sandbox.ts";
import { MISSING_ID } from "../helpers/taskIds.ts";

describe("status without a queue", { concurrency: true }, () => {
  const box = useSandbox();

  it("says there is no queue and does not create one", async () => {
    const out = await box.ok(["status"]);
    assert.match(out, /^No queue yet at .*tasks\.db\n/);
    assert.match(out, /orchestrate submit/);
    assert.equal(existsSync(box.path(".orchestrator")), false);
  });

  it("--json reports an empty queue and does not create one", async () => {
    const status = await box.json<StatusJson>(["status"]);
    assert.equal(status.total, 0);
    assert.equal(status.database, box.path(".orchestrator", "tasks.db"));
    assert.ok(Object.values(status.counts).every((n) => n === 0));
    assert.deepEqual(status.blocked, { count: 0, tasks: [] });
    assert.deepEqual(status.recent, []);
    assert.deepEqual(status.agents, []);
    assert.equal(existsSync(box.path(".orchestrator")), false);
  });

  it("task, retry, cancel and cleanup create no queue either", async () => {
    for (const args of [
      ["task", MISSING_ID],
      ["retry", MISSING_ID],
      ["cancel", MISSING_ID],
    ]) {
      assertUserError(args, await box.run(args), 3, /no task matches/);
    }
    assert.match(await box.ok(["cleanup"]), /^Removed 0 finished task\(s\)/);
    assert.match(await box.ok(["config"]), /ORCHESTRATOR_BASE_DIR/);
    assert.equal(existsSync(box.path(".orchestrator")), false);
  });
});
