import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkModelPlan, checkModelSplit } from "./planSchema.ts";

const task = (extra: Record<string, unknown> = {}) => ({
  key: "t1",
  description: "Build it",
  agent_type: "backend-systems-engineer",
  ...extra,
});

describe("checking a model's plan", () => {
  test("the JSON may come in a code fence of any case, or inside prose", () => {
    const plan = { tasks: [task()] };
    for (const answer of [
      `\`\`\`JSON\n${JSON.stringify(plan)}\n\`\`\``,
      `Sure! Here it is: ${JSON.stringify(plan)} Good luck.`,
    ]) {
      const checked = checkModelPlan(answer);
      assert.ok(checked.ok, JSON.stringify(checked));
      assert.equal(checked.value.tasks[0]?.key, "t1");
    }
  });

  test("priorities in other words are mapped; a long analysis is cut, not refused", () => {
    const checked = checkModelPlan(
      JSON.stringify({
        analysis: "x".repeat(5000),
        tasks: [task({ priority: "Medium" }), task({ key: "t2", priority: "critical" })],
      }),
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.deepEqual(
      checked.value.tasks.map((t) => t.priority),
      [2, 4],
    );
    assert.equal(checked.value.analysis?.length, 4000);
  });

  test("what cannot be repaired is explained, for the correction round", () => {
    const checked = checkModelPlan(
      JSON.stringify({
        tasks: [task({ description: "   " }), task({ key: "t2", priority: "soon" })],
      }),
    );
    assert.equal(checked.ok, false);
    if (checked.ok) return;
    const text = checked.problems.join("\n");
    assert.match(text, /tasks\.0\.description/);
    assert.match(text, /tasks\.1\.priority/);
    assert.deepEqual(checkModelPlan("no JSON here").ok, false);
  });

  test("split parts: blank descriptions are refused, 'after' only points back", () => {
    const refused = checkModelSplit(
      JSON.stringify({ parts: [{ description: " " }, { description: "b" }] }),
    );
    assert.equal(refused.ok, false);
    const checked = checkModelSplit(
      JSON.stringify({
        parts: [
          { description: "a", after: [1] },
          { description: "b", after: [0, 5] },
        ],
      }),
    );
    assert.ok(checked.ok);
    assert.deepEqual(
      checked.value.map((p) => p.after),
      [[], [0]],
    );
  });
});
