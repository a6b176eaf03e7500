// End-to-end: orchestrate submit and every option it stores.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explain } from "../helpers/orchestrateCli.ts";
import type { TaskJson } from "../helpers/orchestrateJson.ts";
import { useSandbox } from "../helpers/sandbox.ts";
import { ID, short } from "../helpers/taskIds.ts";

describe("submit", { concurrency: true }, () => {
  const box = useSandbox();

  it("prints the new task's id", async () => {
    const out = await box.ok(["submit", "Add a login endpoint"]);
    const match = /^Submitted ([0-9a-f]{16}) \(normal priority, agent auto\)\n$/.exec(out);
    assert.ok(match, out);
    const task = await box.task(match[1] ?? "");
    assert.equal(task.description, "Add a login endpoint");
    assert.equal(task.status, "pending");
  });

  it("-q prints only the id", async () => {
    const result = await box.run(["submit", "-q", "quiet task"]);
    assert.equal(result.code, 0, explain(["submit"], result));
    assert.match(result.stdout, /^[0-9a-f]{16}\n$/);
    assert.equal(result.stderr, "");
  });

  it("joins several words into the description; --json prints the task", async () => {
    const task = await box.json<TaskJson>(["submit", "Add", "a", "users", "table"]);
    assert.match(task.id, ID);
    assert.equal(task.description, "Add a users table");
    assert.equal(task.status, "pending");
    assert.equal(task.agentType, null);
    assert.equal(task.priority, 2);
    assert.equal(task.context, null);
    assert.equal(task.attempts, 0);
    assert.equal(task.maxAttempts, 3);
    assert.equal(task.timeoutMs, null);
    assert.equal(task.unmetDependencies, 0);
    assert.equal(typeof task.createdAt, "number");
    assert.ok(Math.abs(task.createdAt - Date.now()) < 60_000);
    const stored: Record<string, unknown> = { ...(await box.task(task.id)) };
    assert.deepEqual(
      Object.fromEntries(Object.keys(task).map((key) => [key, stored[key]])),
      task,
      "task <id> --json shows the same fields",
    );
  });

  it("--agent sets the specialist; text output names it and the priority", async () => {
    const out = await box.ok([
      "submit",
      "Build the users API",
      "--agent",
      "backend-systems-engineer",
      "--priority",
      "high",
    ]);
    assert.match(out, /\(high priority, agent backend-systems-engineer\)/);
    const task = await box.json<TaskJson>(["submit", "x", "-a", "auto"]);
    assert.equal(task.agentType, null);
    const typed = await box.json<TaskJson>(["submit", "x", "-a", "Frontend-UI-Engineer"]);
    assert.equal(typed.agentType, "frontend-ui-engineer");
  });

  for (const [given, expected] of [
    ["low", 1],
    ["normal", 2],
    ["high", 3],
    ["urgent", 4],
    ["URGENT", 4],
    ["1", 1],
    ["3", 3],
    ["4", 4],
  ] as const) {
    it(`--priority ${given} stores ${expected}`, async () => {
      const task = await box.json<TaskJson>(["submit", "p", "--priority", given]);
      assert.equal(task.priority, expected);
    });
  }

  it("--depends-on accepts a unique id prefix", async () => {
    const dep = await box.submit("Design the schema");
    const out = await box.ok(["submit", "Use the schema", "--depends-on", dep.slice(0, 10)]);
    assert.match(out, /, waits for 1 task\(s\)\)\n$/);
    const id = /Submitted ([0-9a-f]{16})/.exec(out)?.[1] ?? "";
    const task = await box.task(id);
    assert.equal(task.unmetDependencies, 1);
    assert.deepEqual(
      task.dependencies.map((d) => d.id),
      [dep],
    );
  });

  it("--depends-on takes commas and repeats, and ignores duplicates", async () => {
    const [a, b, c] = await Promise.all([box.submit("a"), box.submit("b"), box.submit("c")]);
    assert.ok(a && b && c);
    const task = await box.json<TaskJson>([
      "submit",
      "after a, b and c",
      "--depends-on",
      `${a},${short(b)}`,
      "-d",
      c,
      "-d",
      a,
    ]);
    assert.equal(task.unmetDependencies, 3);
    const detail = await box.task(task.id);
    assert.deepEqual(detail.dependencies.map((d) => d.id).sort(), [a, b, c].sort());
  });

  it("--context stores a JSON object", async () => {
    const context = { repo: "api", branch: "main", nested: { n: 1, list: [1, "two"] } };
    const task = await box.json<TaskJson>([
      "submit",
      "with context",
      "--context",
      JSON.stringify(context),
    ]);
    assert.deepEqual(task.context, context);
    assert.deepEqual((await box.task(task.id)).context, context);
  });

  it("--max-attempts and --timeout are stored", async () => {
    const task = await box.json<TaskJson>([
      "submit",
      "limits",
      "--max-attempts",
      "5",
      "--timeout",
      "90s",
    ]);
    assert.equal(task.maxAttempts, 5);
    assert.equal(task.timeoutMs, 90_000);
    const [hours, bare] = await Promise.all([
      box.json<TaskJson>(["submit", "two hours", "-t", "2h"]),
      box.json<TaskJson>(["submit", "bare seconds", "--timeout", "30"]),
    ]);
    assert.equal(hours.timeoutMs, 7_200_000);
    assert.equal(bare.timeoutMs, 30_000);
    const detail = await box.ok(["task", task.id]);
    assert.match(detail, /attempts {4}0 of 5/);
    assert.match(detail, /timeout {5}1m30s/);
  });
});
