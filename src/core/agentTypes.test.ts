import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  agentTypeNames,
  BUILTIN_AGENT_TYPES,
  resolveAgentType,
  routeByKeywords,
} from "./agentTypes.ts";
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

describe("routeByKeywords", () => {
  it("routes by whole words, as the spec's table says", () => {
    const cases: [string, string][] = [
      ["Build the REST API for orders", "backend-systems-engineer"],
      ["Create the React UI for checkout", "frontend-ui-engineer"],
      ["Build a pipeline", "data-pipeline-engineer"],
      ["Write the ETL job for invoices", "data-pipeline-engineer"],
      ["Deploy to AWS", "aws-cloud-architect"],
      ["Train the churn model", "ml-systems-architect"],
      ["Quarterly revenue analysis report", "data-science-analyst"],
      ["Define data governance rules", "data-architect-governance"],
      ["Write the requirements", "specifications-engineer"],
      ["Design the RAG prompt chain", "llm-architect"],
    ];
    for (const [description, type] of cases)
      assert.equal(routeByKeywords(description), type, description);
  });

  it("does not match keywords inside other words", () => {
    assert.equal(
      routeByKeywords("Build the guide"),
      "backend-systems-engineer",
      "'build'/'guide' contain 'ui'",
    );
    assert.equal(
      routeByKeywords("Rebuild the quilt", undefined, "specifications-engineer"),
      "specifications-engineer",
    );
    assert.equal(
      routeByKeywords("Apiary monitoring"),
      "backend-systems-engineer",
      "fallback, not a match on 'api'",
    );
  });

  it("gives every type a real system prompt", () => {
    for (const type of BUILTIN_AGENT_TYPES) {
      assert.ok(type.systemPrompt.length > 400, type.name);
      assert.match(type.systemPrompt, /shared artifacts/);
    }
  });
});
