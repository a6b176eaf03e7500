/**
 * A run killed with SIGKILL on either side of recording an agent's end, and what the next run makes of
 * it: a task whose completion was recorded is never run again; a task whose agent's end was lost runs
 * again exactly once. (That the end and the completion commit together, never one without the other,
 * is pinned by the Store contract's "all or nothing" test.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { TaskDetail } from "../src/app/taskDetail.ts";
import { isolatedEnv, runOrchestrate } from "./helpers/orchestrateCli.ts";

const CRASHING_RUN = join(import.meta.dirname, "fixtures", "crashingRun.ts");
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project whose agents.json declares `quick`: an agent that answers at once. */
function makeProject(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-crash-"));
  dirs.push(dir);
  const env = isolatedEnv(dir);
  const base = env["ORCHESTRATOR_BASE_DIR"] ?? "";
  mkdirSync(base, { recursive: true });
  writeFileSync(
    join(base, "agents.json"),
    JSON.stringify({
      backends: {
        quick: {
          binary: process.execPath,
          args: ["-e", "console.log('the work is done')"],
          outputFormat: "text",
        },
      },
    }),
  );
  return { dir, env };
}

/** Runs the crashing run in the project and waits for it to die. */
function crashingRun(project: { dir: string; env: Record<string, string> }, when: string) {
  const child = spawn(process.execPath, [CRASHING_RUN, when], {
    cwd: project.dir,
    env: project.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (_code, signal) => resolve({ signal, stderr })),
  );
}

async function orchestrate(project: { dir: string; env: Record<string, string> }, args: string[]) {
  const result = await runOrchestrate(project.dir, project.env, args, { limitMs: 60_000 });
  assert.equal(result.code, 0, `orchestrate ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

describe("a run SIGKILLed while it records an agent's end", () => {
  it("just after the end is recorded: the completed task is never run again", async () => {
    const project = makeProject();
    const id = (await orchestrate(project, ["submit", "-q", "Write the report"])).trim();
    const crash = await crashingRun(project, "after-finish");
    assert.equal(crash.signal, "SIGKILL", crash.stderr);

    // The next run starts after the crashed run's lease would have expired.
    await new Promise((r) => setTimeout(r, 1_200));
    await orchestrate(project, ["run", "--backend", "quick", "--lease", "2s"]);
    const task = JSON.parse(await orchestrate(project, ["task", id, "--json"])) as TaskDetail;
    assert.equal(task.status, "completed");
    assert.match(task.output ?? "", /the work is done/);
    assert.deepEqual(
      task.agentRuns.map((r) => r.endReason),
      ["completed"],
      "one agent ran, once",
    );
    const kinds = task.events.map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === "agent:started").length, 1);
    assert.equal(kinds.filter((k) => k === "task:completed").length, 1);
    assert.equal(kinds.filter((k) => k === "task:claimed").length, 1);
  });

  it("just before the end is recorded: the task runs again, once, and completes once", async () => {
    const project = makeProject();
    const id = (await orchestrate(project, ["submit", "-q", "Write the report"])).trim();
    const crash = await crashingRun(project, "before-finish");
    assert.equal(crash.signal, "SIGKILL", crash.stderr);

    await new Promise((r) => setTimeout(r, 1_200));
    await orchestrate(project, ["run", "--backend", "quick", "--lease", "2s"]);
    const task = JSON.parse(await orchestrate(project, ["task", id, "--json"])) as TaskDetail;
    assert.equal(task.status, "completed");
    // The crashed run's agent row is closed as orphaned by the next run; the work was done again.
    assert.deepEqual(
      task.agentRuns.map((r) => r.endReason),
      ["orphaned", "completed"],
    );
    const kinds = task.events.map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === "task:completed").length, 1);
    assert.equal(kinds.filter((k) => k === "task:lease_expired").length, 1);
  });
});
