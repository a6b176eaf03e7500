import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { BUILTIN_AGENT_TYPES } from "../src/core/agentTypes.ts";
import { type AnthropicServer, startAnthropicServer } from "./fixtures/anthropicServer.ts";
import { isolatedEnv, runOrchestrate } from "./helpers/orchestrateCli.ts";

const KEY = "sk-ant-test-key-SECRET-4242";
const AGENT = BUILTIN_AGENT_TYPES[0];
const dirs: string[] = [];
let server: AnthropicServer;

before(async () => {
  server = await startAnthropicServer();
});
after(async () => {
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Box {
  dir: string;
  base: string;
  env: Record<string, string>;
}

function makeBox(): Box {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-api-"));
  dirs.push(dir);
  const env = isolatedEnv(dir, { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url });
  return { dir, base: join(dir, ".orchestrator"), env };
}

async function orchestrate(
  box: Box,
  args: string[],
): Promise<{ code: number | null; out: string }> {
  const { code, stdout, stderr } = await runOrchestrate(box.dir, box.env, args);
  return { code, out: stdout + stderr };
}

async function submitAndRun(box: Box, description: string, ...flags: string[]) {
  const submitted = await orchestrate(box, [
    "submit",
    "-q",
    description,
    "--backend",
    "anthropic-api",
    "--agent",
    AGENT?.name ?? "",
    ...flags,
  ]);
  assert.equal(submitted.code, 0, submitted.out);
  const id = submitted.out.trim();
  const ran = await orchestrate(box, ["run", "--timeout", "60s"]);
  const db = new DatabaseSync(join(box.base, "tasks.db"));
  const task = db.prepare("SELECT status, output, error FROM tasks WHERE id = ?").get(id) as {
    status: string;
    output: string | null;
    error: string | null;
  };
  const runs = db.prepare("SELECT raw_path, backend FROM agent_runs WHERE task_id = ?").all(id) as {
    raw_path: string | null;
    backend: string;
  }[];
  db.close();
  return { id, ran, task: { ...task }, runs };
}

/** Everything the server received except the x-api-key header, for looking for the key. */
function seenWithoutKeyHeader(from: number): string {
  return server.requests
    .slice(from)
    .map((r) => {
      const { "x-api-key": _key, ...headers } = r.headers;
      return JSON.stringify({ url: r.url, headers, raw: r.raw });
    })
    .join("\n");
}

describe("API agents through orchestrate run (anthropic-api, loopback server)", () => {
  it("writes an artifact with a tool, then completes with the model's text", async () => {
    const box = makeBox();
    const from = server.requests.length;
    server.script(
      { kind: "tool_use", name: "write_artifact", input: { name: "plan.md", content: "# Plan\n" } },
      { kind: "text", text: "All done: the plan is in plan.md" },
    );
    const { ran, task, runs } = await submitAndRun(box, "Write the API plan");
    assert.equal(task.status, "completed", `${ran.out}\n${task.error}`);
    assert.equal(task.output, "All done: the plan is in plan.md");
    assert.equal(runs[0]?.backend, "anthropic-api");
    assert.equal(readFileSync(join(box.base, "shared_artifacts", "plan.md"), "utf8"), "# Plan\n");
    const seen = server.requests.slice(from);
    assert.equal(seen.length, 2);
    const first = seen[0];
    assert.ok(first);
    assert.equal(first.url, "/v1/messages");
    assert.equal(first.body["stream"], true);
    assert.equal(first.body["system"], AGENT?.systemPrompt);
    assert.match(JSON.stringify(first.body["messages"]), /Write the API plan/);
    assert.equal(first.headers["x-api-key"], KEY);
    const second = JSON.stringify(seen[1]?.body["messages"]);
    assert.match(second, /"tool_result"/);
    assert.doesNotMatch(second, /"is_error":true/);
    assert.ok(!seenWithoutKeyHeader(from).includes(KEY), "the key leaked outside x-api-key");
  });

  it("retries a 429 after its retry-after, then completes", async () => {
    const box = makeBox();
    const from = server.requests.length;
    server.script(
      { kind: "status", status: 429, headers: { "retry-after": "1" } },
      { kind: "text", text: "done after a retry" },
    );
    const { ran, task } = await submitAndRun(box, "Write the API plan");
    assert.equal(task.status, "completed", `${ran.out}\n${task.error}`);
    assert.equal(task.output, "done after a retry");
    const seen = server.requests.slice(from);
    assert.equal(seen.length, 2);
    const gap = (seen[1]?.at ?? 0) - (seen[0]?.at ?? 0);
    assert.ok(gap >= 900 && gap < 5_000, `requests ${gap} ms apart`);
  });

  it("fails at once on a 401, naming authentication, without leaking the key", async () => {
    const box = makeBox();
    const from = server.requests.length;
    server.script({
      kind: "status",
      status: 401,
      body: {
        type: "error",
        error: { type: "authentication_error", message: "invalid x-api-key" },
      },
    });
    const { ran, task, runs } = await submitAndRun(
      box,
      "Write the API plan",
      "--max-attempts",
      "1",
    );
    assert.equal(task.status, "failed", ran.out);
    assert.match(task.error ?? "", /authentication/i);
    assert.equal(server.requests.length - from, 1);
    assert.ok(!(task.error ?? "").includes(KEY));
    assert.ok(!(task.output ?? "").includes(KEY));
    assert.ok(!ran.out.includes(KEY));
    const rawPath = runs[0]?.raw_path;
    assert.ok(rawPath, "the agent run has a raw output file");
    const raw = readFileSync(join(box.base, rawPath), "utf8");
    assert.match(raw, /"is_error":true/);
    assert.ok(!raw.includes(KEY));
  });

  it("refuses an artifact name that leaves shared_artifacts", async () => {
    const box = makeBox();
    const from = server.requests.length;
    server.script(
      {
        kind: "tool_use",
        name: "write_artifact",
        input: { name: "../escape.md", content: "escaped" },
      },
      { kind: "text", text: "could not write it" },
    );
    const { ran, task } = await submitAndRun(box, "Write the API plan");
    assert.equal(task.status, "completed", `${ran.out}\n${task.error}`);
    const second = JSON.stringify(server.requests[from + 1]?.body["messages"]);
    assert.match(second, /"is_error":true/);
    assert.match(second, /leaves shared_artifacts/);
    assert.ok(!existsSync(join(box.base, "escape.md")));
    assert.ok(!existsSync(join(box.dir, "escape.md")));
    const artifacts = join(box.base, "shared_artifacts");
    assert.deepEqual(existsSync(artifacts) ? readdirSync(artifacts) : [], []);
  });

  it("with USE_API_MODE=true runs a task that names no backend through anthropic-api", async () => {
    const box = makeBox();
    box.env["USE_API_MODE"] = "true";
    server.script({ kind: "text", text: "done in API mode" });
    const submitted = await orchestrate(box, ["submit", "-q", "Summarise the plan"]);
    assert.equal(submitted.code, 0, submitted.out);
    const id = submitted.out.trim();
    const ran = await orchestrate(box, ["run", "--timeout", "60s"]);
    assert.equal(ran.code, 0, ran.out);
    const db = new DatabaseSync(join(box.base, "tasks.db"));
    const task = db.prepare("SELECT status, output, backend FROM tasks WHERE id = ?").get(id) as {
      status: string;
      output: string;
      backend: string;
    };
    db.close();
    assert.deepEqual(
      { ...task },
      { status: "completed", output: "done in API mode", backend: "anthropic-api" },
    );
  });
});
