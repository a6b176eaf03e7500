// The model-backed decomposer against a loopback server speaking the Anthropic Messages API: the real
// SDK adapter, real HTTP, the planner's validation and its one correction round.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeAnthropicLlm, makeOpenAiLlm } from "../src/adapters/llm/apiLlms.ts";
import { openSqliteStore } from "../src/adapters/store/sqlite/sqliteStore.ts";
import { PlanSessions } from "../src/app/planSessions.ts";
import { Decomposer } from "../src/core/decomposer.ts";
import { CancelledError } from "../src/core/errors.ts";
import { TaskQueue } from "../src/core/taskQueue.ts";
import { type AnthropicServer, startAnthropicServer } from "./fixtures/anthropicServer.ts";
import { isolatedEnv, runOrchestrate } from "./helpers/orchestrateCli.ts";

const VALID_PLAN = {
  analysis: "A small API with a login page; sessions by token. Risk: password storage.",
  tasks: [
    {
      key: "spec",
      phase: "Design",
      description: "Write the API spec",
      agent_type: "specifications-engineer",
      priority: "high",
      depends_on: [],
    },
    {
      key: "api",
      phase: "Implementation",
      description: "Build the endpoints",
      agent_type: "backend-engineer",
      depends_on: ["spec"],
    },
    {
      key: "ui",
      phase: "Implementation",
      description: "Build the login page",
      agent_type: "frontend-ui-engineer",
      depends_on: ["spec", "ghost"],
    },
    {
      key: "tests",
      phase: "Testing",
      description: "Test the API",
      agent_type: "backend-systems-engineer",
      priority: 3,
      depends_on: ["api", "ui"],
    },
  ],
};

// Well-formed JSON but not a usable plan: a cycle between a and b, and two tasks keyed c.
const INVALID_PLAN = {
  tasks: [
    { key: "a", description: "first", agent_type: "backend-systems-engineer", depends_on: ["b"] },
    { key: "b", description: "second", agent_type: "backend-systems-engineer", depends_on: ["a"] },
    { key: "c", description: "third", agent_type: "backend-systems-engineer" },
    { key: "c", description: "fourth", agent_type: "backend-systems-engineer" },
  ],
};

