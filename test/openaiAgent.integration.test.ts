import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { isolatedEnv, runOrchestrate } from "./helpers/orchestrateCli.ts";

/**
 * A loopback server speaking the OpenAI chat-completions wire format (non-streaming): the first request
 * gets a tool call (write_artifact), the second a plain answer. It records every request body.
 */
function startServer() {
  const bodies: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as Record<string, unknown>;
    bodies.push({ path: req.url ?? "", auth: req.headers.authorization, body });
    const first = bodies.length === 1;
    const message = first
      ? {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: {
                name: "write_artifact",
                arguments: JSON.stringify({ name: "notes.md", content: "# Notes\n" }),
              },
            },
          ],
        }
      : { role: "assistant", content: "Finished: notes.md written" };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${bodies.length}`,
        object: "chat.completion",
        created: 0,
        model: body["model"],
        choices: [{ index: 0, message, finish_reason: first ? "tool_calls" : "stop" }],
        usage: { prompt_tokens: 120, completion_tokens: 15, total_tokens: 135 },
      }),
    );
  });
  return { server, bodies };
}

describe("openai-api agent through orchestrate run (loopback chat-completions server)", () => {
  const { server, bodies } = startServer();
  let url = "";
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-openai-"));
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("calls a tool, writes the artifact, and completes with the model's answer", async () => {
    const env = isolatedEnv(dir, {
      OPENAI_BASE_URL: url,
      OPENAI_API_KEY: "sk-local-test-key",
      OPENAI_MODEL: "local-model",
    });
    const run = async (args: string[]) => {
      const { code, stdout, stderr } = await runOrchestrate(dir, env, args);
      return { code, out: stdout + stderr };
    };
    const submitted = await run(["submit", "-q", "Write the notes", "--backend", "openai-api"]);
    assert.equal(submitted.code, 0, submitted.out);
    const id = submitted.out.trim();
    const ran = await run(["run", "--timeout", "60s"]);
    assert.equal(ran.code, 0, ran.out);

    const db = new DatabaseSync(join(dir, ".orchestrator", "tasks.db"));
    const task = db.prepare("SELECT status, output FROM tasks WHERE id = ?").get(id) as {
      status: string;
      output: string;
    };
    db.close();
    assert.deepEqual({ ...task }, { status: "completed", output: "Finished: notes.md written" });
    assert.equal(
      readFileSync(join(dir, ".orchestrator", "shared_artifacts", "notes.md"), "utf8"),
      "# Notes\n",
    );

    assert.equal(bodies.length, 2);
    assert.equal(bodies[0]?.path, "/v1/chat/completions");
    assert.equal(bodies[0]?.auth, "Bearer sk-local-test-key");
    assert.equal(bodies[0]?.body["model"], "local-model");
    const messages = bodies[0]?.body["messages"] as { role: string; content: string }[];
    assert.equal(messages[0]?.role, "system");
    assert.match(messages[0]?.content ?? "", /specialist|senior/);
    assert.match(messages[1]?.content ?? "", /Write the notes/);
    const toolSpecs = (bodies[0]?.body["tools"] ?? []) as { function: { name: string } }[];
    const tools = toolSpecs.map((t) => t.function.name);
    assert.ok(tools.includes("write_artifact"));
    const followUp = bodies[1]?.body["messages"] as { role: string; tool_call_id?: string }[];
    assert.ok(
      followUp.some((m) => m.role === "tool" && m.tool_call_id === "call_1"),
      "the tool result went back",
    );
  });
});
