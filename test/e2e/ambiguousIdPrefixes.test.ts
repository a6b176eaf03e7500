// End-to-end: a task id prefix that matches several tasks is a conflict, never a guess.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { assertUserError } from "../helpers/assertUserError.ts";
import type { StatusJson } from "../helpers/orchestrateJson.ts";
import { useSandbox } from "../helpers/sandbox.ts";

describe("ambiguous id prefixes", { concurrency: true }, () => {
  const box = useSandbox();
  let digit = "";
  let count = 0;

  before(async () => {
    // Ids are random: by the pigeonhole principle, 17 tasks always include two with the same first digit.
    const seen = new Set<string>();
    while (!digit) {
      const id = await box.submit(`task ${count}`);
      count++;
      const first = id.charAt(0);
      if (seen.has(first)) digit = first;
      seen.add(first);
      assert.ok(count <= 17);
    }
  });

  for (const command of ["task", "retry", "cancel"]) {
    it(`${command} with an ambiguous prefix is a conflict (4)`, async () => {
      const args = [command, digit];
      const result = await box.run(args);
      assertUserError(args, result, 4, new RegExp(`task id '${digit}' is ambiguous: it matches `));
      assert.match(result.stderr, /hint: give more characters of the id/);
      assert.equal(await box.taskCount(), count);
    });
  }

  it("a dependency given by an ambiguous prefix is a conflict (4) and writes nothing", async () => {
    const args = ["submit", "x", "--depends-on", digit];
    assertUserError(args, await box.run(args), 4, /is ambiguous/);
    assert.equal(await box.taskCount(), count);
    const status = await box.json<StatusJson>(["status"]);
    assert.ok(status.recent.every((t) => t.status === "pending"));
  });
});
