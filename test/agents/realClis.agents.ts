// The real agent CLIs (Claude Code, Codex CLI, Gemini CLI), at the versions pinned in clis.ts and installed
// into .cache/agent-clis/ by installClis.ts, run through `orchestrate run` against loopback model
// servers speaking their provider's wire format (modelServers.ts). No internet, no real home directory:
// each test has its own temp dir holding the project dir, HOME (with the CLI's config home) and TMPDIR,
// and its own server. Run with `npm run test:agents` (not part of `npm test`: it needs the ~600 MB of
// CLIs).
//
// The project dir is the temp dir itself (not in a git repository: the agent works in it), or, for the
// worktree tests, a git repository of its own beside HOME and TMPDIR, so that the CLI's own files in HOME
// never show in the checkout's `git status`: there each task runs in its own git worktree on its own
// branch, the way a user gets it by default in a repository.
//
// Each CLI is configured the way a user would configure it, through its own settings, since agents
// inherit the user's environment: Claude Code by ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY, Codex by a
// custom model provider in $CODEX_HOME/config.toml, Gemini CLI by GOOGLE_GEMINI_BASE_URL / GEMINI_API_KEY
// and $GEMINI_CLI_HOME/.gemini/settings.json. Their own retries are cut to one, so a failing model call
// fails in seconds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { isolatedEnv, runOrchestrate } from "../helpers/orchestrateCli.ts";
import { binDirOf, installedVersion, PINNED, type PinnedCli } from "./clis.ts";
import {
  type ModelServer,
  type Scenario,
  startAnthropicServer,
  startGeminiServer,
  startResponsesServer,
} from "./modelServers.ts";

/** Longest a whole `orchestrate run` may take here before the test ends it and fails. */
const RUN_LIMIT_MS = 180_000;
const FILE = "hello.txt";
const CONTENT = "Hello from a real agent CLI.\nWritten by its own file tool.\n";
const FINAL_TEXT = "Created hello.txt with the two requested lines.";
const FAILURE = "loopback: the model is unavailable (scripted failure)";
const FAILURE_STATUS = 503;
/** The start of the system prompt of the specialist these tasks are routed to. */
const SPECIALIST_PROMPT = "You are a senior backend engineer.";
/** The model Codex is told to use: one it knows, so it offers its freeform `apply_patch` tool. */
const CODEX_MODEL = "gpt-5.5";

/** Variables from the caller's environment that would point a CLI or git at a real account or config. */
const CLI_SETTINGS = /^(CLAUDE_|CODEX_|GEMINI_|GOOGLE_|VERTEX|CLOUDSDK_|GIT_)/;
/** The identity of the worktree tests' repositories, set in the repository's own config. */
const GIT_USER = { name: "Agent Test", email: "agent-test@example.invalid" };
/** The branch that ad-hoc tasks' finished work is merged into. */
const INTEGRATION_BRANCH = "orchestrate/tasks/integration";

const dirs: string[] = [];
const servers: ModelServer[] = [];

after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Box {
  /** The temp dir holding everything below. */
  dir: string;
  /** The project dir: where `orchestrate` runs (the temp dir, or the git repository in it). */
  project: string;
  /** The orchestrator's base dir (queue, outputs, worktrees). */
  base: string;
  env: Record<string, string>;
  server: ModelServer;
  /** The commit the repository had when the box was made (worktree boxes only). */
  initialCommit: string | null;
}

const starters: Record<PinnedCli["name"], (scenario: Scenario) => Promise<ModelServer>> = {
  claude: startAnthropicServer,
  codex: startResponsesServer,
  gemini: startGeminiServer,
};

/**
 * A temp project dir with its own queue, HOME, TMPDIR and model server; the cached CLI first on PATH;
 * the CLI's own settings pointing at the server. With `git`, the project dir is `<temp>/project`, a
 * git repository with one commit and a repo-local identity, and the base dir is its default
 * `<project>/.orchestrator` (inside the work tree, as for a user).
 */
