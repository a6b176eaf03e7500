import type { AgentBackend, AgentEvent, OutputParser } from "../../ports/agentBackend.ts";
import { cliAvailability } from "./cliAvailability.ts";
import {
  arrayField,
  asObject,
  inputText,
  type JsonObject,
  numberField,
  objectField,
  parseJsonLine,
  stringField,
} from "./jsonLine.ts";

/** Options for the Claude Code backend. */
export interface ClaudeBackendOptions {
  /** The program to run; default `claude` from PATH. */
  binary?: string;
  /** Model for every task that names none (`--model`); default: the CLI's own default. */
  model?: string;
}

/**
 * The Claude Code CLI in print mode: `claude -p PROMPT --output-format stream-json --verbose
 * --dangerously-skip-permissions [--append-system-prompt SYSTEM] [--model M]`.
 *
 * `--append-system-prompt` keeps Claude Code's own system prompt (which teaches it its tools) and adds the
 * specialist's; it is left out when the system prompt is empty. The environment turns off the CLI's side
 * traffic (telemetry, update checks) and, when we run as root, sets `IS_SANDBOX=1`, without which
 * `--dangerously-skip-permissions` refuses to start as root.
 */
export function makeClaudeBackend(options: ClaudeBackendOptions = {}): AgentBackend {
  const binary = options.binary ?? "claude";
  return {
    name: "claude",
    description: `Claude Code CLI (${binary} -p, stream-json)`,
    availability: (env) =>
      cliAvailability(
        {
          binary,
          install: "npm install -g @anthropic-ai/claude-code",
          keyVars: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
          login: "run `claude` once and use /login",
        },
        env,
      ),
    command(request) {
      const args = [
        "-p",
        request.prompt,
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
      ];
      if (request.systemPrompt !== "") args.push("--append-system-prompt", request.systemPrompt);
      const model = request.model ?? options.model;
      if (model !== undefined && model !== "") args.push("--model", model);
      const env: Record<string, string> = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" };
      if (process.getuid?.() === 0) env["IS_SANDBOX"] = "1";
      return { command: binary, args, env };
    },
    parser: makeClaudeParser,
  };
}

/**
 * Parser for Claude Code's `--output-format stream-json` lines:
 * - `system/init` -> session (with model); `system/api_retry` -> retry; other system lines are ignored.
 * - `assistant` -> one text or tool_use event per content block (thinking blocks are skipped).
 * - `user` -> one tool_result per `tool_result` block.
 * - `result` -> usage, then result. Success needs `subtype: "success"` AND `is_error` not true: after
 *   exhausting its retries (bad key, unreachable server) Claude Code reports `subtype: "success"` with
 *   `is_error: true`, and that is a failure.
 *
 * Lines that are not JSON objects are ignored: in stream-json mode everything meaningful on stdout is
 * JSON, and stray lines (warnings, banners) must not leak into the agent's text. If stdout ends without a
 * result line (the CLI crashed or was killed), `end()` emits a failed result, so every run yields exactly
 * one result event.
 */
export function makeClaudeParser(): OutputParser {
  let sawResult = false;
  return {
    line(text) {
      const event = parseJsonLine(text);
      switch (stringField(event, "type")) {
        case "system":
          return systemEvents(event);
        case "assistant":
          return contentBlocks(event).flatMap(assistantBlock);
        case "user":
          return contentBlocks(event).flatMap(toolResultBlock);
        case "result":
          sawResult = true;
          return resultEvents(event);
        default:
          return [];
      }
    },
    end() {
      if (sawResult) return [];
      sawResult = true;
      return [{ type: "result", success: false, text: "claude ended without a result event" }];
    },
  };
}

function systemEvents(event: JsonObject | undefined): AgentEvent[] {
  const subtype = stringField(event, "subtype");
  if (subtype === "init") {
    const sessionId = stringField(event, "session_id");
    if (sessionId === undefined) return [];
    const model = stringField(event, "model");
    return [
      model === undefined ? { type: "session", sessionId } : { type: "session", sessionId, model },
    ];
  }
  if (subtype === "api_retry") return [{ type: "retry", message: retryMessage(event) }];
  return [];
}

