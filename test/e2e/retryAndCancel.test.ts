// End-to-end: orchestrate cancel and orchestrate retry, and the conflicts they refuse.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { assertUserError } from "../helpers/assertUserError.ts";
import type { StatusJson, TaskJson } from "../helpers/orchestrateJson.ts";
import { useSandbox } from "../helpers/sandbox.ts";
import { short } from "../helpers/taskIds.ts";

describe("retry and cancel", { concurrency: false }, () => {
  const box = useSandbox();
  let id = "";
  let dependent = "";

  before(async () => {
    id = await box.submit("Flaky work");
    dependent = await box.submit("After the flaky work", "-d", id);
  });

  it("cancel moves a pending task to cancelled", async () => {
    assert.equal(await box.ok(["cancel", id]), `Cancelled ${id}\n`);
    const task = await box.task(id);
    assert.equal(task.status, "cancelled");
    assert.equal(task.error, "cancelled by user");
  });

  it("the dependent stays blocked, waiting on the cancelled task", async () => {
    const status = await box.json<StatusJson>(["status"]);
    assert.equal(status.blocked.count, 1);
    assert.equal(status.blocked.tasks[0]?.id, dependent);
    assert.deepEqual(
      status.blocked.tasks[0]?.waitingOn.map((d) => [d.id, d.status]),
      [[id, "cancelled"]],
    );
    assert.match(await box.ok(["status"]), new RegExp(`${short(id)} cancelled`));
  });

  it("cancelling it again is a conflict (4)", async () => {
    const args = ["cancel", id];
    assertUserError(args, await box.run(args), 4, /is cancelled; it cannot become cancelled/);
  });

  it("retry by prefix sends it back to pending", async () => {
    const out = await box.ok(["retry", id.slice(0, 7)]);
    assert.match(out, new RegExp(`^Requeued ${id}`));
    const task = await box.task(id);
    assert.equal(task.status, "pending");
    assert.equal(task.error, null);
    assert.equal(task.attempts, 0);
    assert.deepEqual(
      task.events.map((e) => e.kind),
      ["task:submitted", "task:cancelled", "task:requeued"],
    );
  });

  it("retry of a pending task is a conflict (4) and changes nothing", async () => {
    const args = ["retry", id];
    const result = await box.run(args);
    assertUserError(args, result, 4, /is pending; it cannot become pending/);
    assert.match(result.stderr, /hint: only failed or cancelled tasks can be retried/);
    assert.equal((await box.task(id)).events.length, 3);
  });

  it("cancel --json and retry --json print the updated task", async () => {
    const cancelled = await box.json<TaskJson>(["cancel", id]);
    assert.equal(cancelled.id, id);
    assert.equal(cancelled.status, "cancelled");
    const retried = await box.json<TaskJson>(["retry", id]);
    assert.equal(retried.id, id);
    assert.equal(retried.status, "pending");
    assert.equal(await box.taskCount(), 2);
  });
});