async function makeBox(
  cli: PinnedCli,
  kind: Scenario["kind"] | "reply",
  options: { reply?: string; git?: boolean } = {},
): Promise<Box> {
  // Real path: the CLIs report their working directory resolved (macOS's /var is /private/var).
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `orchestrate-agents-${cli.name}-`)));
  dirs.push(dir);
  const project = options.git ? join(dir, "project") : dir;
  const home = join(dir, "home");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);
  let server: ModelServer;
  if (kind === "reply") {
    assert.equal(cli.name, "claude", "only the Anthropic server plays a plain reply");
    server = await startAnthropicServer({ kind, text: options.reply ?? "" });
  } else {
    const scenario: Scenario =
      kind === "write-file"
        ? { kind, file: FILE, content: CONTENT, finalText: FINAL_TEXT }
        : { kind, status: FAILURE_STATUS, message: FAILURE };
    server = await starters[cli.name](scenario);
  }
  servers.push(server);
  const settings = await cliSettings(cli, home, server);
  const env = isolatedEnv(dir, {
    PATH: `${binDirOf(cli)}${delimiter}${process.env["PATH"] ?? ""}`,
    TMPDIR: tmp,
    // In a repository, the default base dir: `.orchestrator` in the project dir.
    ...(options.git ? { ORCHESTRATOR_BASE_DIR: undefined } : {}),
  });
  for (const key of Object.keys(env)) if (CLI_SETTINGS.test(key)) delete env[key];
  Object.assign(env, settings);
  const box: Box = {
    dir,
    project,
    base: join(project, ".orchestrator"),
    env,
    server,
    initialCommit: null,
  };
  if (options.git) {
    mkdirSync(project);
    gitIn(box, ["init", "-q", "-b", "main"]);
    gitIn(box, ["config", "user.name", GIT_USER.name]);
    gitIn(box, ["config", "user.email", GIT_USER.email]);
    writeFileSync(join(project, "README.md"), "# A project an agent works on\n");
    gitIn(box, ["add", "README.md"]);
    gitIn(box, ["commit", "-q", "-m", "Initial commit"]);
    box.initialCommit = gitIn(box, ["rev-parse", "HEAD"]).trim();
  }
  return box;
}

/**
 * Runs `git args` in the box's project dir (or `cwd`) and returns its stdout; throws when it fails. The
 * box's HOME holds no git config and the system's is not read, so only the repository's own counts.
 */
