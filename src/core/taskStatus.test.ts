import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canTransition, isTerminal, statusesLeadingTo, TASK_STATUSES } from "./taskStatus.ts";

describe("task state machine", () => {
  it("allows exactly the transitions of the lifecycle", () => {
    const allowed = TASK_STATUSES.flatMap((from) =>
      TASK_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`),
    );
    assert.deepEqual(allowed.sort(), [
      "assigned->cancelled",
      "assigned->completed",
      "assigned->failed",
      "assigned->in_progress",
      "assigned->pending",
      "cancelled->pending",
      "failed->pending",
      "in_progress->cancelled",
      "in_progress->completed",
      "in_progress->failed",
      "in_progress->pending",
      "pending->assigned",
      "pending->cancelled",
    ]);
  });

  it("never leaves completed, and knows the terminal states", () => {
    assert.deepEqual(
      TASK_STATUSES.filter((to) => canTransition("completed", to)),
      [],
    );
    assert.deepEqual(
      TASK_STATUSES.filter((s) => isTerminal(s)),
      ["completed", "failed", "cancelled"],
    );
    assert.deepEqual(statusesLeadingTo("pending"), [
      "assigned",
      "in_progress",
      "failed",
      "cancelled",
    ]);
  });
});
