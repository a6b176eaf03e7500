import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type GoalShape, goalShape, heuristicPlan, heuristicSplit } from "./heuristicDecomposer.ts";
import { planProblems } from "./planEdits.ts";

const GOALS: [goal: string, shape: GoalShape, mustUse: string[]][] = [
  ["Build REST API with auth", "api", ["backend-systems-engineer", "data-architect-governance"]],
  ["Build a pipeline", "data-pipeline", ["data-pipeline-engineer"]],
  [
    "Build an ETL job that loads orders into the warehouse",
    "data-pipeline",
    ["data-pipeline-engineer"],
  ],
  [
    "Build a web app for booking rooms with a React frontend",
    "web-app",
    ["frontend-ui-engineer", "backend-systems-engineer"],
  ],
  [
    "Train a churn prediction model",
    "ml-project",
    ["ml-systems-architect", "data-science-analyst"],
  ],
  ["Set up Terraform for our AWS infrastructure", "infrastructure", ["aws-cloud-architect"]],
  ["Analyze last quarter's sales and write a report", "analysis", ["data-science-analyst"]],
  ["Build a RAG chatbot over our docs", "llm-app", ["llm-architect"]],
  ["Design the data model for the users API", "api", ["backend-systems-engineer"]],
  ["Refactor the logging module", "general", ["specifications-engineer"]],
  ["Set up a CI/CD pipeline for our service", "infrastructure", ["aws-cloud-architect"]],
  ["Build a data model for orders", "general", ["data-architect-governance"]],
];

describe("heuristic decomposer", () => {
  for (const [goal, shape, mustUse] of GOALS) {
    test(`"${goal}" is ${shape}`, () => {
      assert.equal(goalShape(goal), shape);
      const plan = heuristicPlan(goal);
      assert.deepEqual(planProblems(plan), [], "a valid plan");
      const types = new Set(plan.map((t) => t.agentType));
      for (const type of mustUse)
        assert.ok(types.has(type), `uses ${type}: ${[...types].join(", ")}`);
      assert.equal(plan[0]?.phase, "Design");
      assert.equal(
        plan[0]?.dependsOn.length,
        0,
        "the plan starts with a task that waits for nothing",
      );
      assert.ok(
        plan.slice(1).every((t) => t.dependsOn.length > 0),
        "every later task has an order",
      );
      assert.ok(
        plan.some((t) => t.phase === "Testing"),
        "a testing phase",
      );
    });
  }

  test("keyword traps: 'build' is not 'ui', a pipeline is not a frontend", () => {
    const plan = heuristicPlan("Build a pipeline");
    assert.ok(!plan.some((t) => t.agentType === "frontend-ui-engineer"));
    assert.notEqual(goalShape("Build a guide"), "web-app");
    assert.equal(
      goalShape("Build a CI/CD pipeline"),
      "infrastructure",
      "a CI/CD pipeline is not ETL",
    );
    assert.notEqual(goalShape("Design the data model for invoices"), "ml-project");
  });

  test("auth and deployment add their tasks only when the goal asks", () => {
    const withAuth = heuristicPlan("Build REST API with auth");
    const without = heuristicPlan("Build a REST API for notes");
    assert.ok(withAuth.some((t) => /authentication/.test(t.description)));
    assert.ok(!without.some((t) => /authentication/.test(t.description)));
    const deployed = heuristicPlan("Build a REST API and deploy it to production");
    const deploy = deployed.find((t) => t.phase === "Deployment");
    assert.equal(deploy?.agentType, "aws-cloud-architect");
  });

  test("deterministic: the same goal gives the same plan", () => {
    const goal = "Build a web app with login and a dashboard";
    assert.deepEqual(heuristicPlan(goal), heuristicPlan(goal));
  });

  test("a split is three ordered parts by the same specialist", () => {
    const [first] = heuristicPlan("Build a pipeline");
    assert.ok(first);
    const parts = heuristicSplit(first);
    assert.equal(parts.length, 3);
    assert.deepEqual(
      parts.map((p) => p.after ?? []),
      [[], [0], [1]],
    );
    assert.ok(parts.every((p) => p.agentType === first.agentType));
  });
});
