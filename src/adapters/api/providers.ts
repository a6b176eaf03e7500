import Anthropic from "@anthropic-ai/sdk";
import { DEFAULT_ANTHROPIC_MODEL } from "./apiModels.ts";
import { TOOL_SPECS } from "./apiTools.ts";

export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";
const MAX_TOKENS = 8_192;

export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** One model reply: its text, the tools it asked for and the tokens it used. */
export interface TurnReply {
  text: string;
  toolCalls: ToolCall[];
  inputTokens: number;
  outputTokens: number;
}

/** One conversation with one provider; `turn` sends it as it stands and appends the reply. */
export interface ApiProvider {
  readonly model: string;
  turn(): Promise<TurnReply>;
  addToolResults(results: { id: string; isError: boolean; text: string }[]): void;
}

interface ProviderInput {
  env: Readonly<Record<string, string | undefined>>;
  systemPrompt: string;
  prompt: string;
}

/** A failed request, normalized: its HTTP status, whether to retry, and the server's retry-after. */
export class ApiRequestError extends Error {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, status?: number, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }

  /** 429 (rate limited), 529 (overloaded), other 5xx and lost connections are worth another try. */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }

  static from(error: unknown): ApiRequestError {
    if (error instanceof ApiRequestError) return error;
    if (error instanceof Anthropic.APIError) {
      return new ApiRequestError(
        error.message,
        typeof error.status === "number" ? error.status : undefined,
        retryAfterMs(error.headers?.get("retry-after") ?? null),
      );
    }
    return new ApiRequestError(error instanceof Error ? error.message : String(error));
  }
}

/** `retry-after` as seconds or an HTTP date, capped at a minute. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 60_000) : undefined;
}

/**
 * Anthropic's Messages API through the official SDK, streamed. The SDK's own retries are off
 * (maxRetries 0): the agent retries itself so that every try passes the shared rate limiter and shows
 * as a retry event. The key and base URL come from ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.
 */
export function makeAnthropicProvider(input: ProviderInput): ApiProvider {
  const model = input.env["ORCHESTRATE_API_MODEL"] || DEFAULT_ANTHROPIC_MODEL;
  const baseURL = input.env["ANTHROPIC_BASE_URL"];
  const key = input.env["ANTHROPIC_API_KEY"] ?? null;
  // This SDK release sends an apiKey as `Authorization: Bearer`; the Messages API's documented header is
  // x-api-key, so the key goes there and the bearer header is dropped (default headers win).
  const client = new Anthropic({
    apiKey: key,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 0,
    ...(key ? { defaultHeaders: { "x-api-key": key, authorization: null } } : {}),
  });
  const messages: Anthropic.MessageParam[] = [{ role: "user", content: input.prompt }];
  const tools: Anthropic.Tool[] = TOOL_SPECS.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.inputSchema,
  }));
  return {
    model,
    async turn() {
      const stream = client.messages.stream({
        model,
        max_tokens: MAX_TOKENS,
        messages,
        tools,
        ...(input.systemPrompt !== "" ? { system: input.systemPrompt } : {}),
      });
      const message = await stream.finalMessage();
      messages.push({ role: "assistant", content: message.content });
      const text = message.content
        .flatMap((block) => (block.type === "text" ? [block.text] : []))
        .join("");
      const toolCalls = message.content.flatMap((block) =>
        block.type === "tool_use" ? [{ id: block.id, name: block.name, input: block.input }] : [],
      );
      return {
        text,
        toolCalls,
        inputTokens: message.usage.input_tokens,
        outputTokens: message.usage.output_tokens,
      };
    },
    addToolResults(results) {
      messages.push({
        role: "user",
        content: results.map((r) => ({
          type: "tool_result",
          tool_use_id: r.id,
          content: r.text,
          is_error: r.isError,
        })),
      });
    },
  };
}

type ChatMessage = Record<string, unknown>;

/**
 * An OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, LM Studio…) over fetch, with
 * function tools. OPENAI_BASE_URL (default https://api.openai.com/v1), OPENAI_API_KEY (optional for
 * local servers), OPENAI_MODEL.
 */
export function makeOpenAiProvider(input: ProviderInput): ApiProvider {
  const model =
    input.env["ORCHESTRATE_API_MODEL"] || input.env["OPENAI_MODEL"] || DEFAULT_OPENAI_MODEL;
  const baseUrl = (input.env["OPENAI_BASE_URL"] || DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, "");
  const key = input.env["OPENAI_API_KEY"];
  const messages: ChatMessage[] = [];
  if (input.systemPrompt !== "") messages.push({ role: "system", content: input.systemPrompt });
  messages.push({ role: "user", content: input.prompt });
  const tools = TOOL_SPECS.map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: t.inputSchema },
  }));
  return {
    model,
    async turn() {
      let response: Response;
      try {
        response = await fetch(`${baseUrl}/chat/completions`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(key ? { authorization: `Bearer ${key}` } : {}),
          },
          body: JSON.stringify({ model, messages, tools, max_tokens: MAX_TOKENS }),
        });
      } catch (error) {
        throw new ApiRequestError(
          `cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const body = await response.text();
      if (!response.ok) {
        throw new ApiRequestError(
          `${response.status} ${body.slice(0, 500)}`,
          response.status,
          retryAfterMs(response.headers.get("retry-after")),
        );
      }
      const json = JSON.parse(body) as {
        choices?: { message?: ChatMessage & { content?: string | null; tool_calls?: unknown } }[];
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      };
      const message = json.choices?.[0]?.message;
      if (!message) throw new ApiRequestError("the response has no choices", response.status);
      messages.push({ ...message, role: "assistant" });
      const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
      const toolCalls = calls.map((call: { id?: string; function?: Record<string, unknown> }) => {
        const raw = call.function?.["arguments"];
        let parsed: unknown = {};
        try {
          parsed = typeof raw === "string" && raw !== "" ? JSON.parse(raw) : (raw ?? {});
        } catch {
          parsed = { _unparsed: raw };
        }
        return {
          id: String(call.id ?? ""),
          name: String(call.function?.["name"] ?? ""),
          input: parsed,
        };
      });
      return {
        text: typeof message.content === "string" ? message.content : "",
        toolCalls,
        inputTokens: json.usage?.prompt_tokens ?? 0,
        outputTokens: json.usage?.completion_tokens ?? 0,
      };
    },
    addToolResults(results) {
      for (const r of results) {
        messages.push({
          role: "tool",
          tool_call_id: r.id,
          content: r.isError ? `ERROR: ${r.text}` : r.text,
        });
      }
    },
  };
}
