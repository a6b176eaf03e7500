// The benchmark: queue throughput (in one process and across processes on one database file), the
// wall time of the CLI at 10k, 100k and 1M tasks, the agent runtime's costs (bench/agents.ts) and a git
// worktree's cost per task (bench/worktrees.ts). It rewrites docs/benchmarks.md with what it measured.
//
//   npm run bench                 (builds dist/, which bin/orchestrate.js runs, then this file)
//   node bench/run.ts --quick     (small sizes, for trying changes; prints only, leaves the docs alone)
//   node bench/run.ts --out <file>  (writes the report to <file> instead)
//   BENCH_CODE_LABEL=...          (names the code measured when the tree is not a git checkout)
//   node bench/worktrees.ts [--quick]  (the worktree rows alone, printed; no report)
//
// Progress goes to stderr, the result table to stdout. Nothing here is hard-coded: every figure in the
// report is measured on this run, and every target's verdict is computed from it.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { openSqliteStore, type SqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import type { AgentRun, Task } from "../src/core/task.ts";
import { type SubmitInput, TaskQueue } from "../src/core/taskQueue.ts";
import { benchAgents } from "./agents.ts";
import { ASSIGNED, buildQueue, IN_PROGRESS, STATUS_NAMES } from "./buildQueue.ts";
import { measureRunCommits } from "./runCommits.ts";
import { benchWorktrees, WORKTREE_FILES, worktreeTasks } from "./worktrees.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin", "orchestrate.js");
const WORKER = join(ROOT, "bench", "worker.ts");
const QUICK = process.argv.includes("--quick");
/** Where the report goes; `--out <file>` overrides it (a quick run writes no report unless given one). */
const outIndex = process.argv.indexOf("--out");
const REPORT =
  outIndex > 0
    ? (process.argv[outIndex + 1] ?? "")
    : QUICK
      ? ""
      : join(ROOT, "docs", "benchmarks.md");

const SIZES = QUICK
  ? { batch: 2_000, batchSize: 1_000, single: 500, cycles: 2_000, multi: 2_000, status: [1_000] }
  : {
      batch: 20_000,
      batchSize: 1_000,
      single: 5_000,
      cycles: 20_000,
      multi: 20_000,
      status: [10_000, 100_000, 1_000_000],
    };
const WORKERS = 4;
const STATUS_RUNS = 5;
const SPAWN_RUNS = 10;
/** The largest status database also gets a submit timing (submit cost may grow with the table). */
const LARGEST = SIZES.status[SIZES.status.length - 1] ?? 0;

/** Children run without orchestrate settings from this shell, so only --base-dir decides the database. */
const CHILD_ENV: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
delete CHILD_ENV["ORCHESTRATOR_BASE_DIR"];
delete CHILD_ENV["ORCHESTRATOR_BUSY_TIMEOUT_MS"];

interface Row {
  measure: string;
  result: string;
  /** e.g. ">= 10,000 cycles/s"; empty when the figure has no target. */
  target: string;
  met?: boolean;
}

interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

const rows: Row[] = [];
const notes: string[] = [];
/** Medians of the spawned commands (ms), by a short name, for the start-up comparison in the report. */
const spawned = new Map<string, number>();
const started = performance.now();

