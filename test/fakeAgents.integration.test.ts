import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { makeClaudeBackend } from "../src/adapters/backends/claudeBackend.ts";
import { makeCodexBackend } from "../src/adapters/backends/codexBackend.ts";
import { makeCustomBackend } from "../src/adapters/backends/customBackend.ts";
import { makeGeminiBackend } from "../src/adapters/backends/geminiBackend.ts";
import type { AgentBackend, AgentEvent, AgentRequest } from "../src/ports/agentBackend.ts";

/**
 * The fake agent CLIs (test/fixtures/fake-agents) checked against the real parsers: each fake is run
 * with the exact command its backend builds, and its stdout goes through that backend's parser. If a
 * fake drifts from the format the parser expects (or a backend from the flags the fake accepts, which
 * are the real CLI's), these tests fail.
 */

const FAKES = join(import.meta.dirname, "fixtures", "fake-agents");
const root = mkdtempSync(join(tmpdir(), "fake-agents-"));
const children = new Set<ChildProcess>();
const strays: number[] = [];

after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const pid of strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(root, { recursive: true, force: true });
});

let runs = 0;
/** A fresh project directory and scratch directory for one run. */
function makeRequest(prompt: string): AgentRequest {
  runs += 1;
  return {
    prompt,
    systemPrompt: 'You are a "careful" engineer.\nWrite tests.',
    cwd: mkdtempSync(join(root, `project-${runs}-`)),
    scratchDir: join(root, `scratch-${runs}`),
  };
}

