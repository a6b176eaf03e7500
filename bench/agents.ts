// The agent runtime's figures: orchestration overhead per task, the cost of many sleeping agents to the
// run process, and the time `orchestrate kill` takes to end a process tree. Every agent here is a real
// child process started by the real `orchestrate run`, declared as a custom CLI in agents.json.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";

/** One measured figure, with its target when it has one. */
export interface AgentBenchRow {
  measure: string;
  result: string;
  value: number;
  target?: { op: "<="; goal: number; unit: string };
}

interface Options {
  root: string;
  tmp: string;
  env: NodeJS.ProcessEnv;
  quick: boolean;
  log: (message: string) => void;
}

const TICKS_PER_SECOND = 100; // /proc/<pid>/stat utime and stime are in clock ticks (USER_HZ)

/** Runs every agent measurement and returns its rows. */
export async function benchAgents(options: Options): Promise<AgentBenchRow[]> {
  const rows: AgentBenchRow[] = [];
  const tasks = options.quick ? 100 : 1_000;
  for (const maxAgents of [1, 16]) rows.push(overhead(options, tasks, maxAgents));
  rows.push(...(await sleepingAgents(options, options.quick ? 20 : 100)));
  rows.push(await killTime(options));
  return rows;
}

/** A project dir whose agents.json declares the custom CLIs the measurements use. */
function makeProject(
  options: Options,
  name: string,
): { dir: string; base: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(options.tmp, `${name}-`));
  const base = join(dir, ".orchestrator");
  mkdirSync(base);
  writeFileSync(
    join(base, "agents.json"),
    JSON.stringify({
      backends: {
        instant: { binary: "true", args: [], outputFormat: "text" },
        sleeper: { binary: "sleep", args: ["600"], outputFormat: "text" },
      },
    }),
  );
  return { dir, base, env: { ...options.env, ORCHESTRATOR_BASE_DIR: base } };
}

