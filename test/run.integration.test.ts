import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import type { StartedChild } from "./helpers/nodeProcess.ts";
import { isolatedEnv, runOrchestrate, startOrchestrate } from "./helpers/orchestrateCli.ts";

const ROOT = join(import.meta.dirname, "..");
const FAKES = join(ROOT, "test", "fixtures", "fake-agents");
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Box {
  dir: string;
  base: string;
  env: Record<string, string>;
  prompts: string;
}

/** A project directory with its own queue, home and fake agent CLIs first on PATH. */
function makeBox(extraEnv: Record<string, string> = {}): Box {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-run-"));
  dirs.push(dir);
  const prompts = join(dir, "prompts");
  mkdirSync(prompts);
  const env = isolatedEnv(dir, {
    PATH: `${FAKES}${delimiter}${process.env["PATH"] ?? ""}`,
    FAKE_AGENT_PROMPT_DIR: prompts,
    ...extraEnv,
  });
  return { dir, base: join(dir, ".orchestrator"), env, prompts };
}

/** A started `orchestrate` process, with its exit captured from the start (it may end before we look). */
function start(box: Box, args: string[]): StartedChild {
  return startOrchestrate(box.dir, box.env, args);
}

/** Runs orchestrate in the box to the end (ended after two minutes, so a hang fails the test). */
function orchestrate(box: Box, args: string[]) {
  return runOrchestrate(box.dir, box.env, args, { limitMs: 120_000 });
}