function log(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${message}\n`);
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtMs = (t: Timing): string =>
  `${fmt(t.median, 1)} ms (min ${fmt(t.min, 1)}, max ${fmt(t.max, 1)})`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? Number.NaN) + hi) / 2;
}

function openStore(dir: string): SqliteStore {
  return openSqliteStore({ path: join(dir, "tasks.db"), busyTimeoutMs: 30_000 });
}

/** One number from the database in `dir`, on a connection of its own (a check, not the code measured). */
function sqlNumber(dir: string, sql: string): number {
  const db = new DatabaseSync(join(dir, "tasks.db"), { readOnly: true });
  try {
    const row = db.prepare(sql).get() as { n: number | bigint } | undefined;
    return Number(row?.n ?? Number.NaN);
  } finally {
    db.close();
  }
}

/** The agent-run row of a benchmark "agent" (no process: the queue's own cost is measured). */
function benchAgentRun(task: Task, worker: string, n: number): AgentRun {
  const now = Date.now();
  return {
    id: `agent-bench${n}`,
    taskId: task.id,
    agentType: null,
    backend: "bench",
    workerId: worker,
    host: "bench",
    pid: null,
    startedAt: now,
    endedAt: null,
    exitCode: null,
    endReason: null,
    outputPath: null,
    runId: worker,
    lastActivityAt: now,
    lastActivity: "starting",
    rawPath: null,
    costUsd: null,
    inputTokens: null,
    outputTokens: null,
    sessionId: null,
  };
}

function submitInput(i: number): SubmitInput {
  return {
    description: `Benchmark task ${i}: add input validation to the orders endpoint and cover it with tests`,
    priority: [2, 2, 2, 3, 1][i % 5] ?? 2,
  };
}

/**
 * Spawns `node <args>` `runs` times after one warm-up run and returns wall-clock statistics. Every run
 * must exit 0 and, when `expect` is given, print it: a timing of an error path would be worthless.
 */
function timeNode(
  args: (run: number) => readonly string[],
  runs: number,
  cwd: string,
  expect?: RegExp,
): Timing {
  const samples: number[] = [];
  for (let run = -1; run < runs; run++) {
    const argv = args(run);
    const t0 = performance.now();
    const result = spawnSync(process.execPath, argv, { cwd, env: CHILD_ENV, encoding: "utf8" });
    const ms = performance.now() - t0;
    if (result.error) throw result.error;
    if (result.status !== 0) {
      throw new Error(`node ${argv.join(" ")} exited with ${result.status}:\n${result.stderr}`);
    }
    if (expect && !expect.test(result.stdout)) {
      throw new Error(`node ${argv.join(" ")} printed something unexpected:\n${result.stdout}`);
    }
    if (run >= 0) samples.push(ms);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs };
}

function target(
  measure: string,
  value: number,
  result: string,
  op: ">=" | "<=",
  goal: number,
  unit: string,
): void {
  const met = op === ">=" ? value >= goal : value <= goal;
  rows.push({ measure, result, target: `${op} ${fmt(goal)} ${unit}`, met });
}

// ---------------------------------------------------------------------------------------------------
// 1 and 2: submits/s and claim+complete cycles/s in one process

async function benchSubmitAndCycles(tmp: string): Promise<void> {
  // (1a) batches: addMany with SIZES.batchSize tasks per call (one transaction each).
  const dirA = mkdtempSync(join(tmp, "batch-"));
  const storeA = openStore(dirA);
  const queueA = new TaskQueue({ store: storeA });
  log(`submitting ${fmt(SIZES.batch)} tasks with addMany (${fmt(SIZES.batchSize)} per call)`);
  let t0 = performance.now();
  for (let i = 0; i < SIZES.batch; i += SIZES.batchSize) {
    const inputs: SubmitInput[] = [];
    for (let j = i; j < Math.min(SIZES.batch, i + SIZES.batchSize); j++)
      inputs.push(submitInput(j));
    await queueA.addMany(inputs);
  }
  let seconds = (performance.now() - t0) / 1000;
  const stored = sqlNumber(dirA, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending'");
  if (stored !== SIZES.batch)
    throw new Error(`expected ${SIZES.batch} pending tasks, found ${stored}`);
  rows.push({
    measure: `Submit, batched: \`addMany\` of ${fmt(SIZES.batchSize)} tasks per call, ${fmt(SIZES.batch)} tasks`,
    result: `${fmt(SIZES.batch / seconds)} tasks/s`,
    target: "",
  });

  // (2) claim + complete in one process, on the tasks just submitted.
  log(`claim+complete loop over ${fmt(SIZES.cycles)} tasks in one process`);
  const worker = "bench-worker-0";
  // The time of each block of 1,000 cycles too: the first block runs on a full queue, the last on a
  // nearly empty one, so the two show whether a cycle's cost depends on how many tasks wait.
  const block = Math.min(1_000, SIZES.cycles);
  const blockMs: number[] = [];
  let cycles = 0;
  t0 = performance.now();
  let blockStart = t0;
  for (;;) {
    const task = await queueA.next(worker);
    if (!task) break;
    await queueA.complete(task.id, "ok", { workerId: worker });
    cycles++;
    if (cycles % block === 0) {
      const t = performance.now();
      blockMs.push(t - blockStart);
      blockStart = t;
    }
  }
  seconds = (performance.now() - t0) / 1000;
  const left = sqlNumber(dirA, "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'completed'");
  if (cycles !== SIZES.cycles || left !== 0) {
    throw new Error(
      `one-process loop completed ${cycles} of ${SIZES.cycles}; ${left} not completed`,
    );
  }
  const rate = cycles / seconds;
  target(
    `Claim + complete, 1 process (\`next\` then \`complete\`), ${fmt(cycles)} tasks`,
    rate,
    `${fmt(rate)} cycles/s (${fmt((seconds * 1e6) / cycles, 0)} µs/cycle); first ${fmt(block)} cycles ${fmt((block * 1000) / (blockMs[0] ?? Number.NaN))}/s, last ${fmt(block)} ${fmt((block * 1000) / (blockMs[blockMs.length - 1] ?? Number.NaN))}/s`,
    ">=",
    10_000,
    "cycles/s",
  );
  await storeA.close();

  // (2b) the run loop's store work per task: the agent's start (in progress, with its agent-run row)
  // and its finish (run row closed, task completed, next task claimed): two commits per task.
  const dirC = mkdtempSync(join(tmp, "combined-"));
  const storeC = openStore(dirC);
  const queueC = new TaskQueue({ store: storeC });
  for (let i = 0; i < SIZES.cycles; i += SIZES.batchSize) {
    const inputs: SubmitInput[] = [];
    for (let j = i; j < Math.min(SIZES.cycles, i + SIZES.batchSize); j++)
      inputs.push(submitInput(j));
    await queueC.addMany(inputs);
  }
  log(
    `run-loop cycle (start with agent run, finish with next claim) over ${fmt(SIZES.cycles)} tasks`,
  );
  let combined = 0;
  t0 = performance.now();
  let current = await queueC.next(worker);
  while (current) {
    const run = benchAgentRun(current, worker, combined);
    const started = await queueC.startAgent(current, run);
    if (!started) throw new Error(`task ${current.id} was lost between claim and start`);
    const finished = await queueC.finishAgent(
      started,
      {
        agentRunId: run.id,
        workerId: worker,
        end: { endedAt: Date.now(), exitCode: 0, endReason: "completed" },
      },
      { kind: "completed", output: "ok", details: {} },
      { claimNext: true },
    );
    current = finished.next;
    combined++;
  }
  seconds = (performance.now() - t0) / 1000;
  const leftC = sqlNumber(dirC, "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'completed'");
  const runsC = sqlNumber(dirC, "SELECT COUNT(*) AS n FROM agent_runs WHERE ended_at IS NOT NULL");
  if (combined !== SIZES.cycles || leftC !== 0 || runsC !== SIZES.cycles) {
    throw new Error(
      `run-loop cycle completed ${combined} of ${SIZES.cycles}; ${leftC} not completed, ${runsC} agent runs closed`,
    );
  }
  const combinedRate = combined / seconds;
  target(
    `Run-loop cycle, 1 process: \`startAgent\` + \`finishAgent\` claiming the next (2 commits, agent-run rows included), ${fmt(combined)} tasks`,
    combinedRate,
    `${fmt(combinedRate)} cycles/s (${fmt((seconds * 1e6) / combined, 0)} µs/cycle)`,
    ">=",
    10_000,
    "cycles/s",
  );
  await storeC.close();
  rmSync(dirC, { recursive: true, force: true });

  // (1b) one task per transaction: add() in a loop.
  const dirB = mkdtempSync(join(tmp, "single-"));
  const storeB = openStore(dirB);
  const queueB = new TaskQueue({ store: storeB });
  log(`submitting ${fmt(SIZES.single)} tasks one add() at a time`);
  t0 = performance.now();
  for (let i = 0; i < SIZES.single; i++) await queueB.add(submitInput(i));
  seconds = (performance.now() - t0) / 1000;
  const singles = sqlNumber(dirB, "SELECT COUNT(*) AS n FROM tasks");
  if (singles !== SIZES.single) throw new Error(`expected ${SIZES.single} tasks, found ${singles}`);
  rows.splice(1, 0, {
    measure: `Submit, one task per transaction: \`add\` in a loop, ${fmt(SIZES.single)} tasks`,
    result: `${fmt(SIZES.single / seconds)} tasks/s`,
    target: "",
  });
  await storeB.close();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------
