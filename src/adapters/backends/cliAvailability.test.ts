import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeClaudeBackend } from "./claudeBackend.ts";
import { makeCodexBackend } from "./codexBackend.ts";
import { makeGeminiBackend } from "./geminiBackend.ts";

describe("CLI backend availability", () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-availability-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ["claude", "codex", "gemini"]) {
    writeFileSync(join(dir, name), "#!/bin/sh\n");
    chmodSync(join(dir, name), 0o755);
  }
  const cases = [
    { backend: makeClaudeBackend(), pkg: "@anthropic-ai/claude-code", key: "ANTHROPIC_API_KEY" },
    { backend: makeCodexBackend(), pkg: "@openai/codex", key: "OPENAI_API_KEY" },
    { backend: makeGeminiBackend(), pkg: "@google/gemini-cli", key: "GEMINI_API_KEY" },
  ];

  for (const { backend, pkg, key } of cases) {
    it(`${backend.name}: unavailable without the binary, naming the npm package`, () => {
      assert.deepEqual(backend.availability({ PATH: join(dir, "missing"), [key]: "k" }), {
        available: false,
        reason: `${backend.name} not found on PATH: install it with \`npm install -g ${pkg}\``,
      });
    });

    it(`${backend.name}: available with the binary; a missing key is only a note`, () => {
      const path = join(dir, backend.name);
      assert.deepEqual(backend.availability({ PATH: dir, [key]: "k" }), { available: true, path });
      const noKey = backend.availability({ PATH: dir, [key]: "" });
      assert.equal(noKey.available, true);
      assert.equal(noKey.path, path);
      assert.match(
        noKey.reason ?? "",
        new RegExp(`${key}.* not set: ${backend.name} must be logged in`),
      );
    });
  }

  it("honours a binary given as a path", () => {
    const path = join(dir, "codex");
    assert.deepEqual(makeCodexBackend({ binary: path }).availability({ OPENAI_API_KEY: "k" }), {
      available: true,
      path,
    });
  });
});