describe("model-backed decomposer (loopback Anthropic Messages API)", () => {
  let server: AnthropicServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startAnthropicServer();
    env = {
      ANTHROPIC_API_KEY: "sk-test-planner",
      ANTHROPIC_BASE_URL: server.url,
      ORCHESTRATE_PLANNER_MODEL: "planner-model",
    };
  });
  after(() => server.close());

  test("an invalid plan is fed back once; the corrected plan is repaired and used", async () => {
    server.requests.length = 0;
    server.script(
      {
        kind: "text",
        text: `Here is the plan:\n\`\`\`json\n${JSON.stringify(INVALID_PLAN)}\n\`\`\``,
      },
      { kind: "text", text: JSON.stringify(VALID_PLAN) },
    );
    const made = await new Decomposer(makeAnthropicLlm(env)).decompose(
      "Build a REST API with a login page",
    );
    assert.equal(made.planner, "anthropic-api:planner-model");
    assert.deepEqual(
      made.value.tasks.map((t) => [t.key, t.agentType, t.dependsOn]),
      [
        ["spec", "specifications-engineer", []],
        ["api", "backend-systems-engineer", ["spec"]],
        ["ui", "frontend-ui-engineer", ["spec"]],
        ["tests", "backend-systems-engineer", ["api", "ui"]],
      ],
    );
    assert.equal(made.value.tasks[0]?.priority, 4 - 1, "'high' is 3");
    assert.ok(
      made.warnings.some((w) =>
        /unknown agent type 'backend-engineer' became backend-systems-engineer/.test(w),
      ),
    );
    assert.ok(made.warnings.some((w) => /'ghost', which is not in the plan/.test(w)));

    assert.equal(server.requests.length, 2);
    const [first, second] = server.requests;
    assert.equal(first?.headers["x-api-key"], "sk-test-planner");
    assert.equal(first?.body["model"], "planner-model");
    assert.match(String(first?.body["system"]), /backend-systems-engineer/);
    const messages = second?.body["messages"] as { role: string; content: string }[];
    assert.equal(messages.length, 3, "the question, the invalid answer, the problems");
    assert.equal(messages[1]?.role, "assistant");
    assert.match(messages[2]?.content ?? "", /cycle: a -> b -> a/);
    assert.match(messages[2]?.content ?? "", /two tasks have the key 'c'/);
  });

  test("still invalid after the correction: the heuristic plan, with a visible warning", async () => {
    server.requests.length = 0;
    server.script(
      { kind: "text", text: "I cannot do that." },
      { kind: "text", text: JSON.stringify(INVALID_PLAN) },
    );
    const made = await new Decomposer(makeAnthropicLlm(env)).decompose("Build a pipeline");
    assert.equal(made.planner, "heuristic");
    assert.equal(server.requests.length, 2);
    assert.match(made.warnings.join("\n"), /gave no usable plan after one correction .*cycle/);
    assert.ok(made.value.tasks.some((t) => t.agentType === "data-pipeline-engineer"));
  });

  test("a 401 falls back to the heuristic at once and says why", async () => {
    server.requests.length = 0;
    server.script({ kind: "status", status: 401 });
    const made = await new Decomposer(makeAnthropicLlm(env)).decompose("Build a pipeline");
    assert.equal(made.planner, "heuristic");
    assert.equal(server.requests.length, 1, "an auth failure is not retried");
    assert.match(made.warnings.join("\n"), /could not be asked for a plan \(401/);
  });

  test("discussion turns are stored and given back to the model; a model split replaces the task", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orch-plan-model-"));
    const store = openSqliteStore({ path: join(dir, "tasks.db"), busyTimeoutMs: 5000 });
    try {
      server.requests.length = 0;
      server.script({ kind: "text", text: JSON.stringify(VALID_PLAN) });
      const planner = new PlanSessions(
        store,
        new TaskQueue({ store }),
        new Decomposer(makeAnthropicLlm(env)),
      );
      const { plan } = await planner.start("Build a REST API with a login page");
      server.script({ kind: "text", text: "Caching is not needed for a first version." });
      assert.deepEqual(await planner.discuss(plan.id, "Should we add caching?"), {
        kind: "answer",
        text: "Caching is not needed for a first version.",
      });
      server.script({ kind: "text", text: "Then rate limits belong in the api task." });
      await planner.discuss(plan.id, "What about rate limits?");
      // The saved discussion: the model's analysis, then two questions and answers. On the wire it
      // starts with the planning request the analysis answered, and turns alternate.
      const third = server.requests.at(-1)?.body["messages"] as { role: string; content: string }[];
      assert.deepEqual(
        third.map((m) => m.role),
        ["user", "assistant", "user", "assistant", "user"],
      );
      assert.match(third[0]?.content ?? "", /Analyse and plan this goal: Build a REST API/);
      assert.equal(third[1]?.content, VALID_PLAN.analysis);
      assert.equal(third[2]?.content, "Should we add caching?");
      assert.match(String(server.requests.at(-1)?.body["system"]), /api \[Implementation\]/);
      const saved = await store.getPlan(plan.id);
      assert.deepEqual(
        saved?.discussion.map((m) => m.role),
        ["assistant", "user", "assistant", "user", "assistant"],
      );

      server.script({
        kind: "text",
        text: JSON.stringify({
          parts: [
            {
              description: "Build the auth endpoints",
              agent_type: "backend-systems-engineer",
              after: [],
            },
            {
              description: "Build the notes endpoints",
              agent_type: "backend-systems-engineer",
              after: [0],
            },
          ],
        }),
      });
      const split = await planner.split(plan.id, "api");
      assert.deepEqual(
        split.parts.map((p) => p.description),
        ["Build the auth endpoints", "Build the notes endpoints"],
      );
      const after = await store.getPlan(plan.id);
      assert.deepEqual(after?.tasks.find((t) => t.key === "tests")?.dependsOn.toSorted(), [
        split.parts[1]?.key,
        "ui",
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`orchestrate plan --yes --json` plans with the model through the real binary (settings in .env)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orch-plan-cli-"));
    try {
      server.script({ kind: "text", text: JSON.stringify(VALID_PLAN) });
      // The model's settings may come from .env, as every other setting.
      writeFileSync(
        join(dir, ".env"),
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join("\n"),
      );
      const result = await runOrchestrate(dir, isolatedEnv(dir), [
        "plan",
        "Build a REST API with a login page",
        "--planner",
        "anthropic-api",
        "--yes",
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(result.stdout) as {
        status: string;
        planner: string;
        dependencies: Record<string, string[]>;
        discussion: { role: string; content: string }[];
      };
      assert.equal(plan.status, "approved");
      assert.equal(plan.planner, "anthropic-api:planner-model");
      assert.deepEqual(plan.dependencies["tests"], ["api", "ui"]);
      assert.deepEqual(
        plan.discussion.map((m) => [m.role, m.content]),
        [["assistant", VALID_PLAN.analysis]],
      );
      assert.match(result.stderr, /repaired the model's plan/);
      assert.ok(
        !result.stdout.includes("sk-test-planner") && !result.stderr.includes("sk-test-planner"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an OpenAI-compatible endpoint plans too (chat completions over real HTTP)", async () => {
    const seen: {
      url: string;
      auth: string;
      body: { model: string; messages: { role: string }[] };
    }[] = [];
    const openai = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => {
        raw += c;
      });
      req.on("end", () => {
        seen.push({
          url: req.url ?? "",
          auth: req.headers.authorization ?? "",
          body: JSON.parse(raw),
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ message: { role: "assistant", content: JSON.stringify(VALID_PLAN) } }],
            usage: { prompt_tokens: 10, completion_tokens: 20 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => openai.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = openai.address() as AddressInfo;
      const llm = makeOpenAiLlm({
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        OPENAI_API_KEY: "sk-local",
        OPENAI_MODEL: "local-model",
      });
      const made = await new Decomposer(llm).decompose("Build a REST API with a login page");
      assert.equal(made.planner, "openai-api:local-model");
      assert.equal(made.value.tasks.length, 4);
      assert.equal(seen[0]?.url, "/v1/chat/completions");
      assert.equal(seen[0]?.auth, "Bearer sk-local");
      assert.equal(seen[0]?.body.model, "local-model");
      assert.deepEqual(
        seen[0]?.body.messages.map((m) => m.role),
        ["system", "user"],
      );
    } finally {
      openai.closeAllConnections();
      await new Promise<void>((resolve) => openai.close(() => resolve()));
    }
  });

  test("piped answers after a model call are all used; a failed discussion turn is reported, not fatal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orch-plan-piped-model-"));
    try {
      server.script(
        { kind: "text", text: JSON.stringify(VALID_PLAN) },
        {
          kind: "text",
          text: JSON.stringify({
            parts: [
              { description: "Build the auth endpoints", after: [] },
              { description: "Build the notes endpoints", after: [0] },
            ],
          }),
        },
        { kind: "status", status: 401 },
      );
      const result = await runOrchestrate(
        dir,
        isolatedEnv(dir, env),
        ["plan", "Build a REST API with a login page", "--planner", "anthropic-api"],
        { input: "s\napi\nd\nShould we cache?\nr\nui\nv\nq\n", limitMs: 60_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /model> A small API with a login page/, "the analysis is shown");
      assert.match(result.stdout, /Split api into t1, t2\./);
      assert.match(result.stdout, /The model could not answer: 401/);
      assert.match(result.stdout, /Removed ui\./, "answers after the model calls were not dropped");
      assert.match(result.stdout, /Dependency graph/);
      assert.match(result.stdout, /Draft saved/);
      const id = /Plan ([0-9a-f]{16})/.exec(result.stdout)?.[1] ?? "";
      const shown = await runOrchestrate(dir, isolatedEnv(dir, env), [
        "plan-continue",
        id,
        "--json",
      ]);
      const plan = JSON.parse(shown.stdout) as {
        tasks: { key: string }[];
        discussion: { role: string }[];
      };
      assert.deepEqual(
        plan.tasks.map((t) => t.key),
        ["spec", "t1", "t2", "tests"],
      );
      assert.deepEqual(
        plan.discussion.map((m) => m.role),
        ["assistant"],
        "the unanswered question was not recorded",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a model call cancelled by the person changes nothing", async () => {
    const held: import("node:http").ServerResponse[] = [];
    const silent = createServer((_req, res) => {
      held.push(res); // never answered
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const dir = mkdtempSync(join(tmpdir(), "orch-plan-cancel-"));
    const store = openSqliteStore({ path: join(dir, "tasks.db"), busyTimeoutMs: 5000 });
    try {
      const { port } = silent.address() as AddressInfo;
      const llm = makeAnthropicLlm({ ...env, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` });
      const offline = new PlanSessions(store, new TaskQueue({ store }), new Decomposer(null));
      const { plan } = await offline.start("Build a pipeline");
      const planner = new PlanSessions(store, new TaskQueue({ store }), new Decomposer(llm));
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(planner.split(plan.id, "t3", controller.signal), CancelledError);
      const again = new AbortController();
      setTimeout(() => again.abort(), 200);
      await assert.rejects(planner.discuss(plan.id, "Why?", again.signal), CancelledError);
      const after = await store.getPlan(plan.id);
      assert.deepEqual(after?.tasks, (await offline.get(plan.id)).tasks);
      assert.equal(after?.version, plan.version, "nothing was written");
      assert.equal(after?.discussion.length, 0);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