// 3: claim+complete across processes on one database file

interface WorkerResult {
  workerId: string;
  completed: number;
  ms: number;
}

async function benchWorkers(tmp: string): Promise<void> {
  const dir = mkdtempSync(join(tmp, "multi-"));
  const dbPath = join(dir, "tasks.db");
  const store = openStore(dir);
  const queue = new TaskQueue({ store });
  for (let i = 0; i < SIZES.multi; i += SIZES.batchSize) {
    const inputs: SubmitInput[] = [];
    for (let j = i; j < Math.min(SIZES.multi, i + SIZES.batchSize); j++)
      inputs.push(submitInput(j));
    await queue.addMany(inputs);
  }
  await store.close();
  log(`claim+complete with ${WORKERS} processes on one database, ${fmt(SIZES.multi)} tasks`);

  const children = Array.from({ length: WORKERS }, (_, w) => {
    const child = spawn(process.execPath, [WORKER, dbPath, `bench-worker-${w}`], {
      cwd: ROOT,
      env: CHILD_ENV,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => resolve(code));
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return { child, exited, lines };
  });
  const nextLine = async (w: number, lines: AsyncIterator<string>): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`worker ${w} exited without answering`);
    return line.value;
  };
  // Start everyone at once, after all have loaded and opened the database.
  await Promise.all(children.map((c, w) => nextLine(w, c.lines)));
  const t0 = performance.now();
  for (const c of children) c.child.stdin.end("go\n");
  const results = await Promise.all(
    children.map(async (c, w) => JSON.parse(await nextLine(w, c.lines)) as WorkerResult),
  );
  const seconds = (performance.now() - t0) / 1000;
  const codes = await Promise.all(children.map((c) => c.exited));
  if (codes.some((code) => code !== 0)) throw new Error(`worker exit codes: ${codes.join(", ")}`);

  const completedSum = results.reduce((sum, r) => sum + r.completed, 0);
  const completedEvents = sqlNumber(
    dir,
    "SELECT COUNT(*) AS n FROM events WHERE kind = 'task:completed'",
  );
  const distinctCompleted = sqlNumber(
    dir,
    "SELECT COUNT(DISTINCT task_id) AS n FROM events WHERE kind = 'task:completed'",
  );
  const claimEvents = sqlNumber(
    dir,
    "SELECT COUNT(*) AS n FROM events WHERE kind = 'task:claimed'",
  );
  const notCompleted = sqlNumber(
    dir,
    "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'completed'",
  );
  const reclaimed = sqlNumber(dir, "SELECT COUNT(*) AS n FROM tasks WHERE attempts <> 1");
  rmSync(dir, { recursive: true, force: true });

  const ok =
    completedSum === SIZES.multi &&
    completedEvents === SIZES.multi &&
    distinctCompleted === SIZES.multi &&
    claimEvents === SIZES.multi &&
    notCompleted === 0 &&
    reclaimed === 0;
  const rate = completedSum / seconds;
  rows.push({
    measure: `Claim + complete, ${WORKERS} processes on one database file, ${fmt(SIZES.multi)} tasks`,
    result: `${fmt(rate)} cycles/s (per worker: ${results.map((r) => fmt(r.completed)).join(" / ")})`,
    target: "",
  });
  rows.push({
    measure: `Correctness of the ${WORKERS}-process run`,
    result: `workers reported ${fmt(completedSum)}; \`task:completed\` events ${fmt(completedEvents)} (${fmt(distinctCompleted)} distinct tasks); \`task:claimed\` events ${fmt(claimEvents)}; tasks not completed ${fmt(notCompleted)}; tasks claimed more than once ${fmt(reclaimed)}`,
    target: "each task claimed and completed exactly once",
    met: ok,
  });
  if (!ok) log("WARNING: the multi-process run did not complete every task exactly once");
}