/** "API request failed with status 401: ...; retrying (attempt 2/10) in 1200 ms", from what is present. */
function retryMessage(event: JsonObject | undefined): string {
  const status = numberField(event, "error_status");
  const error = stringField(event, "error");
  const attempt = numberField(event, "attempt");
  const maxRetries = numberField(event, "max_retries");
  const delayMs = numberField(event, "retry_delay_ms");
  let message = "API request failed";
  if (status !== undefined) message += ` with status ${status}`;
  if (error !== undefined && error !== "") message += `: ${error}`;
  message += "; retrying";
  if (attempt !== undefined) {
    message += ` (attempt ${attempt}${maxRetries === undefined ? "" : `/${maxRetries}`})`;
  }
  if (delayMs !== undefined) message += ` in ${Math.round(delayMs)} ms`;
  return message;
}

function contentBlocks(event: JsonObject | undefined): JsonObject[] {
  return arrayField(objectField(event, "message"), "content").flatMap((block) => {
    const object = asObject(block);
    return object === undefined ? [] : [object];
  });
}

function assistantBlock(block: JsonObject): AgentEvent[] {
  switch (stringField(block, "type")) {
    case "text": {
      const text = stringField(block, "text");
      return text === undefined || text === "" ? [] : [{ type: "text", text }];
    }
    case "tool_use": {
      const name = stringField(block, "name") ?? "tool";
      const input = inputText(block["input"]);
      return [input === undefined ? { type: "tool_use", name } : { type: "tool_use", name, input }];
    }
    default:
      return [];
  }
}

function toolResultBlock(block: JsonObject): AgentEvent[] {
  if (stringField(block, "type") !== "tool_result") return [];
  const isError = block["is_error"] === true;
  const text = toolResultText(block["content"]);
  return [
    text === undefined ? { type: "tool_result", isError } : { type: "tool_result", isError, text },
  ];
}

/** A tool result's content is a string or a list of blocks, of which only text blocks are kept. */
function toolResultText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.flatMap((block) => {
    const text = stringField(asObject(block), "text");
    return text === undefined ? [] : [text];
  });
  return texts.length > 0 ? texts.join("\n") : undefined;
}

function resultEvents(event: JsonObject | undefined): AgentEvent[] {
  const events: AgentEvent[] = [];
  const usage = claudeUsage(event);
  if (usage !== undefined) events.push(usage);
  const subtype = stringField(event, "subtype");
  const success = subtype === "success" && event?.["is_error"] !== true;
  events.push({ type: "result", success, text: resultText(event, subtype) });
  return events;
}

/**
 * Claude reports cache reads and writes apart from `input_tokens` (which is then often a handful); the
 * normalized `inputTokens` is their sum, so it means "input processed" as it does for the other CLIs.
 */
function claudeUsage(event: JsonObject | undefined): AgentEvent | undefined {
  const usage = objectField(event, "usage");
  const inputParts = ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
    .map((key) => numberField(usage, key))
    .filter((n) => n !== undefined);
  const inputTokens = inputParts.length > 0 ? inputParts.reduce((a, b) => a + b, 0) : undefined;
  const outputTokens = numberField(usage, "output_tokens");
  const costUsd = numberField(event, "total_cost_usd");
  if (inputTokens === undefined && outputTokens === undefined && costUsd === undefined) {
    return undefined;
  }
  return {
    type: "usage",
    ...(inputTokens === undefined ? {} : { inputTokens }),
    ...(outputTokens === undefined ? {} : { outputTokens }),
    ...(costUsd === undefined ? {} : { costUsd }),
  };
}

/** `result` when present; error subtypes carry an `errors` list instead, or nothing at all. */
function resultText(event: JsonObject | undefined, subtype: string | undefined): string {
  const result = stringField(event, "result");
  if (result !== undefined) return result;
  const errors = arrayField(event, "errors").filter((e): e is string => typeof e === "string");
  if (errors.length > 0) return errors.join("\n");
  return `claude ended with ${subtype ?? "an unknown result"}`;
}
