import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadAgentConfig } from "./agentConfig.ts";
import { BUILTIN_AGENT_TYPES, routeByKeywords } from "./agentTypes.ts";
import { ConfigError } from "./errors.ts";

describe("loadAgentConfig (agents.json)", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const withFile = (content: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-agents-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "agents.json"),
      typeof content === "string" ? content : JSON.stringify(content),
    );
    return dir;
  };

  it("is the built-in registry when there is no file", () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-agents-"));
    dirs.push(dir);
    const config = loadAgentConfig(dir);
    assert.equal(config.types.length, BUILTIN_AGENT_TYPES.length);
    assert.equal(config.source, null);
    assert.deepEqual(config.customClis, []);
  });

  it("adds new types, overrides built-in fields, maps types to backends, declares custom CLIs", () => {
    const dir = withFile({
      agentTypes: {
        "security-reviewer": {
          description: "Reviews code for vulnerabilities",
          keywords: ["security", "vulnerability"],
          systemPrompt: "You are a security reviewer who reads code for injection and auth flaws.",
        },
        "backend-systems-engineer": { backend: "aider" },
      },
      backends: {
        aider: { binary: "aider", args: ["--yes", "--message", "{prompt}"], timeout: "20m" },
      },
      backendOrder: ["aider", "claude"],
    });
    const config = loadAgentConfig(dir);
    assert.equal(config.types.length, BUILTIN_AGENT_TYPES.length + 1);
    assert.equal(routeByKeywords("Run a security audit", config.types), "security-reviewer");
    const backend = config.types.find((t) => t.name === "backend-systems-engineer");
    assert.equal(
      backend?.systemPrompt,
      BUILTIN_AGENT_TYPES[0]?.systemPrompt,
      "untouched fields are kept",
    );
    assert.equal(config.typeBackends.get("backend-systems-engineer"), "aider");
    assert.deepEqual(config.customClis, [
      {
        name: "aider",
        binary: "aider",
        args: ["--yes", "--message", "{prompt}"],
        timeoutMs: 1_200_000,
      },
    ]);
    assert.deepEqual(config.backendOrder, ["aider", "claude"]);
  });

  it("explains what is wrong, with the file and the field", () => {
    const cases: [unknown, RegExp][] = [
      ["{not json", /not valid JSON/],
      [
        { agentTypes: { "new-type": { description: "x" } } },
        /agentTypes\.new-type: a new agent type needs/,
      ],
      [{ agentTypes: { "Bad Name": {} } }, /lowercase/],
      [{ backends: { tool: { args: [] } } }, /backends\.tool\.binary/],
      [{ backends: { tool: { binary: "t", timeout: "soon" } } }, /invalid backends\.tool\.timeout/],
      [{ unknownKey: 1 }, /unknownKey|Unrecognized/],
    ];
    for (const [content, message] of cases) {
      const dir = withFile(content);
      assert.throws(
        () => loadAgentConfig(dir),
        (e: unknown) =>
          (e instanceof ConfigError || e instanceof Error) && message.test((e as Error).message),
        String(message),
      );
    }
  });
});
