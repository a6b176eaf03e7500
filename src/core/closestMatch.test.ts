import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closestMatch, editDistance } from "./closestMatch.ts";

describe("closestMatch", () => {
  const types = ["auto", "backend-systems-engineer", "frontend-ui-engineer", "llm-architect"];
  it("suggests by typo distance and by unique substring", () => {
    assert.equal(closestMatch("stauts", ["status", "submit", "task"]), "status");
    assert.equal(closestMatch("backend", types), "backend-systems-engineer");
    assert.equal(closestMatch("llm-architekt", types), "llm-architect");
  });
  it("suggests nothing when nothing is close", () => {
    assert.equal(closestMatch("zzzzzz", types), undefined);
    assert.equal(
      closestMatch("engineer", types),
      undefined,
      "ambiguous substring and far by distance",
    );
  });
  it("computes Levenshtein distance", () => {
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("same", "same"), 0);
  });
});
