import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConflictError, NotFoundError, UsageError } from "./errors.ts";
import type { PlannedTask } from "./plan.ts";
import {
  addPlannedTask,
  executionOrder,
  modifyPlannedTask,
  nextTaskKey,
  planProblems,
  removePlannedTask,
  splitPlannedTask,
  withoutImpliedDependencies,
} from "./planEdits.ts";

function task(
  key: string,
  dependsOn: string[] = [],
  agentType = "backend-systems-engineer",
): PlannedTask {
  return {
    key,
    phase: "Implementation",
    description: `work ${key}`,
    agentType,
    priority: 2,
    dependsOn,
  };
}

// t1 <- t2 <- t3, and t4 after t2
const base = (): PlannedTask[] => [
  task("t1"),
  task("t2", ["t1"]),
  task("t3", ["t2"]),
  task("t4", ["t2"]),
];

describe("plan session operations", () => {
  test("add gives the next key, routes 'auto' by whole words and resolves dependencies", () => {
    const before = base();
    const { tasks, task: added } = addPlannedTask(before, {
      description: "Build the React UI for the signup page",
      dependsOn: ["T3", "t1"],
    });
    assert.equal(added.key, "t5");
    assert.equal(added.agentType, "frontend-ui-engineer");
    assert.deepEqual(added.dependsOn, ["t3", "t1"]);
    assert.equal(tasks.length, 5);
    assert.equal(before.length, 4, "the input list is not changed");
  });

  test("add refuses an unknown type (with a suggestion), a missing dependency and an empty description", () => {
    assert.throws(
      () => addPlannedTask(base(), { description: "x", agentType: "backend-systems-enginer" }),
      (e: unknown) =>
        e instanceof UsageError && /did you mean 'backend-systems-engineer'/.test(e.hint ?? ""),
    );
    assert.throws(
      () => addPlannedTask(base(), { description: "x", dependsOn: ["t9"] }),
      (e: unknown) => e instanceof NotFoundError && /t1, t2, t3, t4/.test(e.hint ?? ""),
    );
    assert.throws(() => addPlannedTask(base(), { description: "   " }), UsageError);
  });

  test("modify changes only the given fields and refuses a cycle", () => {
    const { tasks, task: changed } = modifyPlannedTask(base(), "t3", {
      priority: 4,
      phase: "Testing",
    });
    assert.equal(changed.priority, 4);
    assert.equal(changed.phase, "Testing");
    assert.equal(changed.description, "work t3");
    assert.deepEqual(changed.dependsOn, ["t2"]);
    assert.equal(tasks.find((t) => t.key === "t3")?.priority, 4);
    assert.throws(() => modifyPlannedTask(base(), "t1", { dependsOn: ["t3"] }), ConflictError);
    assert.throws(() => modifyPlannedTask(base(), "t1", { dependsOn: ["t1"] }), ConflictError);
    assert.throws(() => modifyPlannedTask(base(), "t7", { priority: 1 }), NotFoundError);
  });

  test("split replaces a task by parts that keep its dependencies; its dependents wait for the last parts", () => {
    const { tasks, parts } = splitPlannedTask(base(), "t2", [
      { description: "design it" },
      { description: "build the API part", after: [0] },
      { description: "build the UI part", agentType: "frontend-ui-engineer", after: [0] },
    ]);
    assert.deepEqual(
      parts.map((p) => p.key),
      ["t5", "t6", "t7"],
    );
    assert.deepEqual(parts[0]?.dependsOn, ["t1"]);
    assert.deepEqual(parts[1]?.dependsOn, ["t5"], "t1 is implied through t5");
    assert.equal(parts[2]?.agentType, "frontend-ui-engineer");
    assert.deepEqual(
      tasks.map((t) => t.key),
      ["t1", "t5", "t6", "t7", "t3", "t4"],
      "parts take the original's place",
    );
    assert.deepEqual(tasks.find((t) => t.key === "t3")?.dependsOn, ["t6", "t7"]);
    assert.deepEqual(tasks.find((t) => t.key === "t4")?.dependsOn, ["t6", "t7"]);
    assert.deepEqual(planProblems(tasks), []);
    assert.throws(() => splitPlannedTask(base(), "t2", [{ description: "one" }]), UsageError);
  });

  test("remove rewires dependents to what the removed task waited for, and reports them", () => {
    const { tasks, removed, rewired } = removePlannedTask(base(), "t2");
    assert.equal(removed.key, "t2");
    assert.deepEqual(
      tasks.map((t) => [t.key, t.dependsOn]),
      [
        ["t1", []],
        ["t3", ["t1"]],
        ["t4", ["t1"]],
      ],
    );
    assert.deepEqual(rewired, [
      { key: "t3", before: ["t2"], after: ["t1"] },
      { key: "t4", before: ["t2"], after: ["t1"] },
    ]);
    assert.deepEqual(removePlannedTask(base(), "t3").rewired, [], "a task nobody waits for");
  });

  test("approval checks find every kind of fault", () => {
    assert.deepEqual(planProblems(base()), []);
    assert.deepEqual(planProblems([]), ["the plan has no tasks"]);
    const faults = planProblems([
      task("t1", ["t2"]),
      task("t2", ["t1"]),
      task("t3", ["t9"]),
      task("t3"),
      task("Bad Key"),
      { ...task("t5"), agentType: "wizard" },
    ]);
    const text = faults.join("\n");
    assert.match(text, /cycle: t1 -> t2 -> t1/);
    assert.match(text, /t3 depends on 't9', which is not in the plan/);
    assert.match(text, /two tasks have the key 't3'/);
    assert.match(text, /'Bad Key' is not a short lowercase name/);
    assert.match(text, /unknown agent type 'wizard'/);
  });

  test("execution order puts every task after its dependencies", () => {
    const tasks = [task("a", ["c"]), task("b"), task("c", ["b"])];
    assert.deepEqual(executionOrder(tasks), ["b", "c", "a"]);
  });

  test("nextTaskKey skips taken keys; implied dependencies are dropped only where asked", () => {
    assert.equal(nextTaskKey([task("t1"), task("api"), task("t7")]), "t8");
    assert.equal(nextTaskKey([], new Set(["t1", "t2"])), "t3");
    const tasks = [
      task("t1"),
      task("t2", ["t1"]),
      task("t3", ["t1", "t2"]),
      task("t4", ["t1", "t2"]),
    ];
    const reduced = withoutImpliedDependencies(tasks, new Set(["t3"]));
    assert.deepEqual(reduced[2]?.dependsOn, ["t2"]);
    assert.deepEqual(reduced[3]?.dependsOn, ["t1", "t2"]);
  });
});
