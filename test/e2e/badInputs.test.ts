// End-to-end: every kind of bad input is a short error with its exit code, and writes nothing.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { assertUserError, STACK_TRACE } from "../helpers/assertUserError.ts";
import type { RunResult } from "../helpers/nodeProcess.ts";
import { explain } from "../helpers/orchestrateCli.ts";
import { Sandbox, useSandbox } from "../helpers/sandbox.ts";
import { MISSING_ID } from "../helpers/taskIds.ts";

describe("bad inputs", { concurrency: true }, () => {
  const box = useSandbox();
  let existing = "";

  before(async () => {
    existing = await box.submit("The only task");
  });

  /** Runs `args`, asserts a clean error with `code`, and that the queue still holds one task. */
  async function rejects(
    args: readonly string[],
    code: number,
    message: RegExp,
    env: Record<string, string | undefined> = {},
  ): Promise<RunResult> {
    const result = await box.run(args, env);
    assertUserError(args, result, code, message);
    assert.equal(await box.taskCount(), 1, `a task was written by: ${args.join(" ")}`);
    return result;
  }

  /** Stands for the id of the queue's one task, which exists only once `before` has run. */
  const EXISTING = "<existing task id>";
  const usage: [string, string[], RegExp][] = [
    ["an empty description", ["submit", ""], /the task description is empty/],
    ["a blank description", ["submit", "  ", "\t"], /the task description is empty/],
    ["no description", ["submit"], /missing argument <description>/],
    ["an invalid priority name", ["submit", "x", "--priority", "highest"], /invalid priority/],
    ["an invalid priority number", ["submit", "x", "-p", "7"], /invalid priority '7'/],
    ["--context that is not JSON", ["submit", "x", "--context", "{repo:api}"], /not valid JSON/],
    ["--context that is a JSON array", ["submit", "x", "-c", "[1,2]"], /must be a JSON object/],
    ["--context that is null", ["submit", "x", "-c", "null"], /must be a JSON object/],
    ["--context that is a string", ["submit", "x", "-c", '"api"'], /must be a JSON object/],
    ["--max-attempts 0", ["submit", "x", "--max-attempts", "0"], /invalid --max-attempts/],
    ["--max-attempts abc", ["submit", "x", "--max-attempts", "abc"], /invalid --max-attempts/],
    ["--timeout soon", ["submit", "x", "--timeout", "soon"], /invalid --timeout 'soon'/],
    ["an option without its value", ["submit", "x", "--agent"], /--agent/],
    ["an unknown option", ["submit", "x", "--bogus"], /unknown option '--bogus'/],
    ["an unknown short option", ["status", "-z"], /unknown option '-z'/],
    ["too many arguments", ["task", EXISTING, "extra"], /too many arguments/],
    ["status --limit abc", ["status", "--limit", "abc"], /invalid --limit/],
    ["task --events abc", ["task", EXISTING, "--events", "abc"], /invalid --events 'abc'/],
    ["cleanup --older-than forever", ["cleanup", "--older-than", "forever"], /--older-than/],
    ["no command", ["--base-dir", "somewhere"], /no command given/],
  ];
  for (const [what, args, message] of usage) {
    it(`${what} is a usage error (2)`, async () => {
      assert.ok(existing, "the task was submitted");
      await rejects(
        args.map((arg) => (arg === EXISTING ? existing : arg)),
        2,
        message,
      );
    });
  }

  it("an unknown agent type is a usage error (2) suggesting the closest type", async () => {
    const result = await rejects(
      ["submit", "x", "--agent", "backend"],
      2,
      /unknown agent type 'backend'/,
    );
    assert.match(result.stderr, /hint: did you mean 'backend-systems-engineer'\?/);
  });

  it("a misspelt option is a usage error (2) suggesting the option", async () => {
    const result = await rejects(["submit", "x", "--priorty", "high"], 2, /'--priorty'/);
    assert.match(result.stderr, /hint: did you mean '--priority'\?/);
  });

  it("an unknown command is a usage error (2) suggesting the closest command", async () => {
    const result = await rejects(["stauts"], 2, /unknown command 'stauts'/);
    assert.match(result.stderr, /hint: did you mean 'status'\?/);
    await rejects(["frobnicate"], 2, /unknown command 'frobnicate'/);
  });

  for (const command of ["task", "retry", "cancel"]) {
    it(`${command} of an unknown id is not found (3)`, async () => {
      await rejects([command, MISSING_ID], 3, /no task matches '0000000000000000'/);
    });
  }

  it("an id that is not hex is not found (3)", async () => {
    const result = await rejects(["task", "not-an-id"], 3, /no task matches 'not-an-id'/);
    assert.match(result.stderr, /hint: .*hex/);
  });

  it("a dependency on a missing task is not found (3)", async () => {
    await rejects(["submit", "x", "--depends-on", MISSING_ID], 3, /no task matches/);
    await rejects(
      ["submit", "x", "-d", `${existing},${MISSING_ID}`],
      3,
      /no task matches '0000000000000000'/,
    );
  });

  it("a base dir beneath a regular file is a config error (5)", async () => {
    const file = join(box.root, "plain-file");
    writeFileSync(file, "not a directory\n");
    const result = await rejects(
      ["submit", "x", "--base-dir", join(file, "queue")],
      5,
      /cannot use base directory .*plain-file.*: a part of the path is a file, not a directory/,
    );
    assert.match(result.stderr, /hint: .*ORCHESTRATOR_BASE_DIR/);
    await rejects(["submit", "x"], 5, /cannot use base directory/, {
      ORCHESTRATOR_BASE_DIR: join(file, "queue", "deeper"),
    });
    assert.equal(readFileSync(file, "utf8"), "not a directory\n");
    assert.ok(statSync(file).isFile());
  });

  it("a tasks.db that is not an SQLite database is a config error (5)", async () => {
    const base = join(box.root, "not-sqlite");
    mkdirSync(base);
    const text = "this is a text file, not a database\n".repeat(50);
    writeFileSync(join(base, "tasks.db"), text);
    await rejects(["submit", "x", "--base-dir", base], 5, /tasks\.db is not an SQLite database/);
    await rejects(["status", "--base-dir", base], 5, /is not an SQLite database/);
    await rejects(["task", MISSING_ID, "--base-dir", base], 5, /is not an SQLite database/);
    assert.equal(readFileSync(join(base, "tasks.db"), "utf8"), text, "the file is untouched");
  });

  it("MAX_AGENTS=abc is a config error (5) naming the variable", async () => {
    const result = await rejects(["config"], 5, /MAX_AGENTS is 'abc'/, { MAX_AGENTS: "abc" });
    assert.match(result.stderr, /hint: /);
    await rejects(["submit", "x"], 5, /MAX_AGENTS/, { MAX_AGENTS: "abc" });
    await rejects(["config"], 5, /MAX_AGENTS is '0'/, { MAX_AGENTS: "0" });
  });

  it("a bad value in .env is a config error (5) that says it is in .env", async () => {
    const sub = new Sandbox();
    sub.create();
    try {
      writeFileSync(sub.path(".env"), "USE_API_MODE=maybe\n");
      const args = ["config"];
      assertUserError(args, await sub.run(args), 5, /USE_API_MODE \(in \.env\) is 'maybe'/);
    } finally {
      sub.remove();
    }
  });

  it("a bad --busy-timeout is a config error (5) naming the flag", async () => {
    await rejects(["submit", "x", "--busy-timeout", "soon"], 5, /--busy-timeout is 'soon'/);
  });

  it("--json on an error prints a JSON error object on stderr", async () => {
    const cases: [string[], number, string][] = [
      [["task", MISSING_ID, "--json"], 3, "notFound"],
      [["submit", "", "--json"], 2, "usage"],
      [["submit", "x", "--agent", "backend", "--json"], 2, "usage"],
      [["retry", existing, "--json"], 4, "conflict"],
      [["config", "--json"], 5, "config"],
    ];
    await Promise.all(
      cases.map(async ([args, code, name]) => {
        const env = name === "config" ? { MAX_AGENTS: "abc" } : {};
        const result = await box.run(args, env);
        const why = explain(args, result);
        assert.equal(result.code, code, why);
        assert.equal(result.stdout, "", why);
        assert.doesNotMatch(result.stderr, STACK_TRACE, why);
        const parsed = JSON.parse(result.stderr) as {
          error: { code: string; message: string; hint?: string };
        };
        assert.equal(parsed.error.code, name, why);
        assert.equal(typeof parsed.error.message, "string");
        assert.ok(parsed.error.message.length > 0);
        assert.equal(typeof parsed.error.hint, "string");
      }),
    );
    assert.equal(await box.taskCount(), 1);
  });

  it("--debug adds a stack trace to an error", async () => {
    const result = await box.run(["task", MISSING_ID, "--debug"]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^error: no task matches/);
    assert.match(result.stderr, STACK_TRACE);
  });
});
