import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildTaskPrompt, DEPENDENCY_OUTPUT_LIMIT, PROMPT_LIMIT } from "./promptBuilder.ts";
import type { Task } from "./task.ts";

const task = {
  id: "aaaaaaaaaaaaaaaa",
  description: "Implement the todo API",
  agentType: null,
  context: { repo: "api" },
  planId: "plan-1",
} as unknown as Task;

describe("buildTaskPrompt", () => {
  it("includes the task, its context, dependency outputs, plan siblings, artifacts and where to write", () => {
    const prompt = buildTaskPrompt({
      task,
      agentType: "backend-systems-engineer",
      projectContext: { name: "todo" },
      dependencies: [
        {
          id: "bbbbbbbbbbbbbbbb",
          description: "Design the schema",
          agentType: "data-architect-governance",
          output: "users(id, email)",
          outputFile: null,
        },
      ],
      planSiblings: [
        {
          id: "cccccccccccccccc",
          description: "Build the UI",
          agentType: null,
          output: "React app in web/",
          outputFile: null,
        },
      ],
      artifacts: [{ name: "schema.sql", bytes: 120, modifiedAt: 0 }],
      artifactsDir: "/base/shared_artifacts",
      outputFile: "/base/agent_outputs/agent-1_output.md",
    });
    assert.match(prompt, /^# Your task \(backend-systems-engineer\)\n\nImplement the todo API/);
    assert.match(prompt, /"repo": "api"/);
    assert.match(prompt, /"name": "todo"/);
    assert.match(
      prompt,
      /### bbbbbbbb: Design the schema \(data-architect-governance\)\n\nusers\(id, email\)/,
    );
    assert.match(prompt, /- cccccccc Build the UI \(auto\): React app in web\//);
    assert.match(prompt, /Directory: \/base\/shared_artifacts\n- schema.sql \(120 bytes\)/);
    assert.match(prompt, /agent-1_output.md/);
  });

  it("cuts a long dependency output and says where the rest is", () => {
    const prompt = buildTaskPrompt({
      task,
      agentType: "backend-systems-engineer",
      projectContext: {},
      dependencies: [
        {
          id: "bbbbbbbbbbbbbbbb",
          description: "Huge",
          agentType: null,
          output: "x".repeat(DEPENDENCY_OUTPUT_LIMIT + 500),
          outputFile: "/o/full.md",
        },
      ],
      planSiblings: [],
      artifacts: [],
      artifactsDir: "/a",
      outputFile: "/o/me.md",
    });
    assert.ok(prompt.length < DEPENDENCY_OUTPUT_LIMIT + 2_000);
    assert.match(prompt, /The full output is in \/o\/full.md/);
    assert.match(prompt, /\(none yet\)/);
    assert.doesNotMatch(prompt, /Project context/);
  });

  it("keeps the whole prompt under PROMPT_LIMIT however many large dependencies there are", () => {
    const dependencies = Array.from({ length: 12 }, (_, i) => ({
      id: `${String(i).padStart(2, "0")}bbbbbbbbbbbbbb`,
      description: `Dependency ${i}`,
      agentType: null,
      output: `${i}`.repeat(DEPENDENCY_OUTPUT_LIMIT),
      outputFile: `/o/${i}.md`,
    }));
    const prompt = buildTaskPrompt({
      task,
      agentType: "backend-systems-engineer",
      projectContext: {},
      dependencies,
      planSiblings: [],
      artifacts: [],
      artifactsDir: "/a",
      outputFile: "/o/me.md",
    });
    assert.ok(prompt.length <= PROMPT_LIMIT, `${prompt.length}`);
    for (let i = 0; i < 12; i++)
      assert.match(prompt, new RegExp(`The full output is in /o/${i}\\.md`));
  });
});
