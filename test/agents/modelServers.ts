// Loopback model servers for the real agent CLIs, one per provider wire format, on 127.0.0.1 random ports:
// - Anthropic Messages API (`POST /v1/messages`, SSE when `stream: true`) for Claude Code;
// - OpenAI Responses API (`POST /v1/responses`, SSE) for the Codex CLI;
// - Gemini API (`POST /v1beta/models/M:streamGenerateContent?alt=sse`, SSE) for the Gemini CLI.
//
// Each follows a scenario instead of a fixed queue of replies, so extra requests a CLI may make cannot
// shift the script: its reply depends on the conversation in the request.
// - `write-file`: while the conversation holds no result for our tool call, the reply is a call of the
//   CLI's own file-writing tool (Claude Code's `Write`, Codex's freeform `apply_patch`, Gemini CLI's
//   `write_file`) creating `file` with `content`; `file` is a relative path, so it lands in the CLI's
//   working directory (the project dir, or the task's own git worktree); once the tool's result is in
//   the conversation, the reply is `finalText` and the turn ends.
// - `reply` (Anthropic only): every request is answered with `text` and no tool call, as a model asked
//   for a plan answers.
// - `fail`: every request is answered with HTTP `status` and an error body in the provider's shape
//   carrying `message`.
// Every request is recorded (method, url, parsed body), and so is the text of every result of our tool
// call that the CLI sent back, so tests can check that the CLI really ran the tool, and the working
// directory the CLI tells the model it runs in, so tests can check where the agent worked.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Scenario =
  | {
      kind: "write-file";
      /** A path relative to the CLI's working directory. */
      file: string;
      content: string;
      finalText: string;
    }
  | { kind: "fail"; status: number; message: string };

/** Only the Anthropic server plays this one (for Claude Code asked a planning question). */
export type ReplyScenario = { kind: "reply"; text: string };

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface ModelServer {
  /** Base URL, `http://127.0.0.1:PORT`, without a path. */
  url: string;
  requests: SeenRequest[];
  /** The text of each result of our tool call that came back, in order. */
  toolResults: string[];
  /**
   * The working directories the CLI named to the model (each once, in order of first sight): Claude
   * Code's "Primary working directory" in its system prompt, Codex's `<cwd>` in its environment
   * context, Gemini CLI's "Workspace Directories" in its first user turn.
   */
  workingDirs: string[];
  close(): Promise<void>;
}

/** The tool call id the servers use, found again in the CLI's next request. */
export const CALL_ID = "call_loopback_write_1";

type Handler = (request: SeenRequest, res: ServerResponse, server: ModelServer) => void;

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** Every string anywhere in a parsed JSON value. */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) yield* stringsIn(item);
}

/** How each CLI names its working directory in the text it sends (the first capture group). */
const WORKING_DIR_IN_REQUEST = {
  anthropic: /^ - Primary working directory: (.+)$/m,
  responses: /^\s*<cwd>([^<]+)<\/cwd>/m,
  gemini: /^- \*\*Workspace Directories:\*\*\n\s+- (.+)$/m,
} as const;

