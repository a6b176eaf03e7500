import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { AgentEvent, AgentRequest, OutputParser } from "../../ports/agentBackend.ts";
import { GEMINI_SYSTEM_FILE, makeGeminiBackend, makeGeminiParser } from "./geminiBackend.ts";

function parseAll(parser: OutputParser, lines: readonly string[]): AgentEvent[] {
  return [...lines.flatMap((line) => parser.line(line)), ...parser.end()];
}

const line = (value: unknown): string => JSON.stringify(value);
const SESSION = "c0ffee00-0000-4000-8000-000000000001";
const TS = "2026-11-20T10:00:00.000Z";

const root = mkdtempSync(join(tmpdir(), "gemini-backend-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("gemini backend command", () => {
  it("runs headless with stream-json and yolo, and writes the system prompt file it points to", () => {
    const scratchDir = join(root, "scratch", "nested");
    const request: AgentRequest = {
      prompt: "Write the schema",
      systemPrompt: "You are a data architect.",
      cwd: root,
      scratchDir,
    };
    const systemFile = join(scratchDir, GEMINI_SYSTEM_FILE);
    assert.deepEqual(makeGeminiBackend().command(request), {
      command: "gemini",
      args: [
        "-p",
        "Write the schema",
        "-m",
        "gemini-2.5-pro",
        "--output-format",
        "stream-json",
        "-y",
        "--skip-trust",
      ],
      env: {
        GEMINI_CLI_NO_RELAUNCH: "true",
        GEMINI_CLI_TRUST_WORKSPACE: "true",
        GEMINI_SYSTEM_MD: systemFile,
      },
    });
    const written = readFileSync(systemFile, "utf8");
    assert.ok(written.startsWith("You are a data architect.\n\n"), written);
    assert.match(written, /Gemini CLI/);
    assert.deepEqual(readdirSync(scratchDir), [GEMINI_SYSTEM_FILE], "no temp file left behind");
  });

  it("takes the model from the request, then the options, and rewrites the file each time", () => {
    const scratchDir = join(root, "scratch2");
    const backend = makeGeminiBackend({ binary: "gemini-beta", model: "gemini-2.5-flash" });
    const base = { prompt: "p", systemPrompt: "first", cwd: root, scratchDir };
    const command = backend.command(base);
    assert.equal(command.command, "gemini-beta");
    assert.deepEqual(command.args.slice(2, 4), ["-m", "gemini-2.5-flash"]);
    const second = backend.command({ ...base, systemPrompt: "second", model: "gemini-3-pro" });
    assert.deepEqual(second.args.slice(2, 4), ["-m", "gemini-3-pro"]);
    assert.ok(readFileSync(join(scratchDir, GEMINI_SYSTEM_FILE), "utf8").startsWith("second\n"));
  });
});

describe("gemini stream-json parser", () => {
  it("normalizes a successful run, joining deltas into the result text", () => {
    const events = parseAll(makeGeminiParser(), [
      line({ type: "init", timestamp: TS, session_id: SESSION, model: "gemini-2.5-pro" }),
      line({ type: "message", timestamp: TS, role: "user", content: "Write the schema" }),
      line({ type: "message", timestamp: TS, role: "assistant", content: "Writing ", delta: true }),
      line({ type: "message", timestamp: TS, role: "assistant", content: "it now.", delta: true }),
      line({
        type: "tool_use",
        timestamp: TS,
        tool_name: "write_file",
        tool_id: "write_file-1",
        parameters: { file_path: "schema.sql", content: "create table t();" },
      }),
      line({
        type: "tool_result",
        timestamp: TS,
        tool_id: "write_file-1",
        status: "success",
        output: "Wrote schema.sql",
      }),
      line({
        type: "tool_result",
        timestamp: TS,
        tool_id: "shell-2",
        status: "error",
        error: { type: "execution_failed", message: "exit code 1" },
      }),
      line({ type: "message", timestamp: TS, role: "assistant", content: "Done.", delta: true }),
      line({
        type: "result",
        timestamp: TS,
        status: "success",
        stats: { total_tokens: 1500, input_tokens: 1200, output_tokens: 300, duration_ms: 4000 },
      }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: SESSION, model: "gemini-2.5-pro" },
      { type: "text", text: "Writing " },
      { type: "text", text: "it now." },
      {
        type: "tool_use",
        name: "write_file",
        input: '{"file_path":"schema.sql","content":"create table t();"}',
      },
      { type: "tool_result", isError: false, text: "Wrote schema.sql" },
      { type: "tool_result", isError: true, text: "exit code 1" },
      { type: "text", text: "Done." },
      { type: "usage", inputTokens: 1200, outputTokens: 300 },
      { type: "result", success: true, text: "Writing it now.\n\nDone." },
    ]);
  });

  it("fails a result with status error, using its error message", () => {
    const events = parseAll(makeGeminiParser(), [
      line({ type: "init", timestamp: TS, session_id: SESSION, model: "gemini-2.5-pro" }),
      line({ type: "error", timestamp: TS, severity: "warning", message: "Loop detected" }),
      line({ type: "error", timestamp: TS, severity: "error", message: "quota exceeded" }),
      line({
        type: "result",
        timestamp: TS,
        status: "error",
        error: { type: "FatalTurnLimitedError", message: "Reached max turns" },
        stats: { input_tokens: 10, output_tokens: 0 },
      }),
    ]);
    assert.deepEqual(events, [
      { type: "session", sessionId: SESSION, model: "gemini-2.5-pro" },
      { type: "error", message: "warning: Loop detected" },
      { type: "error", message: "quota exceeded" },
      { type: "usage", inputTokens: 10, outputTokens: 0 },
      { type: "result", success: false, text: "Reached max turns" },
    ]);
    assert.deepEqual(parseAll(makeGeminiParser(), [line({ type: "result", status: "error" })]), [
      { type: "result", success: false, text: "gemini ended with status error" },
    ]);
  });

  it("ignores garbage and reports an empty or truncated stream as a failed result", () => {
    assert.deepEqual(
      parseAll(makeGeminiParser(), [
        "Loaded cached credentials.",
        "{oops",
        "true",
        line({ type: "message", role: "assistant" }),
      ]),
      [{ type: "result", success: false, text: "gemini ended without a result event" }],
    );
    assert.deepEqual(parseAll(makeGeminiParser(), []), [
      { type: "result", success: false, text: "gemini ended without a result event" },
    ]);
  });
});
