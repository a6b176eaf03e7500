// End-to-end tests of planning: the real binary driven through piped stdin and through a real
// pseudo-terminal (tmux), then executed by `orchestrate run` with fake agent CLIs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { StartedChild } from "../helpers/nodeProcess.ts";
import { BIN, isolatedEnv, runOrchestrate, startOrchestrate } from "../helpers/orchestrateCli.ts";

const FAKES = join(import.meta.dirname, "..", "fixtures", "fake-agents");
const dirs: string[] = [];
const tmuxSockets: string[] = [];

after(() => {
  for (const socket of tmuxSockets) {
    try {
      execFileSync("tmux", ["-S", socket, "kill-server"], { stdio: "ignore" });
    } catch {}
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Box {
  dir: string;
  env: Record<string, string>;
}

function makeBox(): Box {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-plan-"));
  dirs.push(dir);
  const env = isolatedEnv(dir, { PATH: `${FAKES}${delimiter}${process.env["PATH"] ?? ""}` });
  return { dir, env };
}

interface Running {
  child: StartedChild;
  output: () => string;
  exited: Promise<number | null>;
}

function start(box: Box, args: string[]): Running {
  const child = startOrchestrate(box.dir, box.env, args, { stdin: "pipe" });
  let text = "";
  child.stdout?.on("data", (c) => {
    text += c;
  });
  child.stderr?.on("data", (c) => {
    text += c;
  });
  return { child, output: () => text, exited: child.exited };
}

/** Runs orchestrate to the end with `input` piped to its stdin. */
function orchestrate(box: Box, args: string[], input = "") {
  return runOrchestrate(box.dir, box.env, args, { input, limitMs: 120_000 });
}

async function until(
  what: string,
  check: () => boolean,
  seen: () => string = () => "",
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw:\n${seen()}`);
    await sleep(50);
  }
}

interface PlanJson {
  id: string;
  status: string;
  tasks: {
    key: string;
    description: string;
    dependsOn: string[];
    taskId: string | null;
    status: string | null;
  }[];
  dependencies: Record<string, string[]>;
}

async function planJson(box: Box, id: string): Promise<PlanJson> {
  const result = await orchestrate(box, ["plan-continue", id, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as PlanJson;
}

function planIdFrom(text: string): string {
  const match = /Plan ([0-9a-f]{16})/.exec(text);
  assert.ok(match, `a plan id in: ${text.slice(0, 300)}`);
  return match[1] as string;
}

/**
 * Runs the queued plan with fake Claude agents and checks, from the event log, that every task was
 * claimed only after all its dependencies had completed, and that the plan ended completed.
 */
async function runAndCheckOrder(box: Box, planId: string): Promise<void> {
  const run = await orchestrate(box, ["run", "--backend", "claude", "--max-agents", "3"]);
  assert.equal(run.code, 0, run.stderr);
  const db = new DatabaseSync(join(box.dir, ".orchestrator", "tasks.db"), { readOnly: true });
  try {
    const firstEvent = db.prepare(
      "SELECT MIN(id) AS id FROM events WHERE kind = ? AND task_id = ?",
    );
    const tasks = db.prepare("SELECT id, status FROM tasks WHERE plan_id = ?").all(planId) as {
      id: string;
      status: string;
    }[];
    assert.ok(tasks.length > 0);
    const edges = db
      .prepare(
        "SELECT d.task_id, d.depends_on FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.plan_id = ?",
      )
      .all(planId) as { task_id: string; depends_on: string }[];
    assert.ok(edges.length > 0, "the plan's dependencies became queue edges");
    for (const t of tasks) assert.equal(t.status, "completed", `task ${t.id}`);
    for (const e of edges) {
      const claimed = (firstEvent.get("task:claimed", e.task_id) as { id: number }).id;
      const depDone = (firstEvent.get("task:completed", e.depends_on) as { id: number }).id;
      assert.ok(claimed > depDone, `${e.task_id} was claimed after ${e.depends_on} completed`);
    }
    const plan = db.prepare("SELECT status FROM plans WHERE id = ?").get(planId) as {
      status: string;
    };
    assert.equal(plan.status, "completed");
    const planEvents = db
      .prepare(
        "SELECT kind FROM events WHERE kind LIKE 'plan:%' AND json_extract(data, '$.planId') = ? ORDER BY id",
      )
      .all(planId) as { kind: string }[];
    assert.deepEqual(
      planEvents.map((e) => e.kind),
      ["plan:created", "plan:approved", "plan:executing", "plan:completed"],
    );
  } finally {
    db.close();
  }
}

describe("orchestrate plan", () => {
  test("piped stdin: add, remove, split, view, approve and queue; run executes in dependency order", async () => {
    const box = makeBox();
    const answers = [
      "a",
      "Write load tests for the API",
      "", // agent type: auto
      "high",
      "t6",
      "Testing",
      "r",
      "t3",
      "s",
      "t5",
      "v",
      "p",
      "y",
      "y",
    ];
    const result = await orchestrate(
      box,
      ["plan", "Build REST API with auth", "--planner", "heuristic"],
      `${answers.join("\n")}\n`,
    );
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /Added t8 \(backend-systems-engineer, high\)/);
    assert.match(out, /Removed t3\.\n {2}t4 waited for t2, t3; now waits for t2\./);
    assert.match(out, /Split t5 into t9, t10, t11\./);
    assert.match(out, /Dependency graph/);
    assert.match(out, /Approved plan [0-9a-f]{8}/);
    assert.match(out, /Queued 9 tasks of plan/);
    const id = planIdFrom(out);
    const plan = await planJson(box, id);
    assert.equal(plan.status, "executing");
    assert.deepEqual(
      plan.tasks.map((t) => t.key),
      ["t1", "t2", "t4", "t9", "t10", "t11", "t6", "t7", "t8"],
    );
    assert.ok(plan.tasks.every((t) => t.taskId !== null && t.status === "pending"));
    assert.deepEqual(
      plan.dependencies["t6"],
      ["t11"],
      "t6 now waits for the last part of the split",
    );
    await runAndCheckOrder(box, id);

    const again = await orchestrate(box, ["execute-plan", id.slice(0, 8)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /is completed; its tasks were queued before, nothing was added/);
    const list = JSON.parse((await orchestrate(box, ["plan-list", "--json"])).stdout) as {
      id: string;
      status: string;
      taskCount: number;
      queued: Record<string, number>;
    }[];
    assert.deepEqual(
      list.map((p) => [p.id, p.status, p.taskCount, p.queued["completed"]]),
      [[id, "completed", 9, 9]],
    );
  });

  test("a real terminal (tmux): add, remove, split, view, approve; then execute-plan and run", async () => {
    const box = makeBox();
    const socket = join(box.dir, "tmux.sock");
    tmuxSockets.push(socket);
    const tmux = (...args: string[]) =>
      execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], {
        env: box.env,
        encoding: "utf8",
      });
    const command = [
      process.execPath,
      BIN,
      "plan",
      "Build a web app for booking rooms",
      "--planner",
      "heuristic",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    tmux(
      "new-session",
      "-d",
      "-s",
      "plan",
      "-x",
      "220",
      "-y",
      "60",
      "-c",
      box.dir,
      `${command}; echo "EXIT=$?"; sleep 60`,
    );
    const screen = () => tmux("capture-pane", "-p", "-t", "plan", "-S", "-2000");
    // capture-pane drops trailing spaces: prompts end in "plan>" and "…:" on the screen.
    const promptCount = () => screen().split("plan>").length - 1;
    const type = async (text: string, waitFor: RegExp) => {
      tmux("send-keys", "-t", "plan", "-l", text);
      tmux("send-keys", "-t", "plan", "Enter");
      await until(`${waitFor} on the terminal`, () => waitFor.test(screen()), screen);
    };
    const choose = (key: string, waitFor: RegExp) => type(key, waitFor);
    await until("the first prompt", () => promptCount() === 1, screen);
    const id = planIdFrom(screen());
    await choose("a", /description:\s*$/m);
    await type("Add an admin page to manage rooms", /agent type \[auto\]:\s*$/m);
    await type("frontend-ui-engineer", /priority .*:\s*$/m);
    await type("hihg", /error: invalid priority 'hihg'\nhint: .*\npriority .*:\s*$/m);
    await type("", /depends on .*:\s*$/m);
    await type("t3", /phase \[Implementation\]:\s*$/m);
    await type("", /Added t9 \(frontend-ui-engineer, normal\)/);
    await choose("zz", /error: unknown choice 'zz'/);
    await choose("r", /task to remove \(key\):\s*$/m);
    await type("t8", /Removed t8\./);
    await choose("s", /task to split \(key\):\s*$/m);
    await type("t6", /Split t6 into t10, t11, t12\./);
    await choose("v", /wave 1: t1/);
    await choose("p", /Approve this plan of 10 tasks\? \[y\/N\]\s*$/m);
    await type("y", /Queue its 10 tasks now\? \[Y\/n\]\s*$/m);
    await type("n", /EXIT=0/);
    assert.match(screen(), /Not queued\. Queue it later with: orchestrate execute-plan/);

    const approved = await planJson(box, id);
    assert.equal(approved.status, "approved");
    assert.ok(approved.tasks.every((t) => t.taskId === null));
    assert.ok(approved.tasks.some((t) => t.description === "Add an admin page to manage rooms"));
    const executed = await orchestrate(box, ["execute-plan", id]);
    assert.equal(executed.code, 0, executed.stderr);
    assert.match(executed.stdout, /Queued 10 tasks of plan/);
    const twice = await orchestrate(box, ["execute-plan", id, "--json"]);
    assert.equal((JSON.parse(twice.stdout) as { queuedNow: boolean }).queuedNow, false);
    await runAndCheckOrder(box, id);
  });

  test("killed mid-session, resumed with plan-continue: nothing lost", async () => {
    const box = makeBox();
    const planner = start(box, [
      "plan",
      "Build a pipeline that loads orders",
      "--planner",
      "heuristic",
    ]);
    await until("the first prompt", () => planner.output().includes("plan> "), planner.output);
    const id = planIdFrom(planner.output());
    planner.child.stdin?.write("a\nBackfill two years of orders\n\n\n\n\n");
    await until("the add", () => planner.output().includes("Added t8"));
    planner.child.stdin?.write("r\nt4\n");
    await until("the removal", () => planner.output().includes("Removed t4."));
    planner.child.kill("SIGKILL");
    await planner.exited;

    const saved = await planJson(box, id.slice(0, 6));
    assert.equal(saved.status, "draft");
    assert.ok(
      saved.tasks.some((t) => t.key === "t8" && t.description === "Backfill two years of orders"),
    );
    assert.ok(!saved.tasks.some((t) => t.key === "t4"));

    const resumed = await orchestrate(
      box,
      ["plan-continue", id],
      "m\nt8\n\n\nurgent\nt5\n\np\ny\nn\n",
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stdout,
      /t8 .*Backfill two years of orders/,
      "the loop shows the saved plan",
    );
    assert.match(resumed.stdout, /Changed t8\./);
    const approved = await planJson(box, id);
    assert.equal(approved.status, "approved");
    assert.deepEqual(approved.dependencies["t8"], ["t5"]);

    const queued = await orchestrate(box, ["plan-continue", id, "--yes"]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /Queued 7 tasks/);
    const progress = await orchestrate(box, ["plan-continue", id]);
    assert.match(progress.stdout, /Progress: 7 pending/);
  });

  test("quit and end of input keep the draft; Ctrl-D mid-question too", async () => {
    const box = makeBox();
    const quit = await orchestrate(box, ["plan", "Analyze churn", "--planner", "heuristic"], "q\n");
    assert.equal(quit.code, 0, quit.stderr);
    assert.match(quit.stdout, /Draft saved\. Continue with: orchestrate plan-continue [0-9a-f]{8}/);
    const eof = await orchestrate(
      box,
      ["plan", "Analyze churn", "--planner", "heuristic"],
      "a\nhalf an answer",
    );
    assert.equal(eof.code, 0, eof.stderr);
    assert.match(eof.stdout, /Draft saved/);
    const list = JSON.parse((await orchestrate(box, ["plan-list", "--json"])).stdout) as {
      status: string;
    }[];
    assert.deepEqual(
      list.map((p) => p.status),
      ["draft", "draft"],
    );
    const ids = new Set((list as unknown as { id: string }[]).map((p) => p.id));
    assert.equal(ids.size, 2, "two sessions, two ids");
  });

  test("a mistake in piped answers stops the session (later answers would be out of place)", async () => {
    const box = makeBox();
    const cases: [answers: string, error: RegExp, code: number][] = [
      ["r\nt99\nr\nt1\n", /error: the plan has no task 't99'\nhint: .*Its tasks are t1, t2/, 3],
      ["a\nA task\n\nx\nurgent\nr\nt1\n", /error: invalid priority 'x'\nhint: use one of low/, 2],
      ["m\nt2\n\nwizard\n\n\n\n\nr\nt1\n", /error: unknown agent type 'wizard'/, 2],
      ["zz\nr\nt1\n", /error: unknown choice 'zz'\nhint: type d, a, m, s, r, v, p or q/, 2],
    ];
    for (const [answers, error, code] of cases) {
      const result = await orchestrate(
        box,
        ["plan", "Build a REST API", "--planner", "heuristic"],
        answers,
      );
      assert.equal(result.code, code, result.stdout);
      assert.match(result.stderr, error);
      assert.match(result.stdout, /Stopping: the answers are piped.*\nDraft saved\. Continue with/);
      assert.ok(!/\n\s+at /.test(result.stdout + result.stderr), "no stack trace");
      const id = planIdFrom(result.stdout);
      const plan = await planJson(box, id);
      assert.ok(
        plan.tasks.some((t) => t.key === "t1"),
        "the 'r t1' after the mistake was not run",
      );
    }
  });

  test("--planner claude (and auto, with only the CLI installed) asks Claude Code headless", async () => {
    const box = makeBox();
    const reply = join(box.dir, "reply.json");
    writeFileSync(
      reply,
      `Plan:\n${JSON.stringify({
        tasks: [
          {
            key: "spec",
            phase: "Design",
            description: "Specify the CLI",
            agent_type: "specifications-engineer",
            depends_on: [],
          },
          {
            key: "build",
            description: "Build the CLI",
            agent_type: "backend-systems-engineer",
            depends_on: ["spec"],
          },
        ],
      })}`,
    );
    const prompts = join(box.dir, "prompts");
    mkdirSync(prompts);
    box.env["FAKE_AGENT_REPLY_FILE"] = reply;
    box.env["FAKE_AGENT_PROMPT_DIR"] = prompts;
    for (const planner of ["claude", "auto"]) {
      const result = await orchestrate(box, [
        "plan",
        "Build a CLI",
        "--planner",
        planner,
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(result.stdout) as PlanJson & { planner: string };
      assert.equal(plan.planner, "claude-cli");
      assert.deepEqual(plan.dependencies, { spec: [], build: ["spec"] });
    }
    const invocation = readdirSync(prompts).find((f) => f.endsWith(".json"));
    const recorded = readFileSync(join(prompts, invocation as string), "utf8");
    assert.match(recorded, /--append-system-prompt/);
    assert.ok(
      !recorded.includes("--dangerously-skip-permissions"),
      "planning needs no tool permissions",
    );

    box.env["FAKE_AGENT_MODE"] = "is_error";
    const failing = await orchestrate(box, [
      "plan",
      "Build a CLI",
      "--planner",
      "claude",
      "--json",
    ]);
    assert.equal(failing.code, 0, failing.stderr);
    assert.equal((JSON.parse(failing.stdout) as { planner: string }).planner, "heuristic");
    assert.match(
      failing.stderr,
      /warning: claude-cli could not be asked for a plan \(claude failed: API Error: 401 fake claude reports an error/,
    );
  });

  test("plan-continue --yes approves and queues a draft without questions", async () => {
    const box = makeBox();
    const draft = await orchestrate(box, [
      "plan",
      "Build a pipeline",
      "--planner",
      "heuristic",
      "--json",
    ]);
    const id = (JSON.parse(draft.stdout) as PlanJson).id;
    const queued = await orchestrate(box, ["plan-continue", id.slice(0, 8), "--yes"]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /Queued 7 tasks/);
    assert.equal((await planJson(box, id)).status, "executing");
  });

  test("bad input to the plan commands: clear errors and exit codes", async () => {
    const box = makeBox();
    const empty = await orchestrate(box, ["plan", "  "]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the goal is empty\nhint: /);
    const planner = await orchestrate(box, ["plan", "x", "--planner", "gpt9"]);
    assert.equal(planner.code, 2);
    assert.match(planner.stderr, /unknown planner 'gpt9'\nhint: use one of auto, heuristic/);
    const noKey = await orchestrate(box, ["plan", "x", "--planner", "anthropic-api"]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /needs ANTHROPIC_API_KEY/);
    const execute = await orchestrate(box, ["plan", "x", "--execute"]);
    assert.equal(execute.code, 2);
    assert.match(execute.stderr, /--execute needs --yes/);
    assert.equal(existsSync(join(box.dir, ".orchestrator")), false, "nothing created by bad input");

    const list = await orchestrate(box, ["plan-list"]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /No plans yet/);
    const missing = await orchestrate(box, ["plan-continue", "abc123"]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no plan matches 'abc123'/);
    assert.equal(
      existsSync(join(box.dir, ".orchestrator")),
      false,
      "read-only commands create nothing",
    );

    const draft = await orchestrate(box, [
      "plan",
      "Build a REST API",
      "--planner",
      "heuristic",
      "--json",
    ]);
    assert.equal(draft.code, 0, draft.stderr);
    const id = (JSON.parse(draft.stdout) as PlanJson).id;
    const early = await orchestrate(box, ["execute-plan", id]);
    assert.equal(early.code, 4);
    assert.match(early.stderr, /is a draft; approve it before executing it\nhint: .*plan-continue/);
    const notHex = await orchestrate(box, ["execute-plan", "t1"]);
    assert.equal(notHex.code, 2);
    assert.match(notHex.stderr, /'t1' is not a plan id/);
    const badLimit = await orchestrate(box, ["plan-list", "--limit", "0"]);
    assert.equal(badLimit.code, 2);
  });

  test("submit --decompose queues the whole plan; status and task show the plan", async () => {
    const box = makeBox();
    const result = await orchestrate(box, [
      "submit",
      "Build a pipeline",
      "--decompose",
      "--planner",
      "heuristic",
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as PlanJson;
    assert.equal(plan.status, "executing");
    assert.ok(plan.tasks.length >= 5);
    assert.ok(plan.tasks.every((t) => t.status === "pending" && t.taskId));
    const refused = await orchestrate(box, [
      "submit",
      "x",
      "--decompose",
      "--agent",
      "llm-architect",
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--agent cannot be used with --decompose/);
    const plannerOnly = await orchestrate(box, ["submit", "x", "--planner", "claude"]);
    assert.equal(plannerOnly.code, 2);
    assert.match(plannerOnly.stderr, /--planner only applies with --decompose/);

    const status = await orchestrate(box, ["status"]);
    assert.match(
      status.stdout,
      new RegExp(
        `Plans\\n.*\\n\\s+${plan.id.slice(0, 8)}\\s+executing\\s+0/${plan.tasks.length}\\s+Build a pipeline`,
      ),
    );
    assert.match(status.stdout, /PLAN/);
    const first = plan.tasks[0]?.taskId as string;
    const task = await orchestrate(box, ["task", first.slice(0, 8)]);
    assert.match(
      task.stdout,
      new RegExp(`plan\\s+${plan.id} \\(executing\\), task t1: Build a pipeline`),
    );
    const taskJson = JSON.parse((await orchestrate(box, ["task", first, "--json"])).stdout) as {
      plan: { id: string; key: string };
    };
    assert.deepEqual(taskJson.plan, {
      id: plan.id,
      goal: "Build a pipeline",
      status: "executing",
      key: "t1",
    });
  });
});