function gitIn(box: Box, args: string[], cwd = box.project): string {
  return execFileSync("git", args, {
    cwd,
    env: { ...box.env, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The environment (and config files under `home`) that point `cli` at `server`. */
async function cliSettings(
  cli: PinnedCli,
  home: string,
  server: ModelServer,
): Promise<Record<string, string>> {
  switch (cli.name) {
    case "claude":
      return {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "sk-ant-loopback-test",
        CLAUDE_CODE_MAX_RETRIES: "1",
        DISABLE_AUTOUPDATER: "1",
      };
    case "codex": {
      const codexHome = join(home, ".codex");
      mkdirSync(codexHome, { recursive: true });
      await writeFile(
        join(codexHome, "config.toml"),
        [
          `model = "${CODEX_MODEL}"`,
          `model_provider = "loopback"`,
          "",
          "[model_providers.loopback]",
          `name = "loopback"`,
          `base_url = "${server.url}/v1"`,
          `env_key = "LOOPBACK_API_KEY"`,
          `wire_api = "responses"`,
          "request_max_retries = 0",
          "stream_max_retries = 1",
          "",
          "[analytics]",
          "enabled = false",
          "",
          "[features]",
          "plugins = false",
          "unbounded_connection_retries = false",
          "",
        ].join("\n"),
      );
      return { CODEX_HOME: codexHome, LOOPBACK_API_KEY: "sk-loopback-test" };
    }
    case "gemini": {
      mkdirSync(join(home, ".gemini"), { recursive: true });
      await writeFile(
        join(home, ".gemini", "settings.json"),
        JSON.stringify({
          security: { auth: { selectedType: "gemini-api-key" } },
          general: { maxAttempts: 2, enableAutoUpdate: false, enableAutoUpdateNotification: false },
          privacy: { usageStatisticsEnabled: false },
        }),
      );
      return {
        GEMINI_CLI_HOME: home,
        GEMINI_API_KEY: "loopback-test-key",
        GOOGLE_GEMINI_BASE_URL: server.url,
      };
    }
  }
}

/** Runs `orchestrate args` in the box's project dir to the end, or ends it after `limitMs`. */
function orchestrate(box: Box, args: string[], limitMs = 30_000) {
  return runOrchestrate(box.project, box.env, args, { limitMs });
}

interface TaskJson {
  id: string;
  status: string;
  backend: string | null;
  attempts: number;
  output: string | null;
  error: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  sessionId: string | null;
  agentRuns: { exitCode: number | null; endReason: string | null; outputPath: string | null }[];
}

/** Submits one task for `cli`, runs the queue, and returns the task as `orchestrate task --json` shows it. */
async function submitAndRun(
  box: Box,
  cli: PinnedCli,
  description: string,
): Promise<{ task: TaskJson; run: { code: number | null; stdout: string; stderr: string } }> {
  const submitted = await orchestrate(box, [
    "submit",
    "-q",
    description,
    "--backend",
    cli.name,
    "--max-attempts",
    "1",
    "--timeout",
    "2m",
  ]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  const run = await orchestrate(box, ["run", "--max-agents", "1"], RUN_LIMIT_MS);
  const shown = await orchestrate(box, ["task", id, "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  return { task: JSON.parse(shown.stdout) as TaskJson, run };
}

/** Processes still alive whose environment has this box's HOME: anything the agent left behind. */
function leftovers(box: Box): number[] {
  if (!existsSync("/proc")) return [];
  const marker = `HOME=${join(box.dir, "home")}\0`;
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`${readFileSync(`/proc/${entry}/environ`, "latin1")}\0`.includes(marker)) {
        found.push(Number(entry));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** A compact view of a run for assertion messages. */
function describeRun(run: { code: number | null; stdout: string; stderr: string }): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** What each CLI's raw stream shows when its own file tool ran. */
const TOOL_IN_RAW: Record<PinnedCli["name"], RegExp> = {
  claude: /"type":"tool_use"[^\n]*"name":"Write"/,
  codex: /"type":"file_change"/,
  gemini: /"type":"tool_use"[^\n]*"tool_name":"write_file"/,
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The checks every successful write-file task passes, wherever the agent worked: the run and the task
 * completed at the first attempt; the CLI's final answer, tokens, session id and exit code recorded
 * from its real stream; its own file tool ran, once, and succeeded; the model got the task and the
 * specialist's prompt.
 */
function assertCompletedByOwnTool(
  box: Box,
  cli: PinnedCli,
  description: string,
  task: TaskJson,
  run: { code: number | null; stdout: string; stderr: string },
): void {
  assert.equal(run.code, 0, describeRun(run));
  assert.match(run.stdout, /1 completed, 0 failed/);
  assert.equal(task.status, "completed", `${task.error ?? ""}\n${describeRun(run)}`);
  assert.equal(task.backend, cli.name);
  assert.equal(task.attempts, 1);

  // The output is the CLI's final answer, parsed from its real stream and recorded.
  const finalText = new RegExp(escapeRegExp(FINAL_TEXT));
  assert.match(task.output ?? "", finalText);
  assert.equal(task.error, null);
  assert.equal(task.inputTokens, 240, "two model calls of 120 input tokens each");
  assert.equal(task.outputTokens, 60, "two model calls of 30 output tokens each");
  assert.ok(task.sessionId, "the CLI's session id is recorded");
  const [agentRun] = task.agentRuns;
  assert.equal(agentRun?.exitCode, 0);
  assert.equal(agentRun?.endReason, "completed");
  const outputFile = join(box.base, agentRun?.outputPath ?? "missing");
  assert.match(readFileSync(outputFile, "utf8"), finalText);
  const raw = readFileSync(outputFile.replace(/_output\.md$/, "_output.raw.jsonl"), "utf8");
  assert.match(raw, TOOL_IN_RAW[cli.name]);

  // The model server got the task, then the result of the CLI's own tool call.
  assert.ok(
    box.server.requests.some((r) => JSON.stringify(r.body).includes(description)),
    "the task's description reached the model",
  );
  assert.ok(
    box.server.requests.some((r) => JSON.stringify(r.body).includes(SPECIALIST_PROMPT)),
    "the specialist's system prompt reached the model",
  );
  assert.equal(box.server.toolResults.length, 1, "one tool result came back");
  assert.match(box.server.toolResults[0] ?? "", /success|created/i);
  assert.doesNotMatch(box.server.toolResults[0] ?? "", /^error:/);
}

describe("the real agent CLIs through orchestrate run, against loopback model servers", () => {
  for (const cli of PINNED) {
    describe(`${cli.name} ${cli.version}`, () => {
      it("is installed in the cache at the pinned version", () => {
        assert.equal(
          installedVersion(cli),
          cli.version,
          "run `node test/agents/installClis.ts` (npm run test:agents does) to install it",
        );
      });

      it("completes a task by writing a file with its own tool", async () => {
        const box = await makeBox(cli, "write-file");
        try {
          const description = `Create ${FILE} in the project directory with a two-line greeting`;
          const { task, run } = await submitAndRun(box, cli, description);
          assertCompletedByOwnTool(box, cli, description, task, run);
          assert.match(run.stdout, /, agents work in the project directory$/m);
          // Not in a git repository: the agent worked in the project dir itself.
          assert.deepEqual(box.server.workingDirs, [box.project], "the CLI ran in the project dir");
          assert.equal(readFileSync(join(box.project, FILE), "utf8"), CONTENT);
          assert.deepEqual(leftovers(box), [], "no process of the agent is left");
        } finally {
          await box.server.close();
        }
      });

      it("completes a task in its own git worktree, merged into the integration branch, the checkout untouched", async () => {
        const box = await makeBox(cli, "write-file", { git: true });
        try {
          const description = `Create ${FILE} in the project directory with a two-line greeting`;
          const { task, run } = await submitAndRun(box, cli, description);
          assertCompletedByOwnTool(box, cli, description, task, run);
          assert.match(run.stdout, /, a git worktree per task$/m, describeRun(run));

          // The agent worked in the task's own worktree under the base dir, not in the checkout.
          const id8 = task.id.slice(0, 8);
          const branch = `orchestrate/tasks/${id8}`;
          const worktree = join(box.base, "worktrees", "tasks", id8);
          assert.deepEqual(
            box.server.workingDirs,
            [worktree],
            "the CLI ran in the task's worktree",
          );
          const fromWorktrees = relative(join(box.base, "worktrees"), worktree);
          assert.ok(!fromWorktrees.startsWith("..") && fromWorktrees !== "", fromWorktrees);
          assert.notEqual(worktree, box.project);
          assert.match(
            gitIn(box, ["worktree", "list", "--porcelain"]),
            new RegExp(
              `^worktree ${escapeRegExp(worktree)}\nHEAD [0-9a-f]+\nbranch refs/heads/${escapeRegExp(branch)}$`,
              "m",
            ),
            "the worktree is registered on the task's branch",
          );
          assert.equal(readFileSync(join(worktree, FILE), "utf8"), CONTENT);
          assert.equal(gitIn(box, ["status", "--porcelain"], worktree), "", "all committed");

          // What the agent left is committed on the task's branch (with the repository's identity)...
          assert.equal(gitIn(box, ["show", `${branch}:${FILE}`]), CONTENT);
          assert.equal(
            gitIn(box, ["log", "-1", "--format=%s%n%an <%ae>", branch]),
            `orchestrate: ${id8} done\n${GIT_USER.name} <${GIT_USER.email}>\n`,
          );
          assert.equal(
            gitIn(box, ["merge-base", branch, "main"]).trim(),
            box.initialCommit,
            "the branch starts at the checkout's HEAD when the task was submitted",
          );
          assert.equal(
            gitIn(box, ["diff", "--name-only", `${box.initialCommit}..${branch}`]),
            `${FILE}\n`,
            "the branch changes only the agent's file",
          );
          // ...and merged into the integration branch.
          assert.equal(gitIn(box, ["show", `${INTEGRATION_BRANCH}:${FILE}`]), CONTENT);
          assert.equal(
            gitIn(box, ["merge-base", "--is-ancestor", branch, INTEGRATION_BRANCH]),
            "",
            "the task's branch is merged into the integration branch",
          );

          // The user's checkout is as it was: same branch and commit, no file, nothing to commit.
          assert.equal(existsSync(join(box.project, FILE)), false, "the checkout has no new file");
          assert.equal(gitIn(box, ["status", "--porcelain", "--untracked-files=all"]), "");
          assert.equal(gitIn(box, ["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
          assert.equal(gitIn(box, ["rev-parse", "HEAD"]).trim(), box.initialCommit);
          assert.deepEqual(leftovers(box), [], "no process of the agent is left");
        } finally {
          await box.server.close();
        }
      });

      if (cli.name === "claude") {
        it("plans a goal as the model of `orchestrate plan --planner claude`", async () => {
          const plan = {
            analysis: "A command-line tool; small scope.",
            tasks: [
              {
                key: "spec",
                phase: "Design",
                description: "Specify the commands",
                agent_type: "specifications-engineer",
                depends_on: [],
              },
              {
                key: "build",
                description: "Build the commands",
                agent_type: "backend-systems-engineer",
                depends_on: ["spec"],
              },
            ],
          };
          const box = await makeBox(cli, "reply", {
            reply: `Here is the plan:\n${JSON.stringify(plan)}`,
          });
          try {
            const result = await orchestrate(box, [
              "plan",
              "Build a CLI for notes",
              "--planner",
              "claude",
              "--yes",
              "--json",
            ]);
            assert.equal(result.code, 0, result.stderr);
            const made = JSON.parse(result.stdout) as {
              planner: string;
              status: string;
              dependencies: Record<string, string[]>;
            };
            assert.equal(made.planner, "claude-cli", result.stderr);
            assert.equal(made.status, "approved");
            assert.deepEqual(made.dependencies, { spec: [], build: ["spec"] });
            const asked = JSON.stringify(box.server.requests.map((r) => r.body));
            assert.match(asked, /Build a CLI for notes/);
            assert.match(asked, /You plan software work for a team of specialist AI coding agents/);
            assert.deepEqual(leftovers(box), [], "no process of the CLI is left");
          } finally {
            await box.server.close();
          }
        });
      }

      it("fails a task whose model calls fail, after the CLI's own retry, with the reason", async () => {
        const box = await makeBox(cli, "fail");
        try {
          const { task, run } = await submitAndRun(box, cli, `Create ${FILE} with a greeting`);
          assert.match(run.stdout, /0 completed, 1 failed/, describeRun(run));
          assert.equal(task.status, "failed", describeRun(run));
          assert.equal(task.attempts, 1);
          assert.equal(task.backend, cli.name);
          assert.match(task.error ?? "", /the model is unavailable \(scripted failure\)/);
          if (cli.name !== "gemini") assert.match(task.error ?? "", /503/);
          const [agentRun] = task.agentRuns;
          assert.notEqual(agentRun?.exitCode, 0);
          assert.equal(
            box.server.requests.length,
            2,
            "the first call and one retry by the CLI itself",
          );
          assert.equal(existsSync(join(box.project, FILE)), false);
          assert.deepEqual(leftovers(box), [], "no process of the agent is left");
        } finally {
          await box.server.close();
        }
      });
    });
  }
});
