import Anthropic from "@anthropic-ai/sdk";
import type { Llm, LlmRequest } from "../../ports/llm.ts";
import { DEFAULT_ANTHROPIC_MODEL } from "../api/apiModels.ts";
import { DEFAULT_OPENAI_BASE_URL, DEFAULT_OPENAI_MODEL } from "../api/providers.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** How long one planning request may take before the planner falls back. */
const REQUEST_TIMEOUT_MS = 180_000;

/**
 * The Anthropic Messages API as the planner's model (official SDK, streamed). ANTHROPIC_API_KEY and
 * ANTHROPIC_BASE_URL as for API agents; the model is ORCHESTRATE_PLANNER_MODEL, else
 * ORCHESTRATE_API_MODEL, else the API agents' default. The SDK retries 429/5xx twice itself.
 */
export function makeAnthropicLlm(env: Env): Llm {
  const model =
    env["ORCHESTRATE_PLANNER_MODEL"] || env["ORCHESTRATE_API_MODEL"] || DEFAULT_ANTHROPIC_MODEL;
  const key = env["ANTHROPIC_API_KEY"] ?? null;
  const baseURL = env["ANTHROPIC_BASE_URL"];
  const client = new Anthropic({
    apiKey: key,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 2,
    timeout: REQUEST_TIMEOUT_MS,
    // As for API agents: the documented x-api-key header, not the SDK's bearer default.
    ...(key ? { defaultHeaders: { "x-api-key": key, authorization: null } } : {}),
  });
  return {
    name: `anthropic-api:${model}`,
    async complete(request: LlmRequest) {
      const stream = client.messages.stream(
        {
          model,
          max_tokens: request.maxTokens ?? 4_000,
          system: request.system,
          messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        },
        request.signal ? { signal: request.signal } : {},
      );
      let message: Anthropic.Message;
      try {
        message = await stream.finalMessage();
      } catch (error) {
        throw new Error(apiErrorText(error));
      }
      return message.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    },
  };
}

/**
 * An OpenAI-compatible `/chat/completions` endpoint as the planner's model: OPENAI_BASE_URL,
 * OPENAI_API_KEY (optional for local servers), ORCHESTRATE_PLANNER_MODEL or OPENAI_MODEL.
 */
export function makeOpenAiLlm(env: Env): Llm {
  const model =
    env["ORCHESTRATE_PLANNER_MODEL"] ||
    env["ORCHESTRATE_API_MODEL"] ||
    env["OPENAI_MODEL"] ||
    DEFAULT_OPENAI_MODEL;
  const baseUrl = (env["OPENAI_BASE_URL"] || DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, "");
  const key = env["OPENAI_API_KEY"];
  return {
    name: `openai-api:${model}`,
    async complete(request: LlmRequest) {
      const signal = request.signal
        ? AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
        : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      let response: Response;
      try {
        response = await fetch(`${baseUrl}/chat/completions`, {
          method: "POST",
          signal,
          headers: {
            "content-type": "application/json",
            ...(key ? { authorization: `Bearer ${key}` } : {}),
          },
          body: JSON.stringify({
            model,
            max_tokens: request.maxTokens ?? 4_000,
            messages: [{ role: "system", content: request.system }, ...request.messages],
          }),
        });
      } catch (error) {
        throw new Error(`cannot reach ${baseUrl}: ${(error as Error).message}`);
      }
      const body = await response.text();
      if (!response.ok)
        throw new Error(`${baseUrl} answered ${response.status}: ${body.slice(0, 300)}`);
      const json = JSON.parse(body) as { choices?: { message?: { content?: string | null } }[] };
      return json.choices?.[0]?.message?.content ?? "";
    },
  };
}

function apiErrorText(error: unknown): string {
  if (error instanceof Anthropic.APIError) {
    return typeof error.status === "number" ? `${error.status} ${error.message}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
