import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeBuiltinBackends } from "./index.ts";

describe("makeBuiltinBackends", () => {
  it("registers claude, codex and gemini under their names, with their options", () => {
    const backends = makeBuiltinBackends({ codex: { binary: "/opt/codex" } });
    assert.deepEqual([...backends.keys()], ["claude", "codex", "gemini"]);
    for (const [name, backend] of backends) assert.equal(backend.name, name);
    const codex = backends.get("codex");
    const command = codex?.command({ prompt: "p", systemPrompt: "", cwd: ".", scratchDir: "." });
    assert.equal(command?.command, "/opt/codex");
  });

  it("returns a fresh map each call", () => {
    const a = makeBuiltinBackends();
    a.delete("claude");
    assert.equal(makeBuiltinBackends().has("claude"), true);
  });
});
