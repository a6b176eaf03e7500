// End-to-end: the program's and every command's help, and --version.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { explain } from "../helpers/orchestrateCli.ts";
import { useSandbox } from "../helpers/sandbox.ts";

const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as {
    version: string;
  }
).version;
const COMMANDS = ["submit", "status", "task", "retry", "cancel", "cleanup", "config"];

describe("help and version", { concurrency: true }, () => {
  const box = useSandbox();

  for (const flag of ["--help", "-h", "help"]) {
    it(`'${flag}' prints the program help`, async () => {
      const out = await box.ok([flag]);
      assert.match(out, /^Usage: orchestrate <command> \[options\]\n/);
      for (const name of COMMANDS) assert.match(out, new RegExp(`^  ${name} +\\S`, "m"));
      assert.match(out, /--version/);
      assert.match(out, /--base-dir <dir>/);
    });
  }

  it("with no arguments prints the help on stdout and exits 2", async () => {
    const result = await box.run([]);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /^Usage: orchestrate <command>/);
  });

  for (const name of COMMANDS) {
    it(`'${name} --help' prints the command's usage and options`, async () => {
      const out = await box.ok([name, "--help"]);
      assert.match(out, new RegExp(`^Usage: orchestrate ${name}\\b`));
      assert.match(out, /\nOptions:\n/);
      assert.match(out, /\nGlobal options:\n/);
      assert.match(out, /--base-dir <dir>/);
      assert.match(out, /--json/);
    });
  }

  it("'help <command>' prints the same text as '<command> --help'", async () => {
    const [viaHelp, viaFlag] = await Promise.all([
      box.ok(["help", "submit"]),
      box.ok(["submit", "--help"]),
    ]);
    assert.equal(viaHelp, viaFlag);
  });

  it("'submit --help' lists the agent types and the options", async () => {
    const out = await box.ok(["submit", "-h"]);
    for (const option of [
      "--agent",
      "--priority",
      "--depends-on",
      "--context",
      "--max-attempts",
      "--timeout",
      "--quiet",
    ]) {
      assert.ok(out.includes(option), option);
    }
    assert.match(out, /^ {2}backend-systems-engineer$/m);
    assert.match(out, /^ {2}llm-architect$/m);
  });

  for (const flag of ["--version", "-V"]) {
    it(`'${flag}' prints the package version`, async () => {
      const result = await box.run([flag]);
      assert.equal(result.code, 0, explain([flag], result));
      assert.equal(result.stdout, `${VERSION}\n`);
      assert.equal(result.stderr, "");
    });
  }

  it("help and version create no queue", async () => {
    await box.ok(["--help"]);
    await box.ok(["--version"]);
    assert.equal(existsSync(box.path(".orchestrator")), false);
  });
});
