// The real agent CLIs (Claude Code, Codex CLI, Gemini CLI), at the versions pinned in clis.ts and installed
// into .cache/agent-clis/ by installClis.ts, run through `orchestrate run` against loopback model
// servers speaking their provider's wire format (modelServers.ts). No internet, no real home directory:
// each test has its own temp project dir with HOME, the CLI's config home and TMPDIR inside it, and its
// own server. Run with `npm run test:agents` (not part of `npm test`: it needs the ~600 MB of CLIs).
//
// Each CLI is configured the way a user would configure it, through its own settings, since agents
// inherit the user's environment: Claude Code by ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY, Codex by a
// custom model provider in $CODEX_HOME/config.toml, Gemini CLI by GOOGLE_GEMINI_BASE_URL / GEMINI_API_KEY
// and $GEMINI_CLI_HOME/.gemini/settings.json. Their own retries are cut to one, so a failing model call
// fails in seconds.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
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

/** Variables from the caller's environment that would point a CLI at a real account or config. */
const CLI_SETTINGS = /^(CLAUDE_|CODEX_|GEMINI_|GOOGLE_|VERTEX|CLOUDSDK_)/;

const dirs: string[] = [];
const servers: ModelServer[] = [];

after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Box {
  dir: string;
  base: string;
  env: Record<string, string>;
  server: ModelServer;
}

const starters: Record<PinnedCli["name"], (scenario: Scenario) => Promise<ModelServer>> = {
  claude: startAnthropicServer,
  codex: startResponsesServer,
  gemini: startGeminiServer,
};

/**
 * A temp project dir with its own queue, HOME, TMPDIR and model server; the cached CLI first on PATH;
 * the CLI's own settings pointing at the server.
 */
async function makeBox(cli: PinnedCli, kind: Scenario["kind"] | "reply", reply = ""): Promise<Box> {
  const dir = mkdtempSync(join(tmpdir(), `orchestrate-agents-${cli.name}-`));
  dirs.push(dir);
  const home = join(dir, "home");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);
  let server: ModelServer;
  if (kind === "reply") {
    assert.equal(cli.name, "claude", "only the Anthropic server plays a plain reply");
    server = await startAnthropicServer({ kind, text: reply });
  } else {
    const scenario: Scenario =
      kind === "write-file"
        ? { kind, dir, file: FILE, content: CONTENT, finalText: FINAL_TEXT }
        : { kind, status: FAILURE_STATUS, message: FAILURE };
    server = await starters[cli.name](scenario);
  }
  servers.push(server);
  const settings = await cliSettings(cli, home, server);
  const env = isolatedEnv(dir, {
    PATH: `${binDirOf(cli)}${delimiter}${process.env["PATH"] ?? ""}`,
    TMPDIR: tmp,
  });
  for (const key of Object.keys(env)) if (CLI_SETTINGS.test(key)) delete env[key];
  Object.assign(env, settings);
  return { dir, base: join(dir, ".orchestrator"), env, server };
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

/** Runs `orchestrate args` in the box to the end, or ends it after `limitMs`. */
function orchestrate(box: Box, args: string[], limitMs = 30_000) {
  return runOrchestrate(box.dir, box.env, args, { limitMs });
}

interface TaskJson {
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
          assert.equal(run.code, 0, describeRun(run));
          assert.match(run.stdout, /1 completed, 0 failed/);
          assert.equal(task.status, "completed", `${task.error ?? ""}\n${describeRun(run)}`);
          assert.equal(task.backend, cli.name);
          assert.equal(task.attempts, 1);
          assert.equal(readFileSync(join(box.dir, FILE), "utf8"), CONTENT);

          // The output is the CLI's final answer, parsed from its real stream and recorded.
          assert.match(task.output ?? "", new RegExp(FINAL_TEXT.replaceAll(".", "\\.")));
          assert.equal(task.error, null);
          assert.equal(task.inputTokens, 240, "two model calls of 120 input tokens each");
          assert.equal(task.outputTokens, 60, "two model calls of 30 output tokens each");
          assert.ok(task.sessionId, "the CLI's session id is recorded");
          const [agentRun] = task.agentRuns;
          assert.equal(agentRun?.exitCode, 0);
          assert.equal(agentRun?.endReason, "completed");
          const outputFile = join(box.base, agentRun?.outputPath ?? "missing");
          assert.match(
            readFileSync(outputFile, "utf8"),
            new RegExp(FINAL_TEXT.replaceAll(".", "\\.")),
          );
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
          const box = await makeBox(cli, "reply", `Here is the plan:\n${JSON.stringify(plan)}`);
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
          assert.equal(existsSync(join(box.dir, FILE)), false);
          assert.deepEqual(leftovers(box), [], "no process of the agent is left");
        } finally {
          await box.server.close();
        }
      });
    });
  }
});
