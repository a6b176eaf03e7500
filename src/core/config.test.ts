import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { describeConfig, loadConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("uses defaults under the working directory", () => {
    const config = loadConfig({ env: {}, cwd: dir });
    assert.equal(config.baseDir, join(dir, ".orchestrator"));
    assert.equal(config.dbPath, join(dir, ".orchestrator", "tasks.db"));
    assert.equal(config.maxAgents, 3);
    assert.equal(config.useApiMode, false);
    assert.equal(config.anthropicApiKey, null);
    assert.equal(config.sources.baseDir, "default");
  });

  it("reads .env, lets the environment override it, and flags override both", () => {
    const cwd = mkdtempSync(join(dir, "dotenv-"));
    writeFileSync(
      join(cwd, ".env"),
      "MAX_AGENTS=7\nUSE_API_MODE=yes\nORCHESTRATOR_BASE_DIR=from-file\n",
    );
    const fromFile = loadConfig({ env: {}, cwd });
    assert.equal(fromFile.maxAgents, 7);
    assert.equal(fromFile.useApiMode, true);
    assert.equal(fromFile.baseDir, join(cwd, "from-file"));
    assert.equal(fromFile.sources.maxAgents, ".env");

    const fromEnv = loadConfig({
      env: { MAX_AGENTS: "9", ORCHESTRATOR_BASE_DIR: "/abs/dir" },
      cwd,
    });
    assert.equal(fromEnv.maxAgents, 9);
    assert.equal(fromEnv.baseDir, "/abs/dir");
    assert.equal(fromEnv.sources.maxAgents, "environment");

    const fromFlags = loadConfig({
      env: { MAX_AGENTS: "9" },
      cwd,
      flags: { maxAgents: "2", baseDir: "x" },
    });
    assert.equal(fromFlags.maxAgents, 2);
    assert.equal(fromFlags.baseDir, join(cwd, "x"));
    assert.equal(fromFlags.sources.maxAgents, "flag");
  });

  it("rejects invalid values with the variable's name and where it came from", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ MAX_AGENTS: "abc" }, /MAX_AGENTS is 'abc'/],
      [{ MAX_AGENTS: "0" }, /MAX_AGENTS/],
      [{ MAX_AGENTS: "2.5" }, /MAX_AGENTS/],
      [{ USE_API_MODE: "maybe" }, /USE_API_MODE is 'maybe', which is not true or false/],
      [{ ORCHESTRATOR_BUSY_TIMEOUT_MS: "-1" }, /ORCHESTRATOR_BUSY_TIMEOUT_MS/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig({ env, cwd: dir }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message) && e.hint !== undefined,
      );
    }
    assert.throws(
      () => loadConfig({ env: {}, cwd: dir, flags: { maxAgents: "lots" } }),
      (e: unknown) => e instanceof ConfigError && /--max-agents/.test(e.message),
    );
  });

  it("never shows a secret", () => {
    const secret = "sk-ant-api03-very-secret-value";
    const config = loadConfig({ env: { ANTHROPIC_API_KEY: secret }, cwd: dir });
    assert.equal(config.anthropicApiKey, secret);
    const shown = JSON.stringify(describeConfig(config));
    assert.ok(!shown.includes(secret));
    assert.ok(!shown.includes("very-secret"));
    assert.match(shown, /redacted/);
  });
});
