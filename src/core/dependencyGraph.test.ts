import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { topologicalOrder } from "./dependencyGraph.ts";

describe("topologicalOrder", () => {
  const graph = (edges: Record<string, string[]>) => (node: string) => edges[node] ?? [];
  it("puts dependencies first and otherwise keeps the given order", () => {
    const result = topologicalOrder(
      ["tests", "api", "schema", "docs"],
      graph({ tests: ["api"], api: ["schema"] }),
    );
    assert.deepEqual(result, { order: ["schema", "api", "tests", "docs"] });
  });
  it("ignores edges to nodes outside the batch", () => {
    assert.deepEqual(topologicalOrder(["a"], graph({ a: ["existing"] })), { order: ["a"] });
  });
  it("returns the cycle as a closed path", () => {
    assert.deepEqual(topologicalOrder(["a", "b", "c"], graph({ a: ["b"], b: ["c"], c: ["a"] })), {
      cycle: ["a", "b", "c", "a"],
    });
    assert.deepEqual(topologicalOrder(["x"], graph({ x: ["x"] })), { cycle: ["x", "x"] });
  });
});
