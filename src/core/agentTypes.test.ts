import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentTypeNames, BUILTIN_AGENT_TYPES, resolveAgentType } from "./agentTypes.ts";
import { UsageError } from "./errors.ts";
import { parsePriority, priorityName } from "./priority.ts";

describe("agent types", () => {
  it("has the spec's nine specialists plus auto", () => {
    assert.equal(BUILTIN_AGENT_TYPES.length, 9);
    assert.equal(agentTypeNames()[0], "auto");
    assert.equal(resolveAgentType("auto"), null);
    assert.equal(resolveAgentType("LLM-Architect"), "llm-architect");
  });
  it("rejects an unknown type and suggests the closest", () => {
    assert.throws(
      () => resolveAgentType("frontend"),
      (e: unknown) =>
        e instanceof UsageError && /did you mean 'frontend-ui-engineer'/.test(e.hint ?? ""),
    );
    assert.throws(
      () => resolveAgentType("quantum-physicist"),
      (e: unknown) => e instanceof UsageError && !/did you mean/.test(e.hint ?? ""),
    );
  });
});

describe("priorities", () => {
  it("accepts names and numbers, and names numbers back", () => {
    assert.deepEqual(
      ["low", "normal", "HIGH", "urgent", "1", "4"].map(parsePriority),
      [1, 2, 3, 4, 1, 4],
    );
    assert.equal(priorityName(3), "high");
    for (const bad of ["critical", "0", "5", "2.5", ""])
      assert.throws(() => parsePriority(bad), UsageError);
  });
});
