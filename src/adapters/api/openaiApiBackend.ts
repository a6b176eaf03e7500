import type { AgentBackend } from "../../ports/agentBackend.ts";
import { makeClaudeParser } from "../backends/claudeBackend.ts";
import { API_AGENT_SCRIPT, apiAgentCommand } from "./apiBackendCommand.ts";

export interface OpenAiApiBackendOptions {
  /** Model for tasks that name none; default OPENAI_MODEL, else gpt-4o-mini. */
  model?: string;
  /** Endpoint base (sets OPENAI_BASE_URL for the agent); default the inherited one, else OpenAI's. */
  baseUrl?: string;
  /** Model turns before the agent gives up; default 20. */
  maxTurns?: number;
}

/**
 * API mode for an OpenAI-compatible chat-completions endpoint (OpenAI, or a local server such as
 * Ollama): configured by OPENAI_BASE_URL, OPENAI_API_KEY (optional for local servers) and OPENAI_MODEL.
 * Same agent script as anthropic-api, same stream-json output.
 */
export function makeOpenAiApiBackend(options: OpenAiApiBackendOptions = {}): AgentBackend {
  return {
    name: "openai-api",
    description: "OpenAI-compatible chat completions API (built-in agent)",
    availability: (env) =>
      env["OPENAI_API_KEY"] || env["OPENAI_BASE_URL"] || options.baseUrl
        ? { available: true, path: API_AGENT_SCRIPT }
        : {
            available: false,
            reason: "OPENAI_API_KEY is not set; set it (or OPENAI_BASE_URL for a local server)",
          },
    command: (request) =>
      apiAgentCommand(request, "openai", {
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.maxTurns === undefined ? {} : { maxTurns: options.maxTurns }),
        ...(options.baseUrl ? { env: { OPENAI_BASE_URL: options.baseUrl } } : {}),
      }),
    parser: makeClaudeParser,
  };
}
