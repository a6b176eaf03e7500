import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentEvent, AgentRequest, OutputParser } from "../../ports/agentBackend.ts";
import { makeClaudeBackend, makeClaudeParser } from "./claudeBackend.ts";

/** Feeds lines then ends the stream, returning every event in order. */
function parseAll(parser: OutputParser, lines: readonly string[]): AgentEvent[] {
  return [...lines.flatMap((line) => parser.line(line)), ...parser.end()];
}

const line = (value: unknown): string => JSON.stringify(value);
const SESSION = "6f1c2d7e-1b7a-4d55-9f2c-0b3a8e4c9d10";

const request: AgentRequest = {
  prompt: 'Build the "users" API\nWRITE_FILE: api.ts',
  systemPrompt: "You are a backend engineer.",
  cwd: "/tmp/project",
  scratchDir: "/tmp/scratch",
};

describe("claude backend command", () => {
  const rootEnv = process.getuid?.() === 0 ? { IS_SANDBOX: "1" } : {};

  it("runs print mode with stream-json, no permission prompts and the appended system prompt", () => {
    assert.deepEqual(makeClaudeBackend().command(request), {
      command: "claude",
      args: [
        "-p",
        request.prompt,
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--append-system-prompt",
        "You are a backend engineer.",
      ],
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...rootEnv },
    });
  });

  it("passes the request's model over the backend's, and the backend's when the request has none", () => {
    const backend = makeClaudeBackend({ binary: "/opt/claude", model: "opus" });
    const own = backend.command(request);
    assert.equal(own.command, "/opt/claude");
    assert.deepEqual(own.args.slice(-2), ["--model", "opus"]);
    assert.deepEqual(backend.command({ ...request, model: "sonnet" }).args.slice(-2), [
      "--model",
      "sonnet",
    ]);
  });

  it("leaves out --append-system-prompt when there is no system prompt", () => {
    const { args } = makeClaudeBackend().command({ ...request, systemPrompt: "" });
    assert.equal(args.includes("--append-system-prompt"), false);
  });

  it("sets IS_SANDBOX exactly when running as root", () => {
    const { env } = makeClaudeBackend().command(request);
    assert.equal(env["IS_SANDBOX"], process.getuid?.() === 0 ? "1" : undefined);
  });
});

describe("claude stream-json parser", () => {
  it("normalizes a successful run with text, a tool call and its result", () => {
    const events = parseAll(makeClaudeParser(), [
      line({
        type: "system",
        subtype: "init",
        cwd: "/tmp/project",
        session_id: SESSION,
        tools: ["Bash", "Write"],
        model: "claude-sonnet-4-5",
        permissionMode: "bypassPermissions",
      }),
      line({
        type: "assistant",
        session_id: SESSION,
        message: {
          id: "msg_1",
          role: "assistant",
          content: [
            { type: "thinking", thinking: "plan" },
            { type: "text", text: "I'll write the file." },
            { type: "tool_use", id: "toolu_1", name: "Write", input: { file_path: "api.ts" } },
          ],
        },
      }),
      line({
        type: "user",
        session_id: SESSION,
        message: {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "File created" }],
        },
      }),
      line({
        type: "user",
        message: {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              is_error: true,
              content: [{ type: "text", text: "exit 1" }],
            },
          ],
        },
      }),
      line({
        type: "result",
        subtype: "success",
        is_error: false,
        duration_ms: 5120,
        num_turns: 3,
        result: "Wrote api.ts",
        session_id: SESSION,
        total_cost_usd: 0.0421,
        usage: {
          input_tokens: 12,
          cache_creation_input_tokens: 800,
          cache_read_input_tokens: 4000,
          output_tokens: 250,
        },
      }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: SESSION, model: "claude-sonnet-4-5" },
      { type: "text", text: "I'll write the file." },
      { type: "tool_use", name: "Write", input: '{"file_path":"api.ts"}' },
      { type: "tool_result", isError: false, text: "File created" },
      { type: "tool_result", isError: true, text: "exit 1" },
      { type: "usage", inputTokens: 4812, outputTokens: 250, costUsd: 0.0421 },
      { type: "result", success: true, text: "Wrote api.ts" },
    ]);
  });

  it("treats is_error:true with subtype success as a failure, after the api_retry lines", () => {
    const events = parseAll(makeClaudeParser(), [
      line({ type: "system", subtype: "init", session_id: SESSION }),
      line({
        type: "system",
        subtype: "api_retry",
        attempt: 1,
        max_retries: 10,
        retry_delay_ms: 612.4,
        error_status: 401,
        error: "authentication_error",
        session_id: SESSION,
      }),
      line({ type: "system", subtype: "api_retry", session_id: SESSION }),
      line({
        type: "result",
        subtype: "success",
        is_error: true,
        result: "API Error: 401 invalid x-api-key",
        session_id: SESSION,
        total_cost_usd: 0,
        usage: { input_tokens: 0, output_tokens: 0 },
      }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: SESSION },
      {
        type: "retry",
        message:
          "API request failed with status 401: authentication_error; retrying (attempt 1/10) in 612 ms",
      },
      { type: "retry", message: "API request failed; retrying" },
      { type: "usage", inputTokens: 0, outputTokens: 0, costUsd: 0 },
      { type: "result", success: false, text: "API Error: 401 invalid x-api-key" },
    ]);
  });

  it("fails error subtypes, taking the text from `errors` when there is no `result`", () => {
    const parser = makeClaudeParser();
    assert.deepEqual(
      parser.line(line({ type: "result", subtype: "error_max_turns", is_error: true })),
      [{ type: "result", success: false, text: "claude ended with error_max_turns" }],
    );
    assert.deepEqual(
      makeClaudeParser().line(
        line({ type: "result", subtype: "error_during_execution", errors: ["boom", "again"] }),
      ),
      [{ type: "result", success: false, text: "boom\nagain" }],
    );
    assert.deepEqual(parser.end(), [], "no second result after a result line");
  });

  it("ignores garbage, non-object JSON, unknown types and other system lines", () => {
    const events = parseAll(makeClaudeParser(), [
      "",
      "Warning: something on stdout",
      "{not json",
      "[1,2]",
      "42",
      "null",
      line({ type: "system", subtype: "hook_response", session_id: SESSION }),
      line({ type: "stream_event", event: {} }),
      line({ type: "assistant", message: { content: "not a list" } }),
      line({ type: "assistant", message: { content: [null, 3, { type: "text", text: "" }] } }),
      line({ type: "result", subtype: "success", is_error: false, result: "ok" }),
    ]);
    assert.deepEqual(events, [{ type: "result", success: true, text: "ok" }]);
  });

  it("reports an empty stream, or one cut off before its result, as a failed result", () => {
    assert.deepEqual(parseAll(makeClaudeParser(), []), [
      { type: "result", success: false, text: "claude ended without a result event" },
    ]);
    const cut = makeClaudeParser();
    cut.line(line({ type: "system", subtype: "init", session_id: SESSION }));
    assert.deepEqual(cut.end(), [
      { type: "result", success: false, text: "claude ended without a result event" },
    ]);
    assert.deepEqual(cut.end(), [], "end() reports at most once");
  });
});