async function startServer(handler: Handler, workingDir: RegExp): Promise<ModelServer> {
  const requests: SeenRequest[] = [];
  const toolResults: string[] = [];
  const workingDirs: string[] = [];
  let model: ModelServer | undefined;
  const server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      raw += chunk;
    });
    req.on("end", () => {
      let body: unknown = null;
      try {
        body = raw === "" ? null : JSON.parse(raw);
      } catch {
        body = raw;
      }
      const seen: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
      };
      requests.push(seen);
      for (const text of stringsIn(body)) {
        const dir = workingDir.exec(text)?.[1]?.trim();
        if (dir && !workingDirs.includes(dir)) workingDirs.push(dir);
      }
      if (model) handler(seen, res, model);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  model = {
    url: `http://127.0.0.1:${port}`,
    requests,
    toolResults,
    workingDirs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return model;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
}

// ---------------------------------------------------------------------------------------------------
// Anthropic Messages API (Claude Code)

/**
 * Claude Code 2.1 posts to `/v1/messages?beta=true` with `stream: true`, its tools (`Write` takes a
 * `file_path`, which its description asks to be absolute but which it resolves against its working
 * directory when relative, and `content`) and the whole conversation; a tool's result comes back as a
 * `tool_result` block with our `tool_use_id` in the last user message.
 */
export function startAnthropicServer(scenario: Scenario | ReplyScenario): Promise<ModelServer> {
  return startServer((request, res, server) => {
    const path = request.url.split("?")[0];
    if (request.method !== "POST" || !path?.startsWith("/v1/messages")) {
      sendJson(res, 404, {
        type: "error",
        error: { type: "not_found_error", message: `no route ${request.method} ${request.url}` },
      });
      return;
    }
    if (scenario.kind === "fail") {
      sendJson(res, scenario.status, {
        type: "error",
        error: {
          type: scenario.status >= 500 ? "api_error" : "invalid_request_error",
          message: scenario.message,
        },
      });
      return;
    }
    const body = asRecord(request.body) ?? {};
    if (path === "/v1/messages/count_tokens") {
      sendJson(res, 200, { input_tokens: 100 });
      return;
    }
    const results = asArray(body["messages"])
      .flatMap((m) => asArray(asRecord(m)?.["content"]))
      .map(asRecord)
      .filter((b) => b?.["type"] === "tool_result" && b["tool_use_id"] === CALL_ID);
    const offersWrite = asArray(body["tools"]).some((t) => asRecord(t)?.["name"] === "Write");
    let block: Json;
    if (scenario.kind === "reply") {
      block = { type: "text", text: scenario.text };
    } else if (results.length > 0 || !offersWrite) {
      for (const result of results) server.toolResults.push(anthropicResultText(result));
      block = { type: "text", text: scenario.finalText };
    } else {
      block = {
        type: "tool_use",
        id: CALL_ID,
        name: "Write",
        input: { file_path: scenario.file, content: scenario.content },
      };
    }
    const stopReason = block["type"] === "tool_use" ? "tool_use" : "end_turn";
    const message = {
      id: `msg_loopback_${server.requests.length}`,
      type: "message",
      role: "assistant",
      model: String(body["model"] ?? "claude-test"),
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 120, output_tokens: 1 },
    };
    if (body["stream"] !== true) {
      sendJson(res, 200, {
        ...message,
        content: [block],
        stop_reason: stopReason,
        usage: { input_tokens: 120, output_tokens: 30 },
      });
      return;
    }
    startSse(res);
    const send = (event: string, data: Json) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    send("message_start", { message: { ...message, content: [] } });
    if (block["type"] === "text") {
      send("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
      send("content_block_delta", {
        index: 0,
        delta: { type: "text_delta", text: String(block["text"]) },
      });
    } else {
      send("content_block_start", { index: 0, content_block: { ...block, input: {} } });
      send("content_block_delta", {
        index: 0,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block["input"]) },
      });
    }
    send("content_block_stop", { index: 0 });
    send("message_delta", {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: 30 },
    });
    send("message_stop", {});
    res.end();
  }, WORKING_DIR_IN_REQUEST.anthropic);
}

function anthropicResultText(block: Json | undefined): string {
  const content = block?.["content"];
  const text =
    typeof content === "string"
      ? content
      : asArray(content)
          .map((c) => asRecord(c)?.["text"])
          .filter((t): t is string => typeof t === "string")
          .join("\n");
  return block?.["is_error"] === true ? `error: ${text}` : text;
}

// ---------------------------------------------------------------------------------------------------
// OpenAI Responses API (Codex CLI)

/**
 * Codex 0.169 posts to `<base_url>/responses` with `stream: true`, `input` (the conversation as items)
 * and `tools`; for a model it knows (gpt-5.5) `apply_patch` is a freeform `custom` tool taking a patch
 * in its own grammar. The call goes out as a `custom_tool_call` output item; its result comes back as a
 * `custom_tool_call_output` input item with our `call_id`.
 */
