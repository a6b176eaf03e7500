import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { AgentEvent, AgentRequest, OutputParser } from "../../ports/agentBackend.ts";
import { makeCustomBackend } from "./customBackend.ts";

function parseAll(parser: OutputParser, lines: readonly string[]): AgentEvent[] {
  return [...lines.flatMap((line) => parser.line(line)), ...parser.end()];
}

const request: AgentRequest = {
  prompt: "Fix the {system} bug; cost $& and $1",
  systemPrompt: "You are {prompt}-proof",
  cwd: "/tmp/project",
  scratchDir: "/tmp/scratch",
};

describe("custom backend command", () => {
  it("replaces placeholders in place, once, without treating $ patterns or nested braces specially", () => {
    const backend = makeCustomBackend({
      name: "aider",
      binary: "aider",
      args: ["--message", "{prompt}", "--system={system}", "--yes"],
    });
    assert.deepEqual(backend.command(request), {
      command: "aider",
      args: [
        "--message",
        "Fix the {system} bug; cost $& and $1",
        "--system=You are {prompt}-proof",
        "--yes",
      ],
      env: {},
    });
  });

  it("sends the prompt on stdin by default when no argument holds {prompt}", () => {
    const backend = makeCustomBackend({ name: "llm", binary: "llm", args: ["-s", "{system}"] });
    assert.deepEqual(backend.command(request), {
      command: "llm",
      args: ["-s", "You are {prompt}-proof"],
      env: {},
      stdin: request.prompt,
    });
  });

  it("appends the prompt as the last argument for promptVia arg without a placeholder", () => {
    const backend = makeCustomBackend({ name: "x", binary: "x", args: ["run"], promptVia: "arg" });
    assert.deepEqual(backend.command(request), {
      command: "x",
      args: ["run", request.prompt],
      env: {},
    });
  });

  it("can send the prompt on stdin even with a {prompt} argument", () => {
    const backend = makeCustomBackend({
      name: "x",
      binary: "x",
      args: ["--title", "{prompt}"],
      promptVia: "stdin",
    });
    assert.equal(backend.command(request).stdin, request.prompt);
  });

  it("carries the timeout as defaultTimeoutMs", () => {
    assert.equal(
      makeCustomBackend({ name: "x", binary: "x", args: [], timeoutMs: 60_000 }).defaultTimeoutMs,
      60_000,
    );
    assert.equal(
      makeCustomBackend({ name: "x", binary: "x", args: [] }).defaultTimeoutMs,
      undefined,
    );
  });
});

describe("custom backend output", () => {
  it("text: every non-empty line is text, and end() succeeds with the whole output", () => {
    const parser = makeCustomBackend({ name: "x", binary: "x", args: [] }).parser();
    assert.deepEqual(parseAll(parser, ["first\r", "", '{"type":"result"}', "last"]), [
      { type: "text", text: "first" },
      { type: "text", text: '{"type":"result"}' },
      { type: "text", text: "last" },
      { type: "result", success: true, text: 'first\n\n{"type":"result"}\nlast' },
    ]);
  });

  it("text: an empty stream still ends with a (successful, empty) result", () => {
    const parser = makeCustomBackend({ name: "x", binary: "x", args: [] }).parser();
    assert.deepEqual(parseAll(parser, []), [{ type: "result", success: true, text: "" }]);
  });

  it("claude, codex and gemini formats reuse the built-in parsers", () => {
    const parse = (outputFormat: "claude" | "codex" | "gemini", lines: string[]) =>
      parseAll(
        makeCustomBackend({ name: "x", binary: "x", args: [], outputFormat }).parser(),
        lines,
      );
    assert.deepEqual(
      parse("claude", ['{"type":"result","subtype":"success","is_error":true,"result":"no"}']),
      [{ type: "result", success: false, text: "no" }],
    );
    assert.deepEqual(parse("codex", ['{"type":"turn.failed","error":{"message":"bad"}}']), [
      { type: "error", message: "bad" },
      { type: "result", success: false, text: "bad" },
    ]);
    assert.deepEqual(parse("gemini", ['{"type":"result","status":"success"}']), [
      { type: "result", success: true, text: "" },
    ]);
  });
});

describe("custom backend availability", () => {
  const dir = mkdtempSync(join(tmpdir(), "custom-backend-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is available when the binary is on PATH, and says how to fix it when not", () => {
    const binary = join(dir, "my-agent");
    writeFileSync(binary, "#!/bin/sh\n");
    chmodSync(binary, 0o755);
    const backend = makeCustomBackend({ name: "mine", binary: "my-agent", args: [] });
    assert.deepEqual(backend.availability({ PATH: dir }), { available: true, path: binary });
    const missing = backend.availability({ PATH: "/nonexistent" });
    assert.equal(missing.available, false);
    assert.match(missing.reason ?? "", /my-agent not found on PATH.*"mine"/);
  });
});
