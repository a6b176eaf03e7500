import type { AgentBackend } from "../../ports/agentBackend.ts";
import { makeClaudeParser } from "../backends/claudeBackend.ts";
import { API_AGENT_SCRIPT, apiAgentCommand } from "./apiBackendCommand.ts";
import { DEFAULT_ANTHROPIC_MODEL } from "./apiModels.ts";

export interface AnthropicApiBackendOptions {
  /** Model for tasks that name none; default claude-sonnet-4-5. */
  model?: string;
  /** API base URL (sets ANTHROPIC_BASE_URL for the agent); default the SDK's, or the inherited one. */
  baseUrl?: string;
  /** Model turns before the agent gives up; default 20. */
  maxTurns?: number;
}

/**
 * API mode for Anthropic: the agent is our own script (apiAgentMain) run as a child process, which calls
 * the Messages API with the official SDK and prints Claude Code stream-json, so it is supervised and
 * parsed exactly like the claude CLI. The key is the inherited ANTHROPIC_API_KEY.
 */
export function makeAnthropicApiBackend(options: AnthropicApiBackendOptions = {}): AgentBackend {
  return {
    name: "anthropic-api",
    description: `Anthropic Messages API (built-in agent, ${options.model ?? DEFAULT_ANTHROPIC_MODEL})`,
    availability: (env) =>
      env["ANTHROPIC_API_KEY"]
        ? { available: true, path: API_AGENT_SCRIPT }
        : { available: false, reason: "ANTHROPIC_API_KEY is not set; set it to use the API" },
    command: (request) =>
      apiAgentCommand(request, "anthropic", {
        model: options.model ?? DEFAULT_ANTHROPIC_MODEL,
        ...(options.maxTurns === undefined ? {} : { maxTurns: options.maxTurns }),
        ...(options.baseUrl ? { env: { ANTHROPIC_BASE_URL: options.baseUrl } } : {}),
      }),
    parser: makeClaudeParser,
  };
}