export function startResponsesServer(scenario: Scenario): Promise<ModelServer> {
  return startServer((request, res, server) => {
    const path = request.url.split("?")[0];
    if (request.method !== "POST" || path !== "/v1/responses") {
      sendJson(res, 404, {
        error: {
          message: `no route ${request.method} ${request.url}`,
          type: "invalid_request_error",
        },
      });
      return;
    }
    if (scenario.kind === "fail") {
      sendJson(res, scenario.status, {
        error: { message: scenario.message, type: "server_error", param: null, code: null },
      });
      return;
    }
    const body = asRecord(request.body) ?? {};
    const results = asArray(body["input"])
      .map(asRecord)
      .filter(
        (item) =>
          (item?.["type"] === "custom_tool_call_output" ||
            item?.["type"] === "function_call_output") &&
          item["call_id"] === CALL_ID,
      );
    const responseId = `resp_loopback_${server.requests.length}`;
    let item: Json;
    if (results.length > 0) {
      for (const result of results) server.toolResults.push(textOf(result?.["output"]));
      item = {
        type: "message",
        id: `msg_loopback_${server.requests.length}`,
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: scenario.finalText, annotations: [] }],
      };
    } else {
      const lines = scenario.content.replace(/\n$/, "").split("\n");
      const patch = [
        "*** Begin Patch",
        `*** Add File: ${scenario.file}`,
        ...lines.map((line) => `+${line}`),
        "*** End Patch",
        "",
      ].join("\n");
      item = {
        type: "custom_tool_call",
        id: `ctc_loopback_${server.requests.length}`,
        status: "completed",
        call_id: CALL_ID,
        name: "apply_patch",
        input: patch,
      };
    }
    startSse(res);
    let sequence = 0;
    const send = (type: string, data: Json) =>
      res.write(
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
      );
    const response = {
      id: responseId,
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      model: String(body["model"] ?? "gpt-test"),
      status: "in_progress",
      output: [] as Json[],
    };
    send("response.created", { response });
    send("response.in_progress", { response });
    const added =
      item["type"] === "message" ? { ...item, status: "in_progress", content: [] } : item;
    send("response.output_item.added", { output_index: 0, item: added });
    if (item["type"] === "message") {
      const part = { type: "output_text", text: "", annotations: [] };
      send("response.content_part.added", {
        item_id: item["id"],
        output_index: 0,
        content_index: 0,
        part,
      });
      send("response.output_text.delta", {
        item_id: item["id"],
        output_index: 0,
        content_index: 0,
        delta: scenario.finalText,
      });
      send("response.output_text.done", {
        item_id: item["id"],
        output_index: 0,
        content_index: 0,
        text: scenario.finalText,
      });
      send("response.content_part.done", {
        item_id: item["id"],
        output_index: 0,
        content_index: 0,
        part: { ...part, text: scenario.finalText },
      });
    }
    send("response.output_item.done", { output_index: 0, item });
    send("response.completed", {
      response: {
        ...response,
        status: "completed",
        output: [item],
        usage: {
          input_tokens: 120,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 30,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 150,
        },
      },
    });
    res.end();
  }, WORKING_DIR_IN_REQUEST.responses);
}

// ---------------------------------------------------------------------------------------------------
// Gemini API (Gemini CLI)

/**
 * Gemini CLI 0.61 posts to `/v1beta/models/MODEL:streamGenerateContent?alt=sse` with `contents` (the
 * conversation), `tools[].functionDeclarations` (`write_file` takes `file_path`, relative to its
 * workspace or absolute, and `content`) and `systemInstruction`. A call goes out as a `functionCall`
 * part; its result comes back as a `functionResponse` part of the same name in a user turn. Each SSE
 * event is one GenerateContentResponse.
 */
export function startGeminiServer(scenario: Scenario): Promise<ModelServer> {
  return startServer((request, res, server) => {
    const path = request.url.split("?")[0] ?? "";
    const match =
      /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/.exec(path);
    if (request.method !== "POST" || !match) {
      sendJson(res, 404, {
        error: {
          code: 404,
          message: `no route ${request.method} ${request.url}`,
          status: "NOT_FOUND",
        },
      });
      return;
    }
    if (scenario.kind === "fail") {
      sendJson(res, scenario.status, {
        error: {
          code: scenario.status,
          message: scenario.message,
          status: googleStatus(scenario.status),
        },
      });
      return;
    }
    const [, modelName, method] = match;
    if (method === "countTokens") {
      sendJson(res, 200, { totalTokens: 100 });
      return;
    }
    const body = asRecord(request.body) ?? {};
    const results = asArray(body["contents"])
      .flatMap((c) => asArray(asRecord(c)?.["parts"]))
      .map((p) => asRecord(asRecord(p)?.["functionResponse"]))
      .filter((r) => r !== undefined && r["name"] === "write_file");
    const offersWrite = asArray(body["tools"])
      .flatMap((t) => asArray(asRecord(t)?.["functionDeclarations"]))
      .some((d) => asRecord(d)?.["name"] === "write_file");
    let part: Json;
    if (results.length > 0 || !offersWrite) {
      for (const result of results) server.toolResults.push(textOf(result?.["response"]));
      part = { text: scenario.finalText };
    } else {
      part = {
        functionCall: {
          id: CALL_ID,
          name: "write_file",
          args: { file_path: scenario.file, content: scenario.content },
        },
      };
    }
    const chunk = {
      candidates: [{ content: { role: "model", parts: [part] }, finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 30, totalTokenCount: 150 },
      modelVersion: modelName,
      responseId: `loopback_${server.requests.length}`,
    };
    if (method === "generateContent") {
      sendJson(res, 200, chunk);
      return;
    }
    startSse(res);
    res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    res.end();
  }, WORKING_DIR_IN_REQUEST.gemini);
}

function googleStatus(status: number): string {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}
