import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentEvent, AgentRequest, OutputParser } from "../../ports/agentBackend.ts";
import { makeCodexBackend, makeCodexParser, tomlString } from "./codexBackend.ts";

function parseAll(parser: OutputParser, lines: readonly string[]): AgentEvent[] {
  return [...lines.flatMap((line) => parser.line(line)), ...parser.end()];
}

const line = (value: unknown): string => JSON.stringify(value);
const THREAD = "0199a213-81c0-7800-8aa1-bbab2a035a53";

const request: AgentRequest = {
  prompt: "Add a health endpoint",
  systemPrompt: 'You are "backend".\nBe brief.',
  cwd: "/tmp/project",
  scratchDir: "/tmp/scratch",
};

describe("codex backend command", () => {
  it("runs exec --json without approvals, instructions as a TOML string, the prompt last", () => {
    assert.deepEqual(makeCodexBackend().command(request), {
      command: "codex",
      args: [
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "-c",
        'developer_instructions="You are \\"backend\\".\\nBe brief."',
        "Add a health endpoint",
      ],
      env: {},
    });
  });

  it("adds -m from the request, else from the options, and drops -c for an empty system prompt", () => {
    const backend = makeCodexBackend({ binary: "codex-dev", model: "gpt-5-codex" });
    assert.deepEqual(backend.command({ ...request, systemPrompt: "", model: "o4-mini" }), {
      command: "codex-dev",
      args: [
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "-m",
        "o4-mini",
        "Add a health endpoint",
      ],
      env: {},
    });
    assert.deepEqual(backend.command(request).args.slice(4, 6), ["-m", "gpt-5-codex"]);
  });
});

describe("tomlString", () => {
  it("escapes what TOML basic strings forbid raw, including DEL and lone surrogates", () => {
    assert.equal(tomlString('a "b" \\ c\n\t'), '"a \\"b\\" \\\\ c\\n\\t"');
    assert.equal(tomlString("x\u007fy\u0001"), '"x\\u007Fy\\u0001"');
    assert.equal(tomlString("\ud800"), '"\ufffd"');
  });
});

describe("codex exec --json parser", () => {
  it("normalizes a successful turn: session, tools, file changes, last message, usage", () => {
    const events = parseAll(makeCodexParser(), [
      line({ type: "thread.started", thread_id: THREAD }),
      line({ type: "turn.started" }),
      line({ type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Plan**" } }),
      line({
        type: "item.started",
        item: {
          id: "item_1",
          type: "command_execution",
          command: "bash -lc ls",
          aggregated_output: "",
          exit_code: null,
          status: "in_progress",
        },
      }),
      line({
        type: "item.completed",
        item: {
          id: "item_1",
          type: "command_execution",
          command: "bash -lc ls",
          aggregated_output: "README.md\n",
          exit_code: 0,
          status: "completed",
        },
      }),
      line({
        type: "item.completed",
        item: {
          id: "item_2",
          type: "command_execution",
          command: "bash -lc 'npm test'",
          aggregated_output: "1 failing\n",
          exit_code: 1,
          status: "failed",
        },
      }),
      line({
        type: "item.completed",
        item: { id: "item_3", type: "agent_message", text: "Draft" },
      }),
      line({
        type: "item.completed",
        item: {
          id: "item_4",
          type: "file_change",
          changes: [
            { path: "src/health.ts", kind: "add" },
            { path: "src/app.ts", kind: "update" },
          ],
          status: "completed",
        },
      }),
      line({
        type: "item.completed",
        item: { id: "item_5", type: "agent_message", text: "Done." },
      }),
      line({
        type: "turn.completed",
        usage: { input_tokens: 2946, cached_input_tokens: 1024, output_tokens: 77 },
      }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: THREAD },
      { type: "tool_use", name: "shell", input: "bash -lc ls" },
      { type: "tool_result", isError: false, text: "README.md\n" },
      { type: "tool_use", name: "shell", input: "bash -lc 'npm test'" },
      { type: "tool_result", isError: true, text: "1 failing\n" },
      { type: "text", text: "Draft" },
      { type: "tool_use", name: "file_change", input: "add src/health.ts\nupdate src/app.ts" },
      { type: "text", text: "Done." },
      { type: "usage", inputTokens: 2946, outputTokens: 77 },
      { type: "result", success: true, text: "Done." },
    ]);
  });

  it("fails on turn.failed, after reporting reconnects as retries and errors as errors", () => {
    const events = parseAll(makeCodexParser(), [
      line({ type: "thread.started", thread_id: THREAD }),
      line({ type: "turn.started" }),
      line({
        type: "error",
        message: "Reconnecting... 1/5 (stream disconnected before completion)",
      }),
      line({ type: "error", message: "unexpected status 401 Unauthorized" }),
      line({ type: "turn.failed", error: { message: "unexpected status 401 Unauthorized" } }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: THREAD },
      { type: "retry", message: "Reconnecting... 1/5 (stream disconnected before completion)" },
      { type: "error", message: "unexpected status 401 Unauthorized" },
      { type: "error", message: "unexpected status 401 Unauthorized" },
      { type: "result", success: false, text: "unexpected status 401 Unauthorized" },
    ]);
  });

  it("fails a stream that stops after an error, with that error as the result text", () => {
    const events = parseAll(makeCodexParser(), [
      line({ type: "thread.started", thread_id: THREAD }),
      line({ type: "error", message: "stream error: connection refused" }),
    ]);
    assert.deepEqual(events.at(-1), {
      type: "result",
      success: false,
      text: "stream error: connection refused",
    });
  });

  it("reports a stream cut off before turn.completed, and an empty one, as failed results", () => {
    const cut = parseAll(makeCodexParser(), [
      line({ type: "thread.started", thread_id: THREAD }),
      line({ type: "item.completed", item: { id: "i", type: "agent_message", text: "half" } }),
    ]);
    assert.deepEqual(cut.at(-1), {
      type: "result",
      success: false,
      text: "codex ended without turn.completed",
    });
    assert.deepEqual(parseAll(makeCodexParser(), []), [
      { type: "result", success: false, text: "codex ended without turn.completed" },
    ]);
  });

  it("succeeds with an empty text when the turn completes without an agent message", () => {
    assert.deepEqual(parseAll(makeCodexParser(), [line({ type: "turn.completed" })]), [
      { type: "result", success: true, text: "" },
    ]);
  });

  it("ignores garbage and unknown events, and maps MCP calls and web searches to tool_use", () => {
    const events = parseAll(makeCodexParser(), [
      "garbage",
      "{",
      '"a string"',
      line({ type: "item.updated", item: { id: "t", type: "todo_list", items: [] } }),
      line({ type: "item.completed" }),
      line({
        type: "item.completed",
        item: {
          id: "m",
          type: "mcp_tool_call",
          server: "docs",
          tool: "search",
          status: "completed",
        },
      }),
      line({ type: "item.completed", item: { id: "w", type: "web_search", query: "toml spec" } }),
      line({ type: "turn.completed", usage: {} }),
    ]);
    assert.deepEqual(events, [
      { type: "tool_use", name: "docs.search" },
      { type: "tool_result", isError: false },
      { type: "tool_use", name: "web_search", input: "toml spec" },
      { type: "result", success: true, text: "" },
    ]);
  });
});
