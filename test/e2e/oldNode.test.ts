// End-to-end: under a Node.js older than 24.15 the binary says what it needs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { STACK_TRACE } from "../helpers/assertUserError.ts";
import { explain } from "../helpers/orchestrateCli.ts";
import { useSandbox } from "../helpers/sandbox.ts";

describe("an old Node.js", { concurrency: false }, () => {
  const box = useSandbox();

  it("prints the required version instead of a syntax error", async (t) => {
    const oldNode = "/usr/bin/node";
    if (!existsSync(oldNode)) return t.skip(`${oldNode} does not exist`);
    const probe = spawnSync(oldNode, ["--version"], { encoding: "utf8" });
    const major = Number(/^v(\d+)\./.exec(probe.stdout)?.[1] ?? Number.NaN);
    if (!(major < 24)) return t.skip(`${oldNode} is ${probe.stdout.trim()}, not older than 24`);
    const args = ["--version"];
    const result = await box.run(args, {}, { node: oldNode });
    assert.notEqual(result.code, 0, explain(args, result));
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /24\.15/);
    assert.match(result.stderr, /^error: orchestrate needs Node\.js 24\.15 or newer/);
    assert.match(result.stderr, /\nhint: /);
    assert.doesNotMatch(result.stderr, /SyntaxError/);
    assert.doesNotMatch(result.stderr, STACK_TRACE);
  });
});
