// End-to-end: a queue locked by another process is a conflict after the busy timeout.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, describe, it } from "node:test";
import { assertUserError } from "../helpers/assertUserError.ts";
import { type StartedChild, startNode } from "../helpers/nodeProcess.ts";
import { useSandbox } from "../helpers/sandbox.ts";

describe("a database locked by another process", { concurrency: false }, () => {
  const box = useSandbox();
  let holder: StartedChild | undefined;

  after(() => {
    holder?.kill("SIGKILL");
  });

  it("is a conflict (4) after the busy timeout, and nothing is written", async () => {
    await box.submit("before the lock");
    const dbPath = box.path(".orchestrator", "tasks.db");
    holder = startNode(box.cwd, box.env(), ["-e", LOCK_HOLDER, dbPath]);
    await waitForLine(holder, "locked");
    try {
      const args = ["submit", "x", "--busy-timeout", "200"];
      const result = await box.run(args);
      assertUserError(args, result, 4, /is locked by another process/);
      assert.match(result.stderr, /hint: .*ORCHESTRATOR_BUSY_TIMEOUT_MS/);
      assert.ok(result.ms >= 200, `gave up after ${result.ms} ms, before the busy timeout`);
      // Ignoring --busy-timeout would wait for the 5000 ms default before giving up.
      assert.ok(result.ms < 5_000, `took ${result.ms} ms: the 200 ms busy timeout was ignored`);

      const fromEnv = await box.run(["submit", "y"], { ORCHESTRATOR_BUSY_TIMEOUT_MS: "150" });
      assertUserError(["submit", "y"], fromEnv, 4, /locked/);
      assert.ok(fromEnv.ms < 5_000, `took ${fromEnv.ms} ms with a 150 ms timeout from the env`);

      const json = await box.run([...args, "--json"]);
      assert.equal(json.code, 4);
      assert.equal((JSON.parse(json.stderr) as { error: { code: string } }).error.code, "conflict");
      assert.equal(await box.taskCount(), 1, "status reads while another process writes");
    } finally {
      await stop(holder);
    }
    assert.equal(await box.taskCount(), 1, "nothing was written while locked");
    await box.submit("after the lock");
    assert.equal(await box.taskCount(), 2, "the queue works once the lock is released");
  });
});

/**
 * A process that takes the database's write lock and holds it until killed (or 30 s pass), and says
 * "locked" on stdout once it holds it.
 */
const LOCK_HOLDER = `
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(process.argv[1]);
db.exec("BEGIN EXCLUSIVE");
db.exec("UPDATE tasks SET description = description WHERE 0");
process.stdout.write("locked\\n");
setTimeout(() => process.exit(0), 30000);
`;

/** Kills `child` and waits until it has exited. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    child.once("exit", () => resolveStop());
    child.kill("SIGKILL");
  });
}

/** Resolves when `child` prints `line` on stdout; rejects if it exits first or takes over 10 s. */
function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => reject(new Error(`no '${line}' within 10 s: ${stderr}`)),
      10_000,
    );
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.split("\n").includes(line)) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before printing '${line}': ${stderr}`));
    });
  });
}
