/**
 * End-to-end tests of the `orchestrate` binary: every test spawns the real `bin/orchestrate.js` (which
 * imports the built `dist/`, so run `npm run build` first) in a fresh temporary working directory, with
 * HOME pointed at a temporary directory and the configuration variables removed from the environment.
 * Nothing here touches the real home directory or the network; every process started is awaited or killed.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";

const PACKAGE_DIR = resolve(import.meta.dirname, "..", "..");
const BIN = join(PACKAGE_DIR, "bin", "orchestrate.js");
const DIST_URL = pathToFileURL(`${join(PACKAGE_DIR, "dist")}/`).href;
const VERSION = (
  JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as { version: string }
).version;

/** Variables the program reads; removed from every child's environment unless a test sets them. */
const CONFIG_VARIABLES = [
  "ORCHESTRATOR_BASE_DIR",
  "MAX_AGENTS",
  "USE_API_MODE",
  "ANTHROPIC_API_KEY",
  "ORCHESTRATOR_BUSY_TIMEOUT_MS",
];
const COMMANDS = ["submit", "status", "task", "retry", "cancel", "cleanup", "config"];
const ID = /^[0-9a-f]{16}$/;
/** A well-formed id that no test ever creates (ids are random; this one would be a 1 in 2^64 draw). */
const MISSING_ID = "0000000000000000";
const STACK_TRACE = /\n\s+at /;
const RUN_TIMEOUT_MS = 20_000;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The Node.js executable; the one running the tests by default. */
  node?: string;
}

/** Processes started by the tests and not yet finished, so an `after` hook can kill any left over. */
const live = new Set<ChildProcess>();

/**
 * At most this many CLI processes run at once: the tests themselves run concurrently, and starting dozens
 * of Node.js processes together on a small machine makes each of them (and the timing checks) crawl.
 */
const MAX_PROCESSES = Math.max(2, availableParallelism());
let running = 0;
const queued: (() => void)[] = [];

function acquireProcessSlot(): Promise<void> {
  if (running < MAX_PROCESSES) {
    running++;
    return Promise.resolve();
  }
  return new Promise((resolveSlot) => queued.push(resolveSlot));
}

/** Hands the slot straight to the next waiter, if any. */
function releaseProcessSlot(): void {
  const next = queued.shift();
  if (next) next();
  else running--;
}