interface Run {
  child: ChildProcess;
  /** Every event, including those of `parser.end()`, once stdout closed. */
  events: Promise<AgentEvent[]>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Spawns the backend's command the way the spawner does (stdin ignored unless given, own group). */
function start(
  backend: AgentBackend,
  request: AgentRequest,
  extraEnv: Record<string, string> = {},
): Run {
  const command = backend.command(request);
  const env: Record<string, string | undefined> = {
    ...process.env,
    FAKE_AGENT_MODE: undefined,
    FAKE_AGENT_PROMPT_DIR: undefined,
    FAKE_AGENT_PIDFILE: undefined,
    ...command.env,
    ...extraEnv,
    PATH: `${FAKES}${delimiter}${process.env["PATH"] ?? ""}`,
  };
  const child = spawn(command.command, command.args, {
    cwd: request.cwd,
    env,
    detached: true,
    stdio: [command.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (command.stdin !== undefined) child.stdin?.end(command.stdin);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exit = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const parser = backend.parser();
  const events = (async () => {
    const collected: AgentEvent[] = [];
    if (child.stdout === null) throw new Error("no stdout");
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      collected.push(...parser.line(line));
    }
    collected.push(...parser.end());
    return collected;
  })();
  return { child, events, exit, stderr: () => stderr };
}

function results(events: AgentEvent[]): Extract<AgentEvent, { type: "result" }>[] {
  return events.filter((e): e is Extract<AgentEvent, { type: "result" }> => e.type === "result");
}

const BACKENDS = [
  { backend: makeClaudeBackend(), marker: "FAKE-CLAUDE-DONE" },
  { backend: makeCodexBackend(), marker: "FAKE-CODEX-DONE" },
  { backend: makeGeminiBackend(), marker: "FAKE-GEMINI-DONE" },
];

const TASK_PROMPT = [
  "# Your task (backend-systems-engineer)",
  "",
  "Build the users API",
  "WRITE_FILE: src/users.ts",
  "",
  "## Output of the tasks this one depends on",
  "",
  "### 1234abcd: an earlier task",
  "FAKE_MODE: crash",
  "WRITE_FILE: must-not-exist.txt",
  "",
].join("\n");

for (const { backend, marker } of BACKENDS) {
  describe(`fake ${backend.name} through the ${backend.name} parser`, () => {
    it("ok: succeeds with exit 0, writes the requested file, reports the task and its marker", async () => {
      const request = makeRequest(TASK_PROMPT);
      const promptDir = join(root, `prompts-${backend.name}`);
      const run = start(backend, request, { FAKE_AGENT_PROMPT_DIR: promptDir });
      const [events, exit] = await Promise.all([run.events, run.exit]);
      assert.deepEqual(exit, { code: 0, signal: null }, run.stderr());

      const [result, ...more] = results(events);
      assert.equal(more.length, 0, "exactly one result");
      assert.equal(result?.success, true);
      assert.match(result?.text ?? "", /Build the users API/);
      assert.match(result?.text ?? "", new RegExp(marker));
      assert.equal(events[0]?.type, "session", "the session comes first");
      assert.ok(events.some((e) => e.type === "usage"));
      assert.ok(events.some((e) => e.type === "tool_use"));

      assert.match(readFileSync(join(request.cwd, "src/users.ts"), "utf8"), /Build the users API/);
      assert.equal(
        existsSync(join(request.cwd, "must-not-exist.txt")),
        false,
        "directives outside the task section are not followed",
      );

      const [record] = readdirSync(promptDir).filter((f) => f === `${run.child.pid}.json`);
      assert.ok(record, "the fake recorded its invocation");
      const invocation = JSON.parse(readFileSync(join(promptDir, record), "utf8"));
      assert.equal(readFileSync(join(promptDir, `${run.child.pid}.txt`), "utf8"), TASK_PROMPT);
      assert.equal(invocation.prompt, TASK_PROMPT);
      assert.match(invocation.system, /^You are a "careful" engineer\.\nWrite tests\./);
    });

    it("fail: a failed result and exit 1", async () => {
      const run = start(backend, makeRequest("Do the thing"), { FAKE_AGENT_MODE: "fail" });
      const [events, exit] = await Promise.all([run.events, run.exit]);
      assert.equal(exit.code, 1, run.stderr());
      assert.deepEqual(
        results(events).map((r) => r.success),
        [false],
      );
    });

    it("is_error: a failed result even though the CLI exits 0", async () => {
      const run = start(backend, makeRequest("FAKE_MODE: is_error\nDo the thing"), {
        FAKE_AGENT_MODE: "ok",
      });
      const [events, exit] = await Promise.all([run.events, run.exit]);
      assert.equal(exit.code, 0, run.stderr());
      const [result, ...more] = results(events);
      assert.equal(more.length, 0);
      assert.equal(result?.success, false);
      assert.match(result?.text ?? "", /reports an error/);
    });

    it("crash: exit 137 and no result line, which the parser reports as a failed result", async () => {
      const run = start(backend, makeRequest("Do the thing"), { FAKE_AGENT_MODE: "crash" });
      const [events, exit] = await Promise.all([run.events, run.exit]);
      assert.equal(exit.code, 137);
      assert.equal(events[0]?.type, "session");
      assert.deepEqual(
        results(events).map((r) => r.success),
        [false],
      );
    });
  });
}

describe("fake agents misbehaving for the spawner's tests", () => {
  const claude = makeClaudeBackend();

  it("hang: ignores SIGTERM and only dies by SIGKILL", async () => {
    const run = start(claude, makeRequest("Do the thing"), { FAKE_AGENT_MODE: "hang" });
    const pid = run.child.pid ?? 0;
    const firstLine = new Promise<void>((resolve) =>
      run.child.stdout?.once("data", () => resolve()),
    );
    await firstLine;
    process.kill(-pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(run.child.exitCode, null, "still running after SIGTERM");
    process.kill(-pid, "SIGKILL");
    assert.deepEqual(await run.exit, { code: null, signal: "SIGKILL" });
    assert.equal(results(await run.events)[0]?.success, false);
  });

  it("grandchild: leaves a descendant in another session, with its pid in FAKE_AGENT_PIDFILE", async () => {
    const pidFile = join(root, "grandchild.pid");
    const run = start(claude, makeRequest("Do the thing"), {
      FAKE_AGENT_MODE: "grandchild",
      FAKE_AGENT_PIDFILE: pidFile,
    });
    const agentPid = run.child.pid ?? 0;
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const grandchild = Number(readFileSync(pidFile, "utf8").trim());
    strays.push(grandchild);
    process.kill(-agentPid, "SIGKILL");
    await run.exit;
    assert.doesNotThrow(() => process.kill(grandchild, 0), "the grandchild outlives a group kill");
    if (process.platform === "linux") {
      const session = (pid: number) =>
        readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[3];
      assert.equal(session(grandchild), String(grandchild), "it leads its own session");
    }
    process.kill(grandchild, "SIGKILL");
  });

  it("flood: about 20 MB of output, then a normal successful result", async () => {
    const run = start(makeGeminiBackend(), makeRequest("Flood me"), { FAKE_AGENT_MODE: "flood" });
    let bytes = 0;
    run.child.stdout?.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    const [events, exit] = await Promise.all([run.events, run.exit]);
    assert.equal(exit.code, 0, run.stderr());
    assert.ok(bytes > 20_000_000, `printed ${bytes} bytes`);
    const [result] = results(events);
    assert.equal(result?.success, true);
    assert.ok((result?.text.length ?? 0) <= 1_100_000, "the collected text stays bounded");
    assert.match(result?.text ?? "", /FAKE-GEMINI-DONE$/);
  });

  it("slow: sleeps FAKE_AGENT_SLEEP_MS, then succeeds", async () => {
    const started = Date.now();
    const run = start(makeCodexBackend(), makeRequest("Take your time"), {
      FAKE_AGENT_MODE: "slow",
      FAKE_AGENT_SLEEP_MS: "300",
    });
    const [events, exit] = await Promise.all([run.events, run.exit]);
    assert.equal(exit.code, 0, run.stderr());
    assert.ok(Date.now() - started >= 300);
    assert.equal(results(events)[0]?.success, true);
  });

  it("rejects unknown flags and a missing prompt with exit 2, as the real CLIs do", async () => {
    const custom = (binary: string, args: string[]) =>
      makeCustomBackend({ name: binary, binary, args, promptVia: "stdin" });
    for (const backend of [
      custom("claude", ["-p", "x", "--no-such-flag"]),
      custom("codex", ["exec", "-a", "never", "x"]),
      custom("gemini", ["-p", "x", "--no-such-flag"]),
      custom("gemini", ["-o", "stream-json"]),
    ]) {
      const run = start(backend, { ...makeRequest(""), prompt: "" });
      const exit = await run.exit;
      assert.equal(exit.code, 2, `${backend.description}: ${run.stderr()}`);
      assert.notEqual(run.stderr(), "");
    }
  });

  it("a custom backend reusing the claude format works against the fake claude", async () => {
    const backend = makeCustomBackend({
      name: "claude-wrapper",
      binary: "claude",
      args: [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--append-system-prompt",
        "{system}",
      ],
      outputFormat: "claude",
    });
    const run = start(backend, makeRequest("Via stdin"), { IS_SANDBOX: "1" });
    const [events, exit] = await Promise.all([run.events, run.exit]);
    assert.equal(exit.code, 0, run.stderr());
    const [result] = results(events);
    assert.equal(result?.success, true);
    assert.match(result?.text ?? "", /Via stdin[\s\S]*FAKE-CLAUDE-DONE/);
  });
});
