import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isolatedEnv, runOrchestrate, startOrchestrate } from "../helpers/orchestrateCli.ts";

describe("orchestrate status --watch", () => {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-watch-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("redraws until Ctrl-C, shows new tasks as they arrive, and exits 0", async () => {
    const env = isolatedEnv(dir);
    const watcher = startOrchestrate(dir, env, ["status", "--watch", "--interval", "0.2"]);
    let out = "";
    watcher.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const frames = () => out.split("No queue yet").length - 1 + (out.split("Queue ").length - 1);
    try {
      const firstDeadline = Date.now() + 10_000;
      while (frames() < 2 && watcher.exitCode === null && Date.now() < firstDeadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(frames() >= 2, `two frames drawn, got: ${out}`);
      const submit = await runOrchestrate(dir, env, ["submit", "watched task"]);
      assert.equal(submit.code, 0);
      const deadline = Date.now() + 10_000;
      while (!out.includes("watched task") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /watched task/, "a later frame shows the task submitted meanwhile");
      watcher.kill("SIGINT");
      const code = await watcher.exited;
      assert.equal(code, 0);
    } finally {
      watcher.kill("SIGKILL");
    }
  });
});