// ---------------------------------------------------------------------------------------------------
// 3b: the run loop's commits per task, counted on a real run

async function benchRunCommits(tmp: string): Promise<void> {
  const count = QUICK ? 50 : 200;
  for (const maxAgents of [1, 4]) {
    log(`counting the commits of a run of ${count} instant tasks at --max-agents ${maxAgents}`);
    const measured = await measureRunCommits(tmp, count, maxAgents);
    // Each slot's first task also pays for its own claim; every later claim rides on a finish.
    const perTask = (measured.commits - maxAgents) / measured.tasks;
    const parts = Object.entries(measured.byMethod)
      .sort(([, a], [, b]) => b - a)
      .map(([method, n]) => `\`${method}\` ${fmt(n)}`)
      .join(", ");
    target(
      `Run-loop commits per task beyond each slot's first claim, ${fmt(count)} tasks with an agent that exits at once, --max-agents ${maxAgents}`,
      perTask,
      `${fmt(perTask, 2)} (${fmt(measured.commits)} commits in all; write calls: ${parts})`,
      "<=",
      2,
      "commits per task",
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// 4 and 5: CLI wall time on large databases

async function benchCli(tmp: string): Promise<void> {
  const cwd = tmp; // no .env there
  log(
    `timing \`node -e 0\` and \`orchestrate --version\` (${SPAWN_RUNS} runs each after a warm-up)`,
  );
  const baseline = timeNode(() => ["-e", "0"], SPAWN_RUNS, cwd);
  const version = timeNode(() => [BIN, "--version"], SPAWN_RUNS, cwd, /^\d+\.\d+\.\d+/);
  rows.push({
    measure: "Baseline: `node -e 0` (Node's own start-up)",
    result: fmtMs(baseline),
    target: "",
  });
  rows.push({ measure: "`orchestrate --version`", result: fmtMs(version), target: "" });
  spawned.set("node -e 0", baseline.median);
  spawned.set("orchestrate --version", version.median);

  for (const n of SIZES.status) {
    const dir = mkdtempSync(join(tmp, `status-${n}-`));
    log(`building a queue of ${fmt(n)} tasks`);
    const built = buildQueue(dir, n, (done) =>
      log(`  building the ${fmt(n)}-task queue: ${fmt(done)} rows`),
    );
    log(
      `  built in ${fmt(built.seconds, 1)} s, ${fmt(built.bytes / 2 ** 20, 1)} MiB; timing status (${STATUS_RUNS} runs after a warm-up)`,
    );
    const status = timeNode(
      () => [BIN, "status", "--base-dir", dir],
      STATUS_RUNS,
      cwd,
      new RegExp(`· ${n} tasks\\n`),
    );
    const measure = `\`orchestrate status\`, ${fmt(n)} tasks`;
    spawned.set(`orchestrate status at ${fmt(n)} tasks`, status.median);
    if (n === 1_000_000 || (QUICK && n === LARGEST)) {
      target(measure, status.median, fmtMs(status), "<=", 150, "ms");
    } else {
      rows.push({ measure, result: fmtMs(status), target: "" });
    }
    notes.push(
      `The ${fmt(n)}-task queue: ${STATUS_NAMES.map((s) => `${s.replace("_", " ")} ${fmt(built.counts[s] ?? 0)}`).join(", ")} (${fmt(built.blocked)} of the pending blocked by a dependency, ${fmt(built.edges)} dependency edges); ${fmt(built.bytes / 2 ** 20, 1)} MiB on disk, built in ${fmt(built.seconds, 1)} s.`,
    );

    if (n === SIZES.status[0] || n === LARGEST) {
      log(`timing submit on the ${fmt(n)}-task queue (${SPAWN_RUNS} runs after a warm-up)`);
      const submit = timeNode(
        (run) => [BIN, "submit", `Benchmark submit ${run + 1}`, "--quiet", "--base-dir", dir],
        SPAWN_RUNS,
        cwd,
        /^[0-9a-f]{16}\n$/,
      );
      spawned.set(`orchestrate submit at ${fmt(n)} tasks`, submit.median);
      target(
        `\`orchestrate submit\` of one task, ${fmt(n)} tasks in the queue`,
        submit.median,
        fmtMs(submit),
        "<=",
        100,
        "ms",
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// The report

function machine(tmp: string): [string, string][] {
  let cpu = "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) cpu = line.slice(line.indexOf(":") + 1).trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? "unknown";
  }
  const probe = new DatabaseSync(":memory:");
  const sqlite = (probe.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  probe.close();
  // The temp directory's file system matters: commits are cheaper on tmpfs than on a disk.
  const fsTypes = new Map<number, string>([
    [0xef53, "ext4"],
    [0x58465342, "xfs"],
    [0x9123683e, "btrfs"],
    [0x01021994, "tmpfs"],
    [0x794c7630, "overlayfs"],
  ]);
  const fsType = statfsSync(tmp).type;
  // Which code was measured: the commit, and whether src/ or bin/ differed from it.
  const git = (args: string[]) =>
    spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src", "bin"]) !== "";
  // BENCH_CODE_LABEL names the code when it is not a git checkout (e.g. a tree from `git archive`).
  const label =
    process.env["BENCH_CODE_LABEL"] ??
    (commit === ""
      ? "unknown (not a git checkout)"
      : `commit ${commit}${dirty ? ", with uncommitted changes in src/ or bin/" : ""}`);
  return [
    ["Code measured", label],
    ["CPU", cpu],
    ["Cores", String(os.availableParallelism())],
    ["Memory", `${fmt(os.totalmem() / 2 ** 30, 1)} GiB`],
    ["OS", `${os.type()} ${os.release()} (${os.arch()})`],
    ["Node.js", process.version],
    ["SQLite", sqlite],
    [
      "Temp directory",
      `${os.tmpdir()} (${fsTypes.get(fsType) ?? `file system type 0x${fsType.toString(16)}`})`,
    ],
  ];
}

/** A Markdown table with padded columns, the layout `biome format` gives Markdown tables. */
function mdTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) =>
    Math.max(3, h.length, ...body.map((r) => (r[c] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, c) => (cells[c] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function resultTable(): string {
  return mdTable(
    ["Measure", "Result", "Target", "Verdict"],
    rows.map((r) => [
      r.measure,
      r.result,
      r.target,
      r.met === undefined ? "" : r.met ? "met" : "**not met**",
    ]),
  );
}

function machineTable(info: [string, string][]): string {
  return mdTable(["Machine", ""], info);
}

/** How much each spawned command costs above Node's own start-up, from the medians measured. */
function startupCosts(): string {
  const floor = spawned.get("node -e 0") ?? Number.NaN;
  const costs = [...spawned]
    .filter(([name]) => name !== "node -e 0")
    .map(([name, ms]) => `\`${name}\` ${fmt(ms - floor, 1)} ms`);
  return `Above Node's own start-up (median ${fmt(floor, 1)} ms here), the commands cost: ${costs.join(", ")}.`;
}

function report(info: [string, string][], date: string, minutes: number): string {
  return `# Benchmarks

Measured on ${date} by \`bench/run.ts\` (the whole run took ${fmt(minutes, 1)} minutes).
How to run: \`npm run bench\` (builds \`dist/\`, runs \`node bench/run.ts\` and rewrites this file).

${machineTable(info)}

## Results

${resultTable()}

## What the numbers mean

- **Submit, batched**: \`TaskQueue.addMany\` with ${fmt(SIZES.batchSize)} tasks per call, so one transaction
  (and one commit) per ${fmt(SIZES.batchSize)} tasks; includes validation and reading every inserted task back.
- **Submit, one task per transaction**: \`TaskQueue.add\` in a loop, one \`BEGIN IMMEDIATE\` ... \`COMMIT\`
  each: what many separate submitters cost the database (without any process start-up).
- **Claim + complete, 1 process**: one cycle is \`queue.next(worker)\` (a claim transaction, plus the
  lease reaper's query once a second) followed by \`queue.complete(id, "ok")\` (a second transaction),
  on a queue pre-filled with ${fmt(SIZES.cycles)} tasks, until it is empty. This is the queue's own
  overhead per task; real tasks spend far longer in their agent. The first and the last 1,000 cycles
  are also timed on their own: the first run on a full queue, the last on a nearly empty one, so they
  show whether a cycle's cost grows with the number of waiting tasks.
- **Run-loop cycle, 1 process**: the store work \`orchestrate run\` does per task, without the agent
  process: \`queue.startAgent\` (the task in progress with its agent-run row, one transaction) and
  \`queue.finishAgent\` (the run row closed, the task completed and the next task claimed, one
  transaction), on the same pre-filled queue.
- **Run-loop commits per task**: a real run (the app layer's \`startRun\`, in this process) of tasks whose
  agent is \`true\`, with every call of a Store method that writes counted; each is one transaction
  by the Store contract. Lease renewals and activity saves are one transaction per tick for all agents.
- **Claim + complete, ${WORKERS} processes**: ${WORKERS} worker processes (\`bench/worker.ts\`) run the same
  loop against one database file, started together once all have opened it (Node's start-up is not
  timed); cycles/s is all completed tasks over the time until the last worker finished. SQLite lets one
  writer at a time in, so this measures the cost of contention (lock hand-over and busy waits) on
  this ${os.availableParallelism()}-core machine, not a speed-up. The correctness row checks the event
  log and the tasks afterwards: every task completed, each completed and claimed exactly once.
- **Orchestration overhead**: the real \`orchestrate run\` on tasks whose agent is \`true\` (a custom CLI
  in agents.json), queued straight into the database. The agents' own lives (from \`agent_runs\`: from
  just before the spawn to the exit) divided by the number of slots are what the run would take if
  orchestration cost nothing; the overhead per task is the wall time beyond that, over the tasks.
  Everything the run does per task is in it: claim, prompt building, output files, parsing, completion,
  agent-run rows, context files, and the time a slot stays empty between two agents.
- **Sleeping agents**: the real \`orchestrate run\` with that many agents running \`sleep 600\`; resident
  memory (VmRSS) and CPU time of the run process itself (not its children) over the window, read from
  /proc. The run renews every lease and records activity while they sleep.
- **\`orchestrate kill\`**: wall time of the command against a fake Claude Code that ignores SIGTERM and
  has a descendant in its own session; it returns once every process of the tree is gone.
- **Worktree per task**: \`GitWorktreeWorkspaces\` (the worktree isolation \`orchestrate run\` uses) on a
  temporary git repository of ${fmt(WORKTREE_FILES)} small files in 10 × 10 nested directories (one commit, packed):
  per task, \`acquire\` with no set-up command (the worktree on its own branch), one file changed,
  \`release\` of a success (everything committed, merged \`--no-ff\` into the integration branch in its
  worktree), and later \`remove\` with \`deleteBranch: "merged"\` (worktree and branch deleted). The
  baselines are the raw git commands for the same steps, timed in the same run on the same repository,
  interleaved task by task with orchestrate's: \`git worktree add -b\`; \`git add -A\` + \`git commit\` +
  \`git merge --no-ff\` in an integration worktree of their own; \`git worktree remove --force\` +
  \`git branch -D\`. Each side has one untimed warm-up task first (orchestrate's makes the group's integration
  worktree, a full checkout: its release is shown on its own); medians of ${worktreeTasks(QUICK)} tasks. The
  clean-up comes after all tasks were released, as \`orchestrate cleanup\` removes worktrees in a batch (on
  ext4 without a journal, creating files within about half a minute of many deletions is much slower,
  which would swamp the creation figures). Disk is \`du -sk\` (so each small file takes a whole block): a
  worktree's files plus its git dir under \`.git/worktrees\` (mostly its index), against the repository's
  own checkout; the growth of \`.git\` (worktrees' git dirs aside) is over orchestrate's steps, after clean-up.
  There is no target for these rows; the ratios are to the raw git baselines.
- **\`node -e 0\`** is the floor for any command: Node's own start-up on this machine.
  **\`orchestrate --version\`** adds loading the CLI without opening the database.
- **\`orchestrate status\`**: the wall time of spawning \`node bin/orchestrate.js status --base-dir <dir>\`
  (median of ${STATUS_RUNS} runs after one warm-up run, so the database is in the OS page cache) on
  queues generated directly with SQL; see the queue shapes below. It includes Node's start-up.
- **\`orchestrate submit\`**: the wall time of spawning \`orchestrate submit "<description>" --quiet\`
  (median of ${SPAWN_RUNS} runs after one warm-up) against an existing queue of the given size; each run
  adds one task in its own transaction.
- ${startupCosts()}
- Times are wall-clock times measured by this script. Other work on the machine slows every figure
  (above all the process start-ups); the load averages before and after the run are in the machine table.

## The generated queues

The queues for \`status\` are built in one transaction: the oldest 95% of tasks finished (97% completed,
2.5% failed, 0.5% cancelled), the newest 5% pending except the oldest ${IN_PROGRESS + ASSIGNED} of them,
which are in flight (${IN_PROGRESS} in progress with a running agent each, ${ASSIGNED} assigned); 5% of tasks
depend on one of the 1,000 tasks before them, started or finished tasks only on completed ones, so pending
tasks waiting on unfinished work are blocked (\`unmet_deps\` is checked to be consistent). No events are
generated, as \`status\` does not read them.

${notes.map((n) => `- ${n}`).join("\n")}
`;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(os.tmpdir(), "orchestrate-bench-"));
  try {
    const info = machine(tmp);
    const loadBefore = os.loadavg();
    await benchSubmitAndCycles(tmp);
    await benchWorkers(tmp);
    await benchRunCommits(tmp);
    await benchCli(tmp);
    for (const row of await benchAgents({ root: ROOT, tmp, env: CHILD_ENV, quick: QUICK, log })) {
      if (row.target)
        target(row.measure, row.value, row.result, row.target.op, row.target.goal, row.target.unit);
      else rows.push({ measure: row.measure, result: row.result, target: "" });
    }
    // Last: its clean-up deletes many files, which can slow file creation for a while after.
    for (const row of await benchWorktrees({ tmp, quick: QUICK, log })) {
      rows.push({ measure: row.measure, result: row.result, target: "" });
    }
    const minutes = (performance.now() - started) / 60_000;
    const loads = (l: number[]) => l.map((x) => fmt(x, 2)).join(" / ");
    info.push([
      "Load average (1 / 5 / 15 min)",
      `${loads(loadBefore)} at the start, ${loads(os.loadavg())} at the end`,
    ]);
    const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    process.stdout.write(`\n${machineTable(info)}\n\n${resultTable()}\n`);
    if (REPORT === "") {
      log("quick run: no report written (give --out <file> for one)");
    } else {
      writeFileSync(REPORT, report(info, date, minutes));
      log(`wrote ${REPORT}`);
    }
    const missed = rows.filter((r) => r.met === false);
    if (missed.length > 0) log(`targets not met: ${missed.map((r) => r.measure).join("; ")}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