after(() => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Runs `node <args>` to completion and collects its output; kills it if it runs too long. `ms` is the
 * time from spawn to exit (not counting the wait for a process slot).
 */
async function spawnNode(args: readonly string[], options: RunOptions): Promise<RunResult> {
  await acquireProcessSlot();
  try {
    return await spawnAndCollect(args, options);
  } finally {
    releaseProcessSlot();
  }
}

function spawnAndCollect(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(options.node ?? process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Runs the real binary: `node bin/orchestrate.js <args>`. */
function run(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return spawnNode([BIN, ...args], options);
}

/** The environment of a child: ours, minus the configuration variables, with HOME in a temp dir. */
function childEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...CONFIG_VARIABLES, "NODE_TEST_CONTEXT"]) delete env[name];
  env["HOME"] = home;
  env["XDG_CONFIG_HOME"] = join(home, ".config");
  env["XDG_DATA_HOME"] = join(home, ".local", "share");
  env["XDG_CACHE_HOME"] = join(home, ".cache");
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** A temporary root holding a HOME and a working directory; created in `before`, removed in `after`. */
class Sandbox {
  root = "";
  home = "";
  cwd = "";

  create(): void {
    this.root = mkdtempSync(join(tmpdir(), "orchestrate-e2e-"));
    this.home = join(this.root, "home");
    this.cwd = join(this.root, "work");
    mkdirSync(this.home);
    mkdirSync(this.cwd);
  }

  remove(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  run(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
    return run(args, { cwd: this.cwd, env: childEnv(this.home, env) });
  }

  /** Runs a command that must succeed and returns its stdout. */
  async ok(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<string> {
    const result = await this.run(args, env);
    assert.equal(result.code, 0, explain(args, result));
    return result.stdout;
  }

  async json<T = Record<string, unknown>>(
    args: readonly string[],
    env: Record<string, string | undefined> = {},
  ): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"], env)) as T;
  }

  /** Submits a task and returns its id. */
  async submit(...args: string[]): Promise<string> {
    const id = (await this.ok(["submit", "-q", ...args])).trim();
    assert.match(id, ID);
    return id;
  }

  async taskCount(extraArgs: readonly string[] = []): Promise<number> {
    return (await this.json<{ total: number }>(["status", ...extraArgs])).total;
  }

  async task(id: string): Promise<TaskDetail> {
    return this.json<TaskDetail>(["task", id]);
  }

  path(...parts: string[]): string {
    return join(this.cwd, ...parts);
  }
}

/** A sandbox for the enclosing `describe`. */
function useSandbox(): Sandbox {
  const box = new Sandbox();
  before(() => box.create());
  after(() => box.remove());
  return box;
}

interface Dependency {
  id: string;
  description: string;
  status: string;
}

interface TaskJson {
  id: string;
  description: string;
  agentType: string | null;
  status: string;
  priority: number;
  context: Record<string, unknown> | null;
  createdAt: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | null;
  error: string | null;
  unmetDependencies: number;
}

interface TaskDetail extends TaskJson {
  dependencies: Dependency[];
  dependents: Dependency[];
  events: { kind: string; at: number; data: Record<string, unknown> | null }[];
  agentRuns: unknown[];
}

interface StatusJson {
  database: string;
  counts: Record<string, number>;
  total: number;
  blocked: { count: number; tasks: { id: string; description: string; waitingOn: Dependency[] }[] };
  recent: TaskJson[];
  agents: unknown[];
}

interface ConfigJson {
  database: string;
  settings: { name: string; value: string; source: string }[];
}

function explain(args: readonly string[], result: RunResult): string {
  return `orchestrate ${args.join(" ")} exited ${result.code} (signal ${result.signal})\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}

/**
 * Asserts the shape every user-facing error must have: the exit code of its class, nothing on stdout, and
 * on stderr one short paragraph, "error: what is wrong" then "hint: what to do", without a stack trace.
 */
function assertError(
  args: readonly string[],
  result: RunResult,
  code: number,
  message?: RegExp,
): void {
  const why = explain(args, result);
  assert.equal(result.code, code, why);
  assert.equal(result.stdout, "", why);
  assert.match(result.stderr, /^error: \S/, why);
  assert.match(result.stderr, /\nhint: \S/, why);
  assert.doesNotMatch(result.stderr, STACK_TRACE, why);
  assert.ok(!result.stderr.trim().includes("\n\n"), `not one paragraph:\n${why}`);
  assert.ok(result.stderr.trim().split("\n").length <= 3, `too long:\n${why}`);
  if (message) assert.match(result.stderr, message, why);
}

/** The lines of a titled section of text output, up to the next blank line. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no section '${title}' in:\n${text}`);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

const short = (id: string) => id.slice(0, 8);

/** A setting of `orchestrate config --json` by name. */
function setting(config: ConfigJson, name: string): { value: string; source: string } {
  const entry = config.settings.find((s) => s.name === name);
  assert.ok(entry, `no setting ${name}`);
  return entry;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("orchestrate CLI", { concurrency: true }, () => {
  describe("help and version", { concurrency: true }, () => {
    const box = useSandbox();

    for (const flag of ["--help", "-h", "help"]) {
      it(`'${flag}' prints the program help`, async () => {
        const out = await box.ok([flag]);
        assert.match(out, /^Usage: orchestrate <command> \[options\]\n/);
        for (const name of COMMANDS) assert.match(out, new RegExp(`^  ${name} +\\S`, "m"));
        assert.match(out, /--version/);
        assert.match(out, /--base-dir <dir>/);
      });
    }

    it("with no arguments prints the help on stdout and exits 2", async () => {
      const result = await box.run([]);
      assert.equal(result.code, 2);
      assert.match(result.stdout, /^Usage: orchestrate <command>/);
    });

    for (const name of COMMANDS) {
      it(`'${name} --help' prints the command's usage and options`, async () => {
        const out = await box.ok([name, "--help"]);
        assert.match(out, new RegExp(`^Usage: orchestrate ${name}\\b`));
        assert.match(out, /\nOptions:\n/);
        assert.match(out, /\nGlobal options:\n/);
        assert.match(out, /--base-dir <dir>/);
        assert.match(out, /--json/);
      });
    }

    it("'help <command>' prints the same text as '<command> --help'", async () => {
      const [viaHelp, viaFlag] = await Promise.all([
        box.ok(["help", "submit"]),
        box.ok(["submit", "--help"]),
      ]);
      assert.equal(viaHelp, viaFlag);
    });

    it("'submit --help' lists the agent types and the options", async () => {
      const out = await box.ok(["submit", "-h"]);
      for (const option of [
        "--agent",
        "--priority",
        "--depends-on",
        "--context",
        "--max-attempts",
        "--timeout",
        "--quiet",
      ]) {
        assert.ok(out.includes(option), option);
      }
      assert.match(out, /^ {2}backend-systems-engineer$/m);
      assert.match(out, /^ {2}llm-architect$/m);
    });

    for (const flag of ["--version", "-V"]) {
      it(`'${flag}' prints the package version`, async () => {
        const result = await box.run([flag]);
        assert.equal(result.code, 0, explain([flag], result));
        assert.equal(result.stdout, `${VERSION}\n`);
        assert.equal(result.stderr, "");
      });
    }

    it("help and version create no queue", async () => {
      await box.ok(["--help"]);
      await box.ok(["--version"]);
      assert.equal(existsSync(box.path(".orchestrator")), false);
    });
  });

  describe("submit", { concurrency: true }, () => {
    const box = useSandbox();

    it("prints the new task's id", async () => {
      const out = await box.ok(["submit", "Add a login endpoint"]);
      const match = /^Submitted ([0-9a-f]{16}) \(normal priority, agent auto\)\n$/.exec(out);
      assert.ok(match, out);
      const task = await box.task(match[1] ?? "");
      assert.equal(task.description, "Add a login endpoint");
      assert.equal(task.status, "pending");
    });

    it("-q prints only the id", async () => {
      const result = await box.run(["submit", "-q", "quiet task"]);
      assert.equal(result.code, 0, explain(["submit"], result));
      assert.match(result.stdout, /^[0-9a-f]{16}\n$/);
      assert.equal(result.stderr, "");
    });

    it("joins several words into the description; --json prints the task", async () => {
      const task = await box.json<TaskJson>(["submit", "Add", "a", "users", "table"]);
      assert.match(task.id, ID);
      assert.equal(task.description, "Add a users table");
      assert.equal(task.status, "pending");
      assert.equal(task.agentType, null);
      assert.equal(task.priority, 2);
      assert.equal(task.context, null);
      assert.equal(task.attempts, 0);
      assert.equal(task.maxAttempts, 3);
      assert.equal(task.timeoutMs, null);
      assert.equal(task.unmetDependencies, 0);
      assert.equal(typeof task.createdAt, "number");
      assert.ok(Math.abs(task.createdAt - Date.now()) < 60_000);
      const stored: Record<string, unknown> = { ...(await box.task(task.id)) };
      assert.deepEqual(
        Object.fromEntries(Object.keys(task).map((key) => [key, stored[key]])),
        task,
        "task <id> --json shows the same fields",
      );
    });

    it("--agent sets the specialist; text output names it and the priority", async () => {
      const out = await box.ok([
        "submit",
        "Build the users API",
        "--agent",
        "backend-systems-engineer",
        "--priority",
        "high",
      ]);
      assert.match(out, /\(high priority, agent backend-systems-engineer\)/);
      const task = await box.json<TaskJson>(["submit", "x", "-a", "auto"]);
      assert.equal(task.agentType, null);
      const typed = await box.json<TaskJson>(["submit", "x", "-a", "Frontend-UI-Engineer"]);
      assert.equal(typed.agentType, "frontend-ui-engineer");
    });

    for (const [given, expected] of [
      ["low", 1],
      ["normal", 2],
      ["high", 3],
      ["urgent", 4],
      ["URGENT", 4],
      ["1", 1],
      ["3", 3],
      ["4", 4],
    ] as const) {
      it(`--priority ${given} stores ${expected}`, async () => {
        const task = await box.json<TaskJson>(["submit", "p", "--priority", given]);
        assert.equal(task.priority, expected);
      });
    }

    it("--depends-on accepts a unique id prefix", async () => {
      const dep = await box.submit("Design the schema");
      const out = await box.ok(["submit", "Use the schema", "--depends-on", dep.slice(0, 10)]);
      assert.match(out, /, waits for 1 task\(s\)\)\n$/);
      const id = /Submitted ([0-9a-f]{16})/.exec(out)?.[1] ?? "";
      const task = await box.task(id);
      assert.equal(task.unmetDependencies, 1);
      assert.deepEqual(
        task.dependencies.map((d) => d.id),
        [dep],
      );
    });

    it("--depends-on takes commas and repeats, and ignores duplicates", async () => {
      const [a, b, c] = await Promise.all([box.submit("a"), box.submit("b"), box.submit("c")]);
      assert.ok(a && b && c);
      const task = await box.json<TaskJson>([
        "submit",
        "after a, b and c",
        "--depends-on",
        `${a},${short(b)}`,
        "-d",
        c,
        "-d",
        a,
      ]);
      assert.equal(task.unmetDependencies, 3);
      const detail = await box.task(task.id);
      assert.deepEqual(detail.dependencies.map((d) => d.id).sort(), [a, b, c].sort());
    });

    it("--context stores a JSON object", async () => {
      const context = { repo: "api", branch: "main", nested: { n: 1, list: [1, "two"] } };
      const task = await box.json<TaskJson>([
        "submit",
        "with context",
        "--context",
        JSON.stringify(context),
      ]);
      assert.deepEqual(task.context, context);
      assert.deepEqual((await box.task(task.id)).context, context);
    });

    it("--max-attempts and --timeout are stored", async () => {
      const task = await box.json<TaskJson>([
        "submit",
        "limits",
        "--max-attempts",
        "5",
        "--timeout",
        "90s",
      ]);
      assert.equal(task.maxAttempts, 5);
      assert.equal(task.timeoutMs, 90_000);
      const [hours, bare] = await Promise.all([
        box.json<TaskJson>(["submit", "two hours", "-t", "2h"]),
        box.json<TaskJson>(["submit", "bare seconds", "--timeout", "30"]),
      ]);
      assert.equal(hours.timeoutMs, 7_200_000);
      assert.equal(bare.timeoutMs, 30_000);
      const detail = await box.ok(["task", task.id]);
      assert.match(detail, /attempts {4}0 of 5/);
      assert.match(detail, /timeout {5}1m30s/);
    });
  });

  describe("status without a queue", { concurrency: true }, () => {
    const box = useSandbox();

    it("says there is no queue and does not create one", async () => {
      const out = await box.ok(["status"]);
      assert.match(out, /^No queue yet at .*tasks\.db\n/);
      assert.match(out, /orchestrate submit/);
      assert.equal(existsSync(box.path(".orchestrator")), false);
    });

    it("--json reports an empty queue and does not create one", async () => {
      const status = await box.json<StatusJson>(["status"]);
      assert.equal(status.total, 0);
      assert.equal(status.database, box.path(".orchestrator", "tasks.db"));
      assert.ok(Object.values(status.counts).every((n) => n === 0));
      assert.deepEqual(status.blocked, { count: 0, tasks: [] });
      assert.deepEqual(status.recent, []);
      assert.deepEqual(status.agents, []);
      assert.equal(existsSync(box.path(".orchestrator")), false);
    });

    it("task, retry, cancel and cleanup create no queue either", async () => {
      for (const args of [
        ["task", MISSING_ID],
        ["retry", MISSING_ID],
        ["cancel", MISSING_ID],
      ]) {
        assertError(args, await box.run(args), 3, /no task matches/);
      }
      assert.match(await box.ok(["cleanup"]), /^Removed 0 finished task\(s\)/);
      assert.match(await box.ok(["config"]), /ORCHESTRATOR_BASE_DIR/);
      assert.equal(existsSync(box.path(".orchestrator")), false);
    });
  });

  describe("status and task", { concurrency: true }, () => {
    const box = useSandbox();
    let first = "";
    let second = "";
    let dropped = "";

    before(async () => {
      first = await box.submit("Design the users table", "--priority", "high");
      second = await box.submit("Build the users API", "--depends-on", first);
      dropped = await box.submit("Something nobody wants", "-a", "data-science-analyst");
      await box.ok(["cancel", dropped]);
    });

    it("status shows counts, the blocked task and recent tasks", async () => {
      const out = await box.ok(["status"]);
      assert.match(out, /^Queue .*\.orchestrator\/tasks\.db · 3 tasks\n/);
      assert.match(out, /pending 2 \(1 blocked\)/);
      assert.match(out, /cancelled 1/);
      assert.match(out, /completed 0/);
      const blocked = section(out, "Blocked by dependencies (1)");
      assert.match(blocked[0] ?? "", /ID +WAITING ON +DESCRIPTION/);
      assert.equal(blocked.length, 2, blocked.join("\n"));
      assert.match(
        blocked[1] ?? "",
        new RegExp(`^  ${short(second)} +${short(first)} pending +Build the users API$`),
      );
      const recent = section(out, "Recent tasks");
      assert.equal(recent.length, 4);
      assert.match(recent[1] ?? "", new RegExp(`^  ${short(dropped)} +cancelled +normal`));
      assert.match(recent[3] ?? "", new RegExp(`^  ${short(first)} +pending +high +auto`));
      assert.deepEqual(section(out, "Running agents"), ["  none"]);
    });

    it("status --json has counts, blocked tasks with what they wait on, recent tasks", async () => {
      const status = await box.json<StatusJson>(["status"]);
      assert.equal(status.database, box.path(".orchestrator", "tasks.db"));
      assert.equal(status.total, 3);
      assert.deepEqual(status.counts, {
        pending: 2,
        assigned: 0,
        in_progress: 0,
        completed: 0,
        failed: 0,
        cancelled: 1,
      });
      assert.equal(status.blocked.count, 1);
      assert.equal(status.blocked.tasks.length, 1);
      assert.equal(status.blocked.tasks[0]?.id, second);
      assert.deepEqual(status.blocked.tasks[0]?.waitingOn, [
        { id: first, description: "Design the users table", status: "pending" },
      ]);
      assert.deepEqual(
        status.recent.map((t) => t.id),
        [dropped, second, first],
      );
      assert.deepEqual(status.agents, []);
      const limited = await box.json<StatusJson>(["status", "--limit", "1"]);
      assert.deepEqual(
        limited.recent.map((t) => t.id),
        [dropped],
      );
    });

    it("task <full id> shows fields, dependencies both ways and events", async () => {
      const out = await box.ok(["task", first]);
      assert.match(out, new RegExp(`^Task ${first}  pending\n  Design the users table\n`));
      assert.match(out, /\n {2}priority {4}high \(3\)\n/);
      assert.match(out, /\n {2}agent {7}auto\n/);
      assert.deepEqual(section(out, "Depends on"), ["  none"]);
      const neededBy = section(out, "Needed by");
      assert.equal(neededBy.length, 1);
      assert.match(
        neededBy[0] ?? "",
        new RegExp(`^  ${short(second)}  pending +Build the users API$`),
      );
      const events = section(out, "Events");
      assert.match(events[0] ?? "", /task:submitted/);

      const dependent = await box.ok(["task", second]);
      const dependsOn = section(dependent, "Depends on");
      assert.equal(dependsOn.length, 1);
      assert.match(dependsOn[0] ?? "", new RegExp(`^  ${short(first)}  pending +Design the users`));
      assert.deepEqual(section(dependent, "Needed by"), ["  none"]);
    });

    it("task <unique prefix> shows the same task", async () => {
      const [full, prefix, upper] = await Promise.all([
        box.ok(["task", second]),
        box.ok(["task", second.slice(0, 6)]),
        box.ok(["task", second.slice(0, 8).toUpperCase()]),
      ]);
      assert.equal(prefix, full);
      assert.equal(upper, full);
    });

    it("task --json has the task, its dependencies both ways, events and agent runs", async () => {
      const [a, b, c] = await Promise.all([
        box.task(first.slice(0, 5)),
        box.task(second),
        box.task(dropped),
      ]);
      assert.equal(a.id, first);
      assert.equal(a.priority, 3);
      assert.deepEqual(a.dependencies, []);
      assert.deepEqual(a.dependents, [
        { id: second, description: "Build the users API", status: "pending" },
      ]);
      assert.deepEqual(
        a.events.map((e) => e.kind),
        ["task:submitted"],
      );
      assert.deepEqual(a.agentRuns, []);
      assert.deepEqual(
        b.dependencies.map((d) => [d.id, d.status]),
        [[first, "pending"]],
      );
      assert.equal(b.unmetDependencies, 1);
      assert.equal(c.status, "cancelled");
      assert.equal(c.agentType, "data-science-analyst");
      assert.deepEqual(
        c.events.map((e) => e.kind),
        ["task:submitted", "task:cancelled"],
      );
    });
  });

  describe("retry and cancel", { concurrency: false }, () => {
    const box = useSandbox();
    let id = "";
    let dependent = "";

    before(async () => {
      id = await box.submit("Flaky work");
      dependent = await box.submit("After the flaky work", "-d", id);
    });

    it("cancel moves a pending task to cancelled", async () => {
      assert.equal(await box.ok(["cancel", id]), `Cancelled ${id}\n`);
      const task = await box.task(id);
      assert.equal(task.status, "cancelled");
      assert.equal(task.error, "cancelled by user");
    });

    it("the dependent stays blocked, waiting on the cancelled task", async () => {
      const status = await box.json<StatusJson>(["status"]);
      assert.equal(status.blocked.count, 1);
      assert.equal(status.blocked.tasks[0]?.id, dependent);
      assert.deepEqual(
        status.blocked.tasks[0]?.waitingOn.map((d) => [d.id, d.status]),
        [[id, "cancelled"]],
      );
      assert.match(await box.ok(["status"]), new RegExp(`${short(id)} cancelled`));
    });

    it("cancelling it again is a conflict (4)", async () => {
      const args = ["cancel", id];
      assertError(args, await box.run(args), 4, /is cancelled; it cannot become cancelled/);
    });

    it("retry by prefix sends it back to pending", async () => {
      const out = await box.ok(["retry", id.slice(0, 7)]);
      assert.match(out, new RegExp(`^Requeued ${id}`));
      const task = await box.task(id);
      assert.equal(task.status, "pending");
      assert.equal(task.error, null);
      assert.equal(task.attempts, 0);
      assert.deepEqual(
        task.events.map((e) => e.kind),
        ["task:submitted", "task:cancelled", "task:requeued"],
      );
    });

    it("retry of a pending task is a conflict (4) and changes nothing", async () => {
      const args = ["retry", id];
      const result = await box.run(args);
      assertError(args, result, 4, /is pending; it cannot become pending/);
      assert.match(result.stderr, /hint: only failed or cancelled tasks can be retried/);
      assert.equal((await box.task(id)).events.length, 3);
    });

    it("cancel --json and retry --json print the updated task", async () => {
      const cancelled = await box.json<TaskJson>(["cancel", id]);
      assert.equal(cancelled.id, id);
      assert.equal(cancelled.status, "cancelled");
      const retried = await box.json<TaskJson>(["retry", id]);
      assert.equal(retried.id, id);
      assert.equal(retried.status, "pending");
      assert.equal(await box.taskCount(), 2);
    });
  });

  describe("cleanup", { concurrency: false }, () => {
    const box = useSandbox();
    let old = "";
    let done = "";
    let waiting = "";
    let idle = "";

    before(async () => {
      old = await box.submit("Abandoned work", "-p", "low");
      await box.ok(["cancel", old]);
      done = await box.submit("Finished work", "-p", "urgent");
      waiting = await box.submit("Needs the finished work", "-d", done);
      idle = await box.submit("Not started", "-p", "low");
      await completeTask(box, done);
    });

    it("the dependency was completed by a worker", async () => {
      assert.equal((await box.task(done)).status, "completed");
      assert.equal((await box.task(waiting)).unmetDependencies, 0);
    });

    it("with the default cutoff (7d) removes nothing", async () => {
      assert.match(
        await box.ok(["cleanup", "--dry-run"]),
        /^Would remove 0 finished task\(s\) older than 7d0h and 0 file\(s\)\n/,
      );
      assert.match(await box.ok(["cleanup"]), /^Removed 0 finished task\(s\)/);
      assert.equal(await box.taskCount(), 4);
    });

    it("--dry-run lists the old finished tasks and keeps them", async () => {
      await sleep(30);
      const out = await box.ok(["cleanup", "--older-than", "1ms", "--dry-run"]);
      const lines = out.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^Would remove 1 finished task\(s\) older than 1ms/);
      assert.match(lines[1] ?? "", new RegExp(`^  ${short(old)}  cancelled  Abandoned work$`));
      assert.match(out, /Kept 1 old task\(s\) that unfinished tasks still depend on/);
      assert.ok(!out.includes(short(done)), "the completed dependency is not listed");
      const json = await box.json<{
        dryRun: boolean;
        olderThanMs: number;
        tasks: { id: string; status: string; description: string }[];
        files: string[];
        keptForDependents: number;
      }>(["cleanup", "--older-than", "1ms", "-n"]);
      assert.deepEqual(json, {
        dryRun: true,
        olderThanMs: 1,
        tasks: [{ id: old, status: "cancelled", description: "Abandoned work" }],
        files: [],
        keptForDependents: 1,
      });
      assert.equal(await box.taskCount(), 4);
      assert.equal((await box.task(old)).status, "cancelled");
    });

    it("a real run removes old finished tasks but keeps a pending task's completed dependency", async () => {
      const out = await box.ok(["cleanup", "--older-than", "1ms"]);
      assert.match(out, /^Removed 1 finished task\(s\) older than 1ms and 0 file\(s\)\n/);
      assert.match(out, new RegExp(`\n  ${short(old)}  cancelled  Abandoned work\n`));
      assert.match(out, /Kept 1 old task\(s\)/);
      assertError(["task", old], await box.run(["task", old]), 3, /no task matches/);
      const status = await box.json<StatusJson>(["status"]);
      assert.equal(status.total, 3);
      assert.deepEqual(status.recent.map((t) => t.id).sort(), [done, waiting, idle].sort());
      const dependent = await box.task(waiting);
      assert.deepEqual(
        dependent.dependencies.map((d) => [d.id, d.status]),
        [[done, "completed"]],
      );
      const again = await box.json<{ tasks: unknown[]; keptForDependents: number }>([
        "cleanup",
        "--older-than",
        "1ms",
      ]);
      assert.deepEqual(again.tasks, []);
      assert.equal(again.keptForDependents, 1);
    });
  });

  describe("config", { concurrency: true }, () => {
    const box = useSandbox();
    const secret = "sk-ant-e2e-SECRET-0123456789";
    const fileSecret = "sk-ant-e2e-FILE-SECRET-9876543210";

    it("shows every value and where it comes from", async () => {
      const out = await box.ok(["config"]);
      assert.match(out, /^ {2}SETTING +VALUE +FROM$/m);
      assert.match(
        out,
        new RegExp(
          `^  ORCHESTRATOR_BASE_DIR +${escapeRegExp(box.path(".orchestrator"))} +default$`,
          "m",
        ),
      );
      assert.match(out, /^ {2}MAX_AGENTS +3 +default$/m);
      assert.match(out, /^ {2}USE_API_MODE +false +default$/m);
      assert.match(out, /^ {2}ANTHROPIC_API_KEY +<not set> +default$/m);
      assert.match(out, /^ {2}ORCHESTRATOR_BUSY_TIMEOUT_MS +5000 +default$/m);
      assert.match(
        out,
        new RegExp(`\ndatabase: ${escapeRegExp(box.path(".orchestrator", "tasks.db"))}\n$`),
      );
      const json = await box.json<ConfigJson>(["config"]);
      assert.equal(json.database, box.path(".orchestrator", "tasks.db"));
      assert.deepEqual(
        json.settings.map((s) => s.name),
        [
          "ORCHESTRATOR_BASE_DIR",
          "MAX_AGENTS",
          "USE_API_MODE",
          "ANTHROPIC_API_KEY",
          "ORCHESTRATOR_BUSY_TIMEOUT_MS",
        ],
      );
      assert.ok(json.settings.every((s) => s.source === "default"));
      assert.equal(existsSync(box.path(".orchestrator")), false, "config creates no queue");
    });

    it("never prints ANTHROPIC_API_KEY, in text or --json", async () => {
      const env = { ANTHROPIC_API_KEY: secret, MAX_AGENTS: "4", USE_API_MODE: "yes" };
      for (const args of [["config"], ["config", "--json"], ["config", "--debug"]]) {
        const result = await box.run(args, env);
        assert.equal(result.code, 0, explain(args, result));
        assert.ok(!result.stdout.includes(secret), `secret in stdout of ${args.join(" ")}`);
        assert.ok(!result.stderr.includes(secret), `secret in stderr of ${args.join(" ")}`);
        assert.ok(!result.stdout.includes("sk-ant"), "no part of the secret either");
      }
      const json = await box.json<ConfigJson>(["config"], env);
      assert.deepEqual(setting(json, "ANTHROPIC_API_KEY"), {
        name: "ANTHROPIC_API_KEY",
        value: "<set, redacted>",
        source: "environment",
      });
      assert.equal(setting(json, "MAX_AGENTS").value, "4");
      assert.equal(setting(json, "USE_API_MODE").value, "true");
    });

    it("flags beat the environment, the environment beats .env", async () => {
      const sub = new Sandbox();
      sub.create();
      try {
        writeFileSync(
          sub.path(".env"),
          [
            "ORCHESTRATOR_BASE_DIR=from-dotenv",
            "MAX_AGENTS=7",
            "USE_API_MODE=true",
            `ANTHROPIC_API_KEY=${fileSecret}`,
            "ORCHESTRATOR_BUSY_TIMEOUT_MS=111",
            "",
          ].join("\n"),
        );
        const fromFile = await sub.json<ConfigJson>(["config"]);
        assert.deepEqual(
          fromFile.settings.map((s) => [s.name, s.value, s.source]),
          [
            ["ORCHESTRATOR_BASE_DIR", sub.path("from-dotenv"), ".env"],
            ["MAX_AGENTS", "7", ".env"],
            ["USE_API_MODE", "true", ".env"],
            ["ANTHROPIC_API_KEY", "<set, redacted>", ".env"],
            ["ORCHESTRATOR_BUSY_TIMEOUT_MS", "111", ".env"],
          ],
        );
        assert.equal(fromFile.database, sub.path("from-dotenv", "tasks.db"));

        const env = {
          ORCHESTRATOR_BASE_DIR: "from-env",
          MAX_AGENTS: "5",
          ORCHESTRATOR_BUSY_TIMEOUT_MS: "222",
        };
        const fromEnv = await sub.json<ConfigJson>(["config"], env);
        assert.deepEqual(
          fromEnv.settings.map((s) => [s.name, s.value, s.source]),
          [
            ["ORCHESTRATOR_BASE_DIR", sub.path("from-env"), "environment"],
            ["MAX_AGENTS", "5", "environment"],
            ["USE_API_MODE", "true", ".env"],
            ["ANTHROPIC_API_KEY", "<set, redacted>", ".env"],
            ["ORCHESTRATOR_BUSY_TIMEOUT_MS", "222", "environment"],
          ],
        );

        const flagsArgs = ["config", "--base-dir", "from-flag", "--busy-timeout", "333"];
        const fromFlags = await sub.json<ConfigJson>(flagsArgs, env);
        assert.deepEqual(setting(fromFlags, "ORCHESTRATOR_BASE_DIR"), {
          name: "ORCHESTRATOR_BASE_DIR",
          value: sub.path("from-flag"),
          source: "flag",
        });
        assert.deepEqual(setting(fromFlags, "ORCHESTRATOR_BUSY_TIMEOUT_MS"), {
          name: "ORCHESTRATOR_BUSY_TIMEOUT_MS",
          value: "333",
          source: "flag",
        });
        assert.equal(setting(fromFlags, "MAX_AGENTS").source, "environment");
        assert.equal(fromFlags.database, sub.path("from-flag", "tasks.db"));

        // Global options work before the command word too, and the text view shows the sources.
        const text = await sub.ok(["--base-dir", "from-flag", "config"], env);
        assert.match(text, /^ {2}ORCHESTRATOR_BASE_DIR +\S+from-flag +flag$/m);
        assert.match(text, /^ {2}MAX_AGENTS +5 +environment$/m);
        assert.match(text, /^ {2}USE_API_MODE +true +\.env$/m);
        assert.ok(!text.includes(fileSecret), "the .env secret is not printed");
        assert.ok(!JSON.stringify(fromFile).includes(fileSecret));

        // Submitting uses the winning base dir.
        await sub.submit("where does it go", "--base-dir", "from-flag");
        assert.equal(existsSync(sub.path("from-flag", "tasks.db")), true);
        assert.equal(existsSync(sub.path("from-env")), false);
        assert.equal(existsSync(sub.path("from-dotenv")), false);
      } finally {
        sub.remove();
      }
    });
  });

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
      assertError(args, result, code, message);
      assert.equal(await box.taskCount(), 1, `a task was written by: ${args.join(" ")}`);
      return result;
    }

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
      ["too many arguments", ["task", existing, "extra"], /too many arguments/],
      ["status --limit abc", ["status", "--limit", "abc"], /invalid --limit/],
      ["task --events abc", ["task", existing, "--events", "abc"], /invalid --events 'abc'/],
      ["cleanup --older-than forever", ["cleanup", "--older-than", "forever"], /--older-than/],
      ["no command", ["--base-dir", "somewhere"], /no command given/],
    ];
    for (const [what, args, message] of usage) {
      it(`${what} is a usage error (2)`, async () => {
        await rejects(args, 2, message);
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
        assertError(args, await sub.run(args), 5, /USE_API_MODE \(in \.env\) is 'maybe'/);
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
        assertError(args, result, 4, new RegExp(`task id '${digit}' is ambiguous: it matches `));
        assert.match(result.stderr, /hint: give more characters of the id/);
        assert.equal(await box.taskCount(), count);
      });
    }

    it("a dependency given by an ambiguous prefix is a conflict (4) and writes nothing", async () => {
      const args = ["submit", "x", "--depends-on", digit];
      assertError(args, await box.run(args), 4, /is ambiguous/);
      assert.equal(await box.taskCount(), count);
      const status = await box.json<StatusJson>(["status"]);
      assert.ok(status.recent.every((t) => t.status === "pending"));
    });
  });

  describe("a database locked by another process", { concurrency: false }, () => {
    const box = useSandbox();
    let holder: ChildProcess | undefined;

    after(() => {
      holder?.kill("SIGKILL");
    });

    it("is a conflict (4) after the busy timeout, and nothing is written", async () => {
      await box.submit("before the lock");
      const dbPath = box.path(".orchestrator", "tasks.db");
      holder = spawn(process.execPath, ["-e", LOCK_HOLDER, dbPath], {
        cwd: box.cwd,
        env: childEnv(box.home),
        stdio: ["ignore", "pipe", "pipe"],
      });
      live.add(holder);
      holder.on("exit", () => live.delete(holder as ChildProcess));
      await waitForLine(holder, "locked");
      try {
        const args = ["submit", "x", "--busy-timeout", "200"];
        const result = await box.run(args);
        assertError(args, result, 4, /is locked by another process/);
        assert.match(result.stderr, /hint: .*ORCHESTRATOR_BUSY_TIMEOUT_MS/);
        assert.ok(result.ms >= 200, `gave up after ${result.ms} ms, before the busy timeout`);
        // Ignoring --busy-timeout would wait for the 5000 ms default before giving up.
        assert.ok(result.ms < 5_000, `took ${result.ms} ms: the 200 ms busy timeout was ignored`);

        const fromEnv = await box.run(["submit", "y"], { ORCHESTRATOR_BUSY_TIMEOUT_MS: "150" });
        assertError(["submit", "y"], fromEnv, 4, /locked/);
        assert.ok(fromEnv.ms < 5_000, `took ${fromEnv.ms} ms with a 150 ms timeout from the env`);

        const json = await box.run([...args, "--json"]);
        assert.equal(json.code, 4);
        assert.equal(
          (JSON.parse(json.stderr) as { error: { code: string } }).error.code,
          "conflict",
        );
        assert.equal(await box.taskCount(), 1, "status reads while another process writes");
      } finally {
        await stop(holder);
      }
      assert.equal(await box.taskCount(), 1, "nothing was written while locked");
      await box.submit("after the lock");
      assert.equal(await box.taskCount(), 2, "the queue works once the lock is released");
    });
  });

  describe("an old Node.js", { concurrency: false }, () => {
    const box = useSandbox();

    it("prints the required version instead of a syntax error", async (t) => {
      const oldNode = "/usr/bin/node";
      if (!existsSync(oldNode)) return t.skip(`${oldNode} does not exist`);
      const probe = spawnSync(oldNode, ["--version"], { encoding: "utf8" });
      const major = Number(/^v(\d+)\./.exec(probe.stdout)?.[1] ?? Number.NaN);
      if (!(major < 24)) return t.skip(`${oldNode} is ${probe.stdout.trim()}, not older than 24`);
      const args = ["--version"];
      const result = await run(args, { cwd: box.cwd, env: childEnv(box.home), node: oldNode });
      assert.notEqual(result.code, 0, explain(args, result));
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /24\.15/);
      assert.match(result.stderr, /^error: orchestrate needs Node\.js 24\.15 or newer/);
      assert.match(result.stderr, /\nhint: /);
      assert.doesNotMatch(result.stderr, /SyntaxError/);
      assert.doesNotMatch(result.stderr, STACK_TRACE);
    });
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

/**
 * Completes task `id` the way a worker would: claim it, start it, complete it, through the built queue
 * (no CLI command does this yet). Runs in its own process, like a worker, against the same `dist/`.
 */
async function completeTask(box: Sandbox, id: string): Promise<void> {
  const script = `
const [distUrl, dbPath, taskId] = process.argv.slice(1);
const { openSqliteStore } = await import(new URL("adapters/store/sqlite/sqliteStore.js", distUrl));
const { TaskQueue } = await import(new URL("core/taskQueue.js", distUrl));
const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 5000 });
try {
  const queue = new TaskQueue({ store });
  const claimed = await queue.next("e2e-worker");
  if (claimed?.id !== taskId) throw new Error("claimed " + claimed?.id + ", not " + taskId);
  await queue.start(taskId, "e2e-worker", "e2e-agent");
  await queue.complete(taskId, "done", { workerId: "e2e-worker" });
} finally {
  await store.close();
}
`;
  const args = [
    "--input-type=module",
    "-e",
    script,
    DIST_URL,
    box.path(".orchestrator", "tasks.db"),
    id,
  ];
  const result = await spawnNode(args, { cwd: box.cwd, env: childEnv(box.home) });
  assert.equal(result.code, 0, `worker failed: ${result.stderr}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
