// End-to-end: orchestrate status and orchestrate task, as text and --json.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { StatusJson } from "../helpers/orchestrateJson.ts";
import { useSandbox } from "../helpers/sandbox.ts";
import { short } from "../helpers/taskIds.ts";

/** The lines of a titled section of text output, up to the next blank line. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no section '${title}' in:\n${text}`);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe("status and task", { concurrency: true }, () => {
  const box = useSandbox();
  let first = "";
  let second = "";
  let dropped = "";

  before(async () => {
    first = await box.submit("Design the users table", "--priority", "high");
    second = await box.submit("Build the users API", "--depends-on", first);
    dropped = await box.submit("Something nobody wants", "-a", "data-science-analyst");
    await box.ok(["cancel", dropped]);
  });

  it("status shows counts, the blocked task and recent tasks", async () => {
    const out = await box.ok(["status"]);
    assert.match(out, /^Queue .*\.orchestrator\/tasks\.db · 3 tasks\n/);
    assert.match(out, /pending 2 \(1 blocked\)/);
    assert.match(out, /cancelled 1/);
    assert.match(out, /completed 0/);
    const blocked = section(out, "Blocked by dependencies (1)");
    assert.match(blocked[0] ?? "", /ID +WAITING ON +DESCRIPTION/);
    assert.equal(blocked.length, 2, blocked.join("\n"));
    assert.match(
      blocked[1] ?? "",
      new RegExp(`^  ${short(second)} +${short(first)} pending +Build the users API$`),
    );
    const recent = section(out, "Recent tasks");
    assert.equal(recent.length, 4);
    assert.match(recent[1] ?? "", new RegExp(`^  ${short(dropped)} +cancelled +normal`));
    assert.match(recent[3] ?? "", new RegExp(`^  ${short(first)} +pending +high +auto`));
    assert.deepEqual(section(out, "Running agents"), ["  none"]);
  });

  it("status --json has counts, blocked tasks with what they wait on, recent tasks", async () => {
    const status = await box.json<StatusJson>(["status"]);
    assert.equal(status.database, box.path(".orchestrator", "tasks.db"));
    assert.equal(status.total, 3);
    assert.deepEqual(status.counts, {
      pending: 2,
      assigned: 0,
      in_progress: 0,
      completed: 0,
      failed: 0,
      cancelled: 1,
    });
    assert.equal(status.blocked.count, 1);
    assert.equal(status.blocked.tasks.length, 1);
    assert.equal(status.blocked.tasks[0]?.id, second);
    assert.deepEqual(status.blocked.tasks[0]?.waitingOn, [
      { id: first, description: "Design the users table", status: "pending" },
    ]);
    assert.deepEqual(
      status.recent.map((t) => t.id),
      [dropped, second, first],
    );
    assert.deepEqual(status.agents, []);
    const limited = await box.json<StatusJson>(["status", "--limit", "1"]);
    assert.deepEqual(
      limited.recent.map((t) => t.id),
      [dropped],
    );
  });

  it("task <full id> shows fields, dependencies both ways and events", async () => {
    const out = await box.ok(["task", first]);
    assert.match(out, new RegExp(`^Task ${first}  pending\n  Design the users table\n`));
    assert.match(out, /\n {2}priority {4}high \(3\)\n/);
    assert.match(out, /\n {2}agent {7}auto\n/);
    assert.deepEqual(section(out, "Depends on"), ["  none"]);
    const neededBy = section(out, "Needed by");
    assert.equal(neededBy.length, 1);
    assert.match(
      neededBy[0] ?? "",
      new RegExp(`^  ${short(second)}  pending +Build the users API$`),
    );
    const events = section(out, "Events");
    assert.match(events[0] ?? "", /task:submitted/);

    const dependent = await box.ok(["task", second]);
    const dependsOn = section(dependent, "Depends on");
    assert.equal(dependsOn.length, 1);
    assert.match(dependsOn[0] ?? "", new RegExp(`^  ${short(first)}  pending +Design the users`));
    assert.deepEqual(section(dependent, "Needed by"), ["  none"]);
  });

  it("task <unique prefix> shows the same task", async () => {
    const [full, prefix, upper] = await Promise.all([
      box.ok(["task", second]),
      box.ok(["task", second.slice(0, 6)]),
      box.ok(["task", second.slice(0, 8).toUpperCase()]),
    ]);
    assert.equal(prefix, full);
    assert.equal(upper, full);
  });

  it("task --json has the task, its dependencies both ways, events and agent runs", async () => {
    const [a, b, c] = await Promise.all([
      box.task(first.slice(0, 5)),
      box.task(second),
      box.task(dropped),
    ]);
    assert.equal(a.id, first);
    assert.equal(a.priority, 3);
    assert.deepEqual(a.dependencies, []);
    assert.deepEqual(a.dependents, [
      { id: second, description: "Build the users API", status: "pending" },
    ]);
    assert.deepEqual(
      a.events.map((e) => e.kind),
      ["task:submitted"],
    );
    assert.deepEqual(a.agentRuns, []);
    assert.deepEqual(
      b.dependencies.map((d) => [d.id, d.status]),
      [[first, "pending"]],
    );
    assert.equal(b.unmetDependencies, 1);
    assert.equal(c.status, "cancelled");
    assert.equal(c.agentType, "data-science-analyst");
    assert.deepEqual(
      c.events.map((e) => e.kind),
      ["task:submitted", "task:cancelled"],
    );
  });
});
