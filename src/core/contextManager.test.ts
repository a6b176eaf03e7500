import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ContextManager } from "./contextManager.ts";
import { UsageError } from "./errors.ts";

describe("ContextManager", () => {
  const base = mkdtempSync(join(tmpdir(), "orchestrate-context-"));
  after(() => rmSync(base, { recursive: true, force: true }));
  const context = new ContextManager(base);
  context.ensureLayout();

  it("lays out the spec's files and directories under the base dir", () => {
    context.updateProjectContext({ name: "todo", stack: "node" });
    context.updateProjectContext({ stack: "node+sqlite" });
    context.writeActiveAgents([]);
    context.writeCompletedTasks([]);
    assert.deepEqual(context.readProjectContext(), { name: "todo", stack: "node+sqlite" });
    assert.deepEqual(readdirSync(base).sort(), [
      "active_agents.json",
      "agent_outputs",
      "completed_tasks.json",
      "project_context.json",
      "shared_artifacts",
    ]);
    assert.equal(context.outputPath("agent-1"), join(base, "agent_outputs", "agent-1_output.md"));
  });

  it("confines artifact names to shared_artifacts/", () => {
    const path = context.writeArtifact("api/spec.yaml", "openapi: 3.1.0\n");
    assert.equal(path, join(base, "shared_artifacts", "api", "spec.yaml"));
    assert.equal(readFileSync(path, "utf8"), "openapi: 3.1.0\n");
    for (const bad of [
      "../escape.md",
      "/etc/passwd",
      "a/../../b",
      "",
      "x\0y",
      "api/../../../tmp/x",
    ]) {
      assert.throws(() => context.artifactPath(bad), UsageError, JSON.stringify(bad));
    }
    assert.ok(!existsSync(join(base, "escape.md")));
    assert.deepEqual(
      context.listArtifacts().map((a) => a.name),
      [join("api", "spec.yaml")],
    );
  });

  it("leaves no temp files behind and tolerates a corrupt project_context.json", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(base, "project_context.json"), "{not json");
    assert.deepEqual(context.readProjectContext(), {});
    assert.ok(!readdirSync(base).some((n) => n.startsWith(".tmp-")));
  });
});
