/**
 * `orchestrate kill` and the run that owns the agent tell one story: the task fails once with "killed
 * by user", the run counts it as failed and prints no internal message, and the event log holds one
 * `agent:ended` for the agent. Fake Claude Code CLIs (test/fixtures/fake-agents) stand in for agents.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, it } from "node:test";
import type { AgentView } from "../src/app/listAgents.ts";
import type { TaskDetail } from "../src/app/taskDetail.ts";
import { isolatedEnv, runOrchestrate } from "./helpers/orchestrateCli.ts";

const FAKES = join(import.meta.dirname, "fixtures", "fake-agents");
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function makeProject(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-kill-"));
  dirs.push(dir);
  const env = isolatedEnv(dir, {
    PATH: `${FAKES}${delimiter}${process.env["PATH"] ?? ""}`,
    FAKE_AGENT_SLEEP_MS: "60000",
  });
  return { dir, env };
}

function orchestrate(project: { dir: string; env: Record<string, string> }, args: string[]) {
  return runOrchestrate(project.dir, project.env, args, { limitMs: 60_000 });
}

async function runningAgents(project: { dir: string; env: Record<string, string> }) {
  return JSON.parse((await orchestrate(project, ["agents", "--json"])).stdout) as AgentView[];
}

async function waitForAgents(project: { dir: string; env: Record<string, string> }, n: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const agents = await runningAgents(project);
    if (agents.length === n) return agents;
    if (Date.now() > deadline)
      throw new Error(`expected ${n} running agent(s), saw ${agents.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("orchestrate kill and the run", () => {
  it("the run counts the killed task as failed, says so plainly, and the log holds one agent:ended", async () => {
    const project = makeProject();
    const submitted = await orchestrate(project, ["submit", "-q", "Stuck\nFAKE_MODE: slow"]);
    const id = submitted.stdout.trim();
    const run = orchestrate(project, ["run", "--backend", "claude"]);
    const [agent] = await waitForAgents(project, 1);
    const killed = await orchestrate(project, ["kill", id.slice(0, 6)]);
    assert.equal(killed.code, 0, killed.stderr);
    const ran = await run;
    assert.equal(ran.code, 6, `a run whose task failed exits 6: ${ran.stderr}`);
    assert.match(ran.stdout, /Done in .*: 0 completed, 1 failed, 0 to retry/);
    assert.match(ran.stdout, new RegExp(`✗ ${id.slice(0, 8)} killed by user`));
    assert.doesNotMatch(`${ran.stdout}${ran.stderr}`, /cannot become|is no longer held/);
    const task = JSON.parse(
      (await orchestrate(project, ["task", id, "--json"])).stdout,
    ) as TaskDetail;
    assert.equal(task.status, "failed");
    assert.match(task.error ?? "", /killed by user/);
    const ended = task.events.filter((e) => e.kind === "agent:ended");
    assert.equal(ended.length, 1, "one agent:ended for the one agent");
    assert.equal(ended[0]?.data?.["agentId"], agent?.id);
    assert.deepEqual(
      task.agentRuns.map((r) => r.endReason),
      ["killed"],
    );
  });

  it("a task id prefix never matches an agent through the agent- of its id", async () => {
    const project = makeProject();
    const submit = async () =>
      (await orchestrate(project, ["submit", "-q", "Stuck\nFAKE_MODE: slow"])).stdout.trim();
    // 'a' is both a hex digit (a task id prefix) and the first letter of every agent id: the task
    // must not start with it, or 'kill a' would rightly mean the task.
    let id = await submit();
    while (id.startsWith("a")) {
      await orchestrate(project, ["cancel", id]);
      id = await submit();
    }
    const run = orchestrate(project, ["run", "--backend", "claude"]);
    try {
      const [agent] = await waitForAgents(project, 1);
      const missed = await orchestrate(project, ["kill", "a"]);
      assert.equal(missed.code, 3, `kill a must not find the agent of task ${id}`);
      assert.ok(agent && alive(agent.pid ?? 0), "the agent still runs");
      const byAgentId = await orchestrate(project, ["kill", agent?.id.slice(0, 10) ?? ""]);
      assert.equal(byAgentId.code, 0, byAgentId.stderr);
    } finally {
      await run;
    }
    assert.equal((await runningAgents(project)).length, 0);
  });
});