function cli(
  options: Options,
  project: { dir: string; env: NodeJS.ProcessEnv },
  args: string[],
): string {
  const result = spawnSync(
    process.execPath,
    [join(options.root, "bin", "orchestrate.js"), ...args],
    {
      cwd: project.dir,
      env: project.env,
      encoding: "utf8",
    },
  );
  if (result.status !== 0)
    throw new Error(`orchestrate ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** Queues `count` tasks for `backend` straight into the database (submitting is measured elsewhere). */
function queueTasks(project: { base: string }, count: number, backend: string): void {
  const path = join(project.base, "tasks.db");
  const store = openSqliteStore({ path, busyTimeoutMs: 5_000 }); // creates the schema
  void store.close();
  const db = new DatabaseSync(path);
  db.exec("BEGIN");
  const insert =
    db.prepare(`INSERT INTO tasks (id, description, status, priority, created_at, updated_at, backend, max_attempts)
    VALUES (?, ?, 'pending', 2, ?, ?, ?, 1)`);
  const now = Date.now();
  for (let i = 0; i < count; i++)
    insert.run(`b${String(i).padStart(15, "0")}`, `bench task ${i}`, now + i, now, backend);
  db.exec("COMMIT");
  db.close();
}

/** (1) orchestration overhead: `count` tasks whose agent exits at once, run at `maxAgents`. */
function overhead(options: Options, count: number, maxAgents: number): AgentBenchRow {
  const project = makeProject(options, `overhead-${maxAgents}`);
  queueTasks(project, count, "instant");
  options.log(`running ${count} instant agents at --max-agents ${maxAgents}`);
  const t0 = performance.now();
  const out = cli(options, project, ["run", "--max-agents", String(maxAgents)]);
  const wallMs = performance.now() - t0;
  if (!out.includes(`${count} completed`))
    throw new Error(`overhead run did not complete every task:\n${out}`);
  const db = new DatabaseSync(join(project.base, "tasks.db"));
  const { lifetime } = db
    .prepare(
      "SELECT SUM(ended_at - started_at) AS lifetime FROM agent_runs WHERE end_reason = 'completed'",
    )
    .get() as { lifetime: number };
  db.close();
  rmSync(project.dir, { recursive: true, force: true });
  // If orchestration cost nothing, the agents' lives would fill the slots back to back: the wall time
  // would be the sum of their lives divided by the slots. What the run adds per task is the rest.
  const ideal = lifetime / maxAgents;
  const perTask = (wallMs - ideal) / count;
  return {
    measure: `Orchestration overhead per task, ${count} tasks with an agent that exits at once (\`true\`), --max-agents ${maxAgents}`,
    result: `${perTask.toFixed(1)} ms per task beyond the agents' own lives (wall ${(wallMs / 1000).toFixed(1)} s; agents alive ${(lifetime / count).toFixed(1)} ms each on average, ${(ideal / 1000).toFixed(1)} s if the slots were always full)`,
    value: perTask,
    target: { op: "<=", goal: 10, unit: "ms per task" },
  };
}

function procStat(pid: number): { cpuTicks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime, stime
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuTicks, rssKb: Number(rss?.[1] ?? 0) };
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function countRunning(base: string): number {
  const db = new DatabaseSync(join(base, "tasks.db"));
  const { n } = db.prepare("SELECT COUNT(*) AS n FROM agent_runs WHERE ended_at IS NULL").get() as {
    n: number;
  };
  db.close();
  return n;
}

/** (2) `agents` sleeping agents: resident memory and CPU of the run process while they sleep. */
async function sleepingAgents(options: Options, agents: number): Promise<AgentBenchRow[]> {
  const project = makeProject(options, "sleepers");
  queueTasks(project, agents, "sleeper");
  options.log(`starting ${agents} sleeping agents`);
  const run: ChildProcess = spawn(
    process.execPath,
    [join(options.root, "bin", "orchestrate.js"), "run", "--max-agents", String(agents)],
    { cwd: project.dir, env: project.env, stdio: "ignore" },
  );
  try {
    await waitFor(`${agents} running agents`, () => countRunning(project.base) === agents, 120_000);
    await new Promise((r) => setTimeout(r, 2_000)); // let start-up work settle
    const pid = run.pid ?? 0;
    const before = procStat(pid);
    const windowMs = options.quick ? 3_000 : 10_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const after = procStat(pid);
    const cpuPercent =
      (((after.cpuTicks - before.cpuTicks) / TICKS_PER_SECOND) * 1000 * 100) / windowMs;
    const rssMb = Math.max(before.rssKb, after.rssKb) / 1024;
    return [
      {
        measure: `Resident memory of \`orchestrate run\` with ${agents} agents running (each \`sleep\`)`,
        result: `${rssMb.toFixed(1)} MB`,
        value: rssMb,
        target: { op: "<=", goal: 100, unit: "MB" },
      },
      {
        measure: `CPU of \`orchestrate run\` while ${agents} agents sleep (${windowMs / 1000} s window)`,
        result: `${cpuPercent.toFixed(2)} % of one core`,
        value: cpuPercent,
        target: { op: "<=", goal: 5, unit: "%" },
      },
    ];
  } finally {
    // The watchdog ends the sleeping agents once the run is gone.
    run.kill("SIGKILL");
    await waitFor(
      "the sleeping agents to end",
      () => spawnSync("pgrep", ["-f", "sleep 600"]).status !== 0,
      30_000,
    ).catch((e: Error) => options.log(e.message));
    rmSync(project.dir, { recursive: true, force: true });
  }
}

/** (3) `orchestrate kill` on an agent with a child in a new session: wall time until the tree is gone. */
async function killTime(options: Options): Promise<AgentBenchRow> {
  const project = makeProject(options, "kill");
  const fakes = join(options.root, "test", "fixtures", "fake-agents");
  project.env = { ...project.env, PATH: `${fakes}:${project.env["PATH"] ?? ""}` };
  const pidFile = join(project.dir, "grandchild.pid");
  project.env["FAKE_AGENT_PIDFILE"] = pidFile;
  const id = cli(options, project, [
    "submit",
    "Stuck\nFAKE_MODE: grandchild",
    "--backend",
    "claude",
    "-q",
  ]).trim();
  const run = spawn(process.execPath, [join(options.root, "bin", "orchestrate.js"), "run"], {
    cwd: project.dir,
    env: project.env,
    stdio: "ignore",
  });
  try {
    await waitFor(
      "the agent's grandchild",
      () => {
        try {
          return readFileSync(pidFile, "utf8").trim() !== "";
        } catch {
          return false;
        }
      },
      30_000,
    );
    const t0 = performance.now();
    cli(options, project, ["kill", id]);
    const ms = performance.now() - t0;
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    const gone = spawnSync("kill", ["-0", String(grandchild)]).status !== 0;
    if (!gone) throw new Error("the grandchild survived orchestrate kill");
    return {
      measure:
        "`orchestrate kill` of an agent that ignores SIGTERM and has a child in a new session: until the whole tree is gone",
      result: `${ms.toFixed(0)} ms (including the CLI's start-up and the 3 s grace before SIGKILL)`,
      value: ms,
    };
  } finally {
    run.kill("SIGKILL");
    rmSync(project.dir, { recursive: true, force: true });
  }
}
