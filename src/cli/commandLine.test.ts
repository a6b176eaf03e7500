import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../core/errors.ts";
import { type CommandSpec, type ProgramSpec, parseCommandLine } from "./commandLine.ts";

const submit: CommandSpec = {
  name: "submit",
  args: [{ name: "description", description: "what", variadic: true }],
  options: [
    { name: "priority", short: "p", value: "<level>", description: "p", default: "normal" },
    { name: "depends-on", short: "d", value: "<id>", description: "d", multiple: true },
    { name: "json", description: "json" },
  ],
  run: async () => {},
};
const task: CommandSpec = {
  name: "task",
  args: [{ name: "id", description: "id" }],
  options: [],
  run: async () => {},
};
const program: ProgramSpec = {
  name: "orchestrate",
  summary: "test",
  globalOptions: [
    { name: "base-dir", value: "<dir>", description: "b" },
    { name: "debug", description: "d" },
  ],
  commands: [
    { name: "submit", summary: "Submit", load: async () => submit },
    { name: "task", summary: "Show", load: async () => task },
  ],
};

describe("parseCommandLine", () => {
  it("parses arguments, defaults, repeated and comma-separated options, and globals anywhere", async () => {
    const result = await parseCommandLine(program, [
      "--base-dir",
      "/x",
      "submit",
      "Build",
      "the",
      "API",
      "-d",
      "a1,b2",
      "--depends-on",
      "c3",
      "--json",
    ]);
    assert.equal(result.kind, "run");
    if (result.kind !== "run") return;
    assert.equal(result.command.name, "submit");
    assert.deepEqual(result.parsed.args, { description: ["Build", "the", "API"] });
    assert.deepEqual(result.parsed.options, {
      baseDir: "/x",
      priority: "normal",
      dependsOn: ["a1", "b2", "c3"],
      json: true,
    });
  });

  it("answers help and version requests", async () => {
    assert.equal((await parseCommandLine(program, [])).kind, "help");
    assert.equal((await parseCommandLine(program, ["--version"])).kind, "version");
    const help = await parseCommandLine(program, ["submit", "--help"]);
    assert.equal(help.kind, "help");
    if (help.kind === "help") {
      assert.match(help.text, /Usage: orchestrate submit \[options\] <description\.\.\.>/);
      assert.match(help.text, /--priority <level>\s+p \(default: normal\)/);
    }
    const topic = await parseCommandLine(program, ["help", "task"]);
    assert.ok(topic.kind === "help" && topic.text.includes("orchestrate task <id>"));
  });

  it("turns every mistake into a usage error with a hint", async () => {
    const cases: [string[], RegExp, RegExp?][] = [
      [["stauts"], /unknown command 'stauts'/],
      [["sbumit", "x"], /unknown command/, /did you mean 'submit'/],
      [["submit", "x", "--prio", "high"], /unknown option '--prio'/, /did you mean '--priority'/],
      [["submit", "x", "--priority"], /argument missing|priority/],
      [["submit", "x", "--json=yes"], /json/],
      [["submit"], /missing argument <description>/],
      [["task"], /missing argument <id>/],
      [["task", "a", "b"], /too many arguments/],
      [["--debug"], /no command/],
    ];
    for (const [argv, message, hint] of cases) {
      await assert.rejects(
        parseCommandLine(program, argv),
        (e: unknown) =>
          e instanceof UsageError &&
          message.test(e.message) &&
          (hint ? hint.test(e.hint ?? "") : Boolean(e.hint)),
        argv.join(" "),
      );
    }
  });
});