async function submit(box: Box, description: string, ...flags: string[]): Promise<string> {
  const result = await orchestrate(box, ["submit", "-q", description, ...flags]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

function db(box: Box): DatabaseSync {
  return new DatabaseSync(join(box.base, "tasks.db"));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("orchestrate run with fake agent CLIs", () => {
  it("refuses to start, leaving tasks pending, when a waiting task needs an agent CLI and none is installed", async () => {
    const box = makeBox();
    box.env["PATH"] = (box.env["PATH"] ?? "")
      .split(delimiter)
      .filter((d) => d !== FAKES)
      .join(delimiter);
    const simulated = await submit(box, "Runs without a CLI", "--backend", "simulated");
    const needsCli = await submit(box, "Needs a real agent");
    const refused = await orchestrate(box, ["run"]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /no agent CLI is installed/);
    const statusOf = (id: string) =>
      (db(box).prepare("SELECT status FROM tasks WHERE id = ?").get(id) as { status: string })
        .status;
    assert.equal(statusOf(simulated), "pending");
    assert.equal(statusOf(needsCli), "pending");
    const cancelled = await orchestrate(box, ["cancel", needsCli]);
    assert.equal(cancelled.code, 0);
    const ran = await orchestrate(box, ["run"]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(statusOf(simulated), "completed");
  });

  it("runs a custom CLI and a custom agent type declared in agents.json", async () => {
    const box = makeBox();
    mkdirSync(box.base, { recursive: true });
    writeFileSync(
      join(box.base, "agents.json"),
      JSON.stringify({
        agentTypes: {
          "security-reviewer": {
            description: "Reviews code for vulnerabilities",
            keywords: ["security"],
            systemPrompt:
              "You are a security reviewer. Look for injection, auth and secrets problems.",
            backend: "echoer",
          },
        },
        backends: {
          echoer: {
            binary: process.execPath,
            args: [
              "-e",
              "console.log('echoer saw: ' + process.argv[1].split('\\n')[2])",
              "{prompt}",
            ],
            outputFormat: "text",
          },
        },
      }),
    );
    const task = await submit(box, "Do a security review of the login code");
    const result = await orchestrate(box, ["run"]);
    assert.equal(result.code, 0, result.stderr);
    const row = db(box)
      .prepare("SELECT status, output, agent_type FROM tasks WHERE id = ?")
      .get(task) as {
      status: string;
      output: string;
    };
    assert.equal(row.status, "completed");
    assert.match(row.output, /echoer saw: Do a security review of the login code/);
    const run = db(box).prepare("SELECT agent_type, backend FROM agent_runs").get() as {
      agent_type: string;
      backend: string;
    };
    assert.deepEqual({ ...run }, { agent_type: "security-reviewer", backend: "echoer" });
    const backends = JSON.parse(
      (await orchestrate(box, ["agents", "--backends", "--json"])).stdout,
    ) as { name: string }[];
    assert.ok(backends.some((b) => b.name === "echoer"));
    const typed = await orchestrate(box, [
      "submit",
      "x",
      "--agent",
      "security-reviewer",
      "--backend",
      "echoer",
    ]);
    assert.equal(typed.code, 0, typed.stderr);
  });

  it("respects and reaches MAX_AGENTS", async () => {
    const box = makeBox({ FAKE_AGENT_MODE: "slow", FAKE_AGENT_SLEEP_MS: "700" });
    for (let i = 0; i < 6; i++) await submit(box, `Task number ${i}`);
    const result = await orchestrate(box, ["run", "--max-agents", "2", "--backend", "claude"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /6 completed, 0 failed/);
    const runs = db(box).prepare("SELECT started_at AS s, ended_at AS e FROM agent_runs").all() as {
      s: number;
      e: number;
    }[];
    assert.equal(runs.length, 6);
    let peak = 0;
    for (const r of runs) peak = Math.max(peak, runs.filter((o) => o.s <= r.s && o.e > r.s).length);
    assert.equal(peak, 2, "never more than 2 agents at once, and 2 were reached");
  });

  it("runs dependencies first and hands each dependent its dependency's output", async () => {
    const box = makeBox();
    const a = await submit(box, "Write the requirements document", "-a", "specifications-engineer");
    const b = await submit(box, "Design the schema", "-d", a, "-b", "codex");
    const c = await submit(box, "Build the API", "-d", `${a},${b}`, "-b", "gemini");
    const result = await orchestrate(box, ["run", "--max-agents", "3", "--backend", "claude"]);
    assert.equal(result.code, 0, result.stderr);
    const database = db(box);
    const at = (kind: string, task: string) =>
      (
        database
          .prepare("SELECT MIN(id) AS id FROM events WHERE kind = ? AND task_id = ?")
          .get(kind, task) as { id: number }
      ).id;
    assert.ok(at("agent:started", b) > at("task:completed", a));
    assert.ok(at("agent:started", c) > at("task:completed", a));
    assert.ok(at("agent:started", c) > at("task:completed", b));
    const backends = database.prepare("SELECT task_id, backend FROM agent_runs").all() as {
      task_id: string;
      backend: string;
    }[];
    assert.deepEqual(Object.fromEntries(backends.map((r) => [r.task_id, r.backend])), {
      [a]: "claude",
      [b]: "codex",
      [c]: "gemini",
    });
    const outputs = database.prepare("SELECT id, output FROM tasks").all() as {
      id: string;
      output: string;
    }[];
    const outputOf = (id: string) => outputs.find((o) => o.id === id)?.output ?? "";
    assert.match(outputOf(a), /FAKE-CLAUDE-DONE/);
    const prompts = readdirSync(box.prompts)
      .filter((f) => f.endsWith(".txt"))
      .map((f) => readFileSync(join(box.prompts, f), "utf8"));
    const promptOfC = prompts.find((p) => p.includes("Build the API")) ?? "";
    assert.ok(promptOfC.includes(outputOf(a).split("\n")[0] ?? "?"), "C's prompt holds A's output");
    assert.ok(promptOfC.includes(outputOf(b).split("\n")[0] ?? "?"), "C's prompt holds B's output");
    assert.match(promptOfC, /Output of the tasks this one depends on/);
  });

  it("treats is_error:true with exit 0 as a failure, and retries then fails a task that times out", async () => {
    const box = makeBox();
    const trap = await submit(box, "Looks fine\nFAKE_MODE: is_error", "--max-attempts", "1");
    const hang = await submit(
      box,
      "Never ends\nFAKE_MODE: hang",
      "--max-attempts",
      "2",
      "--timeout",
      "1s",
    );
    const result = await orchestrate(box, ["run", "--backend", "claude"]);
    assert.equal(result.code, 6, `a run whose tasks failed exits 6: ${result.stderr}`);
    const database = db(box);
    const row = (id: string) =>
      database.prepare("SELECT status, attempts, error FROM tasks WHERE id = ?").get(id) as {
        status: string;
        attempts: number;
        error: string;
      };
    assert.equal(row(trap).status, "failed");
    assert.equal(row(hang).status, "failed");
    assert.equal(row(hang).attempts, 2);
    assert.match(row(hang).error, /timed out after 1s/);
    const reasons = database
      .prepare("SELECT end_reason FROM agent_runs WHERE task_id = ?")
      .all(hang) as { end_reason: string }[];
    assert.deepEqual(
      reasons.map((r) => r.end_reason),
      ["timeout", "timeout"],
    );
    const pids = database.prepare("SELECT pid FROM agent_runs").all() as { pid: number }[];
    for (const { pid } of pids) assert.equal(alive(pid), false, `agent ${pid} is gone`);
  });

  it("kills an agent and its new-session grandchild from another terminal", async () => {
    const box = makeBox({ FAKE_AGENT_PIDFILE: "" });
    box.env["FAKE_AGENT_PIDFILE"] = join(box.dir, "grandchild.pid");
    const task = await submit(box, "Stuck forever\nFAKE_MODE: grandchild");
    // A long lease: its renewals (every 20 s) cannot be what brings the activity below up to date.
    const run = start(box, ["run", "--backend", "claude", "--lease", "60s"]);
    await waitFor("the agent and its grandchild", () => {
      try {
        return readFileSync(box.env["FAKE_AGENT_PIDFILE"] ?? "", "utf8").trim().length > 0;
      } catch {
        return false;
      }
    });
    const grandchild = Number(readFileSync(box.env["FAKE_AGENT_PIDFILE"] ?? "", "utf8"));
    const agents = JSON.parse((await orchestrate(box, ["agents", "--json"])).stdout) as {
      id: string;
      pid: number;
      taskId: string;
    }[];
    assert.equal(agents.length, 1);
    assert.equal(agents[0]?.taskId, task);
    await waitFor(
      "the agent's activity in `orchestrate agents` from another terminal",
      async () => {
        const seen = JSON.parse((await orchestrate(box, ["agents", "--json"])).stdout) as {
          lastActivity: string;
        }[];
        return /Working on: Stuck forever/.test(seen[0]?.lastActivity ?? "");
      },
      8_000,
    );
    const agentPid = agents[0]?.pid ?? 0;
    assert.ok(alive(agentPid) && alive(grandchild));

    const killed = await orchestrate(box, ["kill", task.slice(0, 6)]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, /Killed agent-/);
    assert.equal(alive(agentPid), false);
    assert.equal(alive(grandchild), false, "the grandchild in its own session is gone too");
    assert.equal(await run.exited, 6, "its task failed (killed), so the run exits 6");
    const status = db(box).prepare("SELECT status, error FROM tasks WHERE id = ?").get(task) as {
      status: string;
      error: string;
    };
    assert.equal(status.status, "failed");
    assert.match(status.error, /killed by user/);
  });

  it("leaves no agent behind when run is SIGKILLed, and completes every task exactly once after a restart", async () => {
    const box = makeBox();
    box.env["FAKE_AGENT_PIDFILE"] = join(box.dir, "grandchild.pid");
    const slow = await submit(box, "Slow work\nFAKE_MODE: slow", "--context", "{}");
    const orphaner = await submit(
      box,
      "Leaves a grandchild\nFAKE_MODE: grandchild",
      "--max-attempts",
      "1",
    );
    box.env["FAKE_AGENT_SLEEP_MS"] = "60000";
    const run = start(box, ["run", "--backend", "claude", "--lease", "2s"]);
    await waitFor("both agents running", () => {
      try {
        const n = (db(box).prepare("SELECT COUNT(*) AS n FROM agent_runs").get() as { n: number })
          .n;
        return (
          n === 2 && readFileSync(box.env["FAKE_AGENT_PIDFILE"] ?? "", "utf8").trim().length > 0
        );
      } catch {
        return false;
      }
    });
    const pids = (db(box).prepare("SELECT pid FROM agent_runs").all() as { pid: number }[]).map(
      (r) => r.pid,
    );
    pids.push(Number(readFileSync(box.env["FAKE_AGENT_PIDFILE"] ?? "", "utf8")));
    assert.ok(pids.every(alive));
    run.kill("SIGKILL");
    await run.exited;
    await waitFor("every agent process to be gone", () => pids.every((p) => !alive(p)), 10_000);

    // After the lease expires, a new run does the work again; the slow one now finishes quickly.
    box.env["FAKE_AGENT_SLEEP_MS"] = "100";
    await new Promise((r) => setTimeout(r, 2_100));
    const again = await orchestrate(box, ["run", "--backend", "claude", "--lease", "2s"]);
    assert.equal(again.code, 0, again.stderr);
    const database = db(box);
    const completions = database
      .prepare(
        "SELECT task_id, COUNT(*) AS n FROM events WHERE kind = 'task:completed' GROUP BY task_id",
      )
      .all() as {
      task_id: string;
      n: number;
    }[];
    assert.deepEqual(
      completions.map((c) => [c.task_id, c.n]),
      [[slow, 1]],
    );
    const status = database.prepare("SELECT status FROM tasks WHERE id = ?").get(orphaner) as {
      status: string;
    };
    assert.equal(status.status, "failed", "its only attempt was lost with the crashed run");
  });
});
