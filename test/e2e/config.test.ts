// End-to-end: orchestrate config shows each setting and where it comes from, never the API key.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { explain } from "../helpers/orchestrateCli.ts";
import { Sandbox, useSandbox } from "../helpers/sandbox.ts";

interface ConfigJson {
  database: string;
  settings: { name: string; value: string; source: string }[];
}

/** A setting of `orchestrate config --json` by name. */
function setting(config: ConfigJson, name: string): { value: string; source: string } {
  const entry = config.settings.find((s) => s.name === name);
  assert.ok(entry, `no setting ${name}`);
  return entry;
}

describe("config", { concurrency: true }, () => {
  const box = useSandbox();
  const secret = "sk-ant-e2e-SECRET-0123456789";
  const fileSecret = "sk-ant-e2e-FILE-SECRET-9876543210";

  it("shows every value and where it comes from", async () => {
    const out = await box.ok(["config"]);
    assert.match(out, /^ {2}SETTING +VALUE +FROM$/m);
    assert.match(
      out,
      new RegExp(
        `^  ORCHESTRATOR_BASE_DIR +${escapeRegExp(box.path(".orchestrator"))} +default$`,
        "m",
      ),
    );
    assert.match(out, /^ {2}MAX_AGENTS +3 +default$/m);
    assert.match(out, /^ {2}USE_API_MODE +false +default$/m);
    assert.match(out, /^ {2}ANTHROPIC_API_KEY +<not set> +default$/m);
    assert.match(out, /^ {2}ORCHESTRATOR_BUSY_TIMEOUT_MS +5000 +default$/m);
    assert.match(
      out,
      new RegExp(`\ndatabase: ${escapeRegExp(box.path(".orchestrator", "tasks.db"))}\n$`),
    );
    const json = await box.json<ConfigJson>(["config"]);
    assert.equal(json.database, box.path(".orchestrator", "tasks.db"));
    assert.deepEqual(
      json.settings.map((s) => s.name),
      [
        "ORCHESTRATOR_BASE_DIR",
        "MAX_AGENTS",
        "USE_API_MODE",
        "ANTHROPIC_API_KEY",
        "ORCHESTRATOR_BUSY_TIMEOUT_MS",
        "ORCHESTRATOR_ISOLATION",
        "ORCHESTRATOR_SETUP_COMMAND",
        "ORCHESTRATOR_VERIFY_COMMAND",
      ],
    );
    assert.ok(json.settings.every((s) => s.source === "default"));
    assert.equal(existsSync(box.path(".orchestrator")), false, "config creates no queue");
  });

  it("never prints ANTHROPIC_API_KEY, in text or --json", async () => {
    const env = { ANTHROPIC_API_KEY: secret, MAX_AGENTS: "4", USE_API_MODE: "yes" };
    for (const args of [["config"], ["config", "--json"], ["config", "--debug"]]) {
      const result = await box.run(args, env);
      assert.equal(result.code, 0, explain(args, result));
      assert.ok(!result.stdout.includes(secret), `secret in stdout of ${args.join(" ")}`);
      assert.ok(!result.stderr.includes(secret), `secret in stderr of ${args.join(" ")}`);
      assert.ok(!result.stdout.includes("sk-ant"), "no part of the secret either");
    }
    const json = await box.json<ConfigJson>(["config"], env);
    assert.deepEqual(setting(json, "ANTHROPIC_API_KEY"), {
      name: "ANTHROPIC_API_KEY",
      value: "<set, redacted>",
      source: "environment",
    });
    assert.equal(setting(json, "MAX_AGENTS").value, "4");
    assert.equal(setting(json, "USE_API_MODE").value, "true");
  });

  it("flags beat the environment, the environment beats .env", async () => {
    const sub = new Sandbox();
    sub.create();
    try {
      writeFileSync(
        sub.path(".env"),
        [
          "ORCHESTRATOR_BASE_DIR=from-dotenv",
          "MAX_AGENTS=7",
          "USE_API_MODE=true",
          `ANTHROPIC_API_KEY=${fileSecret}`,
          "ORCHESTRATOR_BUSY_TIMEOUT_MS=111",
          "ORCHESTRATOR_ISOLATION=none",
          "ORCHESTRATOR_SETUP_COMMAND=npm ci",
          "ORCHESTRATOR_VERIFY_COMMAND=npm test",
          "",
        ].join("\n"),
      );
      const fromFile = await sub.json<ConfigJson>(["config"]);
      assert.deepEqual(
        fromFile.settings.map((s) => [s.name, s.value, s.source]),
        [
          ["ORCHESTRATOR_BASE_DIR", sub.path("from-dotenv"), ".env"],
          ["MAX_AGENTS", "7", ".env"],
          ["USE_API_MODE", "true", ".env"],
          ["ANTHROPIC_API_KEY", "<set, redacted>", ".env"],
          ["ORCHESTRATOR_BUSY_TIMEOUT_MS", "111", ".env"],
          ["ORCHESTRATOR_ISOLATION", "none", ".env"],
          ["ORCHESTRATOR_SETUP_COMMAND", "npm ci", ".env"],
          ["ORCHESTRATOR_VERIFY_COMMAND", "npm test", ".env"],
        ],
      );
      assert.equal(fromFile.database, sub.path("from-dotenv", "tasks.db"));

      const env = {
        ORCHESTRATOR_BASE_DIR: "from-env",
        MAX_AGENTS: "5",
        ORCHESTRATOR_BUSY_TIMEOUT_MS: "222",
        ORCHESTRATOR_ISOLATION: "worktree",
      };
      const fromEnv = await sub.json<ConfigJson>(["config"], env);
      assert.deepEqual(
        fromEnv.settings.map((s) => [s.name, s.value, s.source]),
        [
          ["ORCHESTRATOR_BASE_DIR", sub.path("from-env"), "environment"],
          ["MAX_AGENTS", "5", "environment"],
          ["USE_API_MODE", "true", ".env"],
          ["ANTHROPIC_API_KEY", "<set, redacted>", ".env"],
          ["ORCHESTRATOR_BUSY_TIMEOUT_MS", "222", "environment"],
          ["ORCHESTRATOR_ISOLATION", "worktree", "environment"],
          ["ORCHESTRATOR_SETUP_COMMAND", "npm ci", ".env"],
          ["ORCHESTRATOR_VERIFY_COMMAND", "npm test", ".env"],
        ],
      );

      const flagsArgs = ["config", "--base-dir", "from-flag", "--busy-timeout", "333"];
      const fromFlags = await sub.json<ConfigJson>(flagsArgs, env);
      assert.deepEqual(setting(fromFlags, "ORCHESTRATOR_BASE_DIR"), {
        name: "ORCHESTRATOR_BASE_DIR",
        value: sub.path("from-flag"),
        source: "flag",
      });
      assert.deepEqual(setting(fromFlags, "ORCHESTRATOR_BUSY_TIMEOUT_MS"), {
        name: "ORCHESTRATOR_BUSY_TIMEOUT_MS",
        value: "333",
        source: "flag",
      });
      assert.equal(setting(fromFlags, "MAX_AGENTS").source, "environment");
      assert.equal(fromFlags.database, sub.path("from-flag", "tasks.db"));

      // Global options work before the command word too, and the text view shows the sources.
      const text = await sub.ok(["--base-dir", "from-flag", "config"], env);
      assert.match(text, /^ {2}ORCHESTRATOR_BASE_DIR +\S+from-flag +flag$/m);
      assert.match(text, /^ {2}MAX_AGENTS +5 +environment$/m);
      assert.match(text, /^ {2}USE_API_MODE +true +\.env$/m);
      assert.ok(!text.includes(fileSecret), "the .env secret is not printed");
      assert.ok(!JSON.stringify(fromFile).includes(fileSecret));

      // Submitting uses the winning base dir.
      await sub.submit("where does it go", "--base-dir", "from-flag");
      assert.equal(existsSync(sub.path("from-flag", "tasks.db")), true);
      assert.equal(existsSync(sub.path("from-env")), false);
      assert.equal(existsSync(sub.path("from-dotenv")), false);
    } finally {
      sub.remove();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
