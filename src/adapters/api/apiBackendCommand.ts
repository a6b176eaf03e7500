import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentCommand, AgentRequest } from "../../ports/agentBackend.ts";

/** The API agent script beside this module: .ts when running from src, .js from dist. */
export const API_AGENT_SCRIPT = fileURLToPath(
  new URL(`./apiAgentMain${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url),
);

/**
 * The command that runs the API agent for one request. The system prompt goes in a file in the scratch
 * directory (not argv, which is public in the process table); the key stays in the inherited
 * environment. The base dir is the scratch dir's grandparent (ContextManager: <base>/scratch/<agent>).
 */
export function apiAgentCommand(
  request: AgentRequest,
  provider: "anthropic" | "openai",
  extra: { model?: string; maxTurns?: number; env?: Record<string, string> },
): AgentCommand {
  const systemPromptFile = join(request.scratchDir, "system_prompt.md");
  writeFileSync(systemPromptFile, request.systemPrompt, { mode: 0o600 });
  const env: Record<string, string> = {
    ORCHESTRATE_API_PROVIDER: provider,
    ORCHESTRATE_API_SYSTEM_PROMPT_FILE: systemPromptFile,
    ORCHESTRATE_BASE_DIR: resolve(request.scratchDir, "..", ".."),
    ...extra.env,
  };
  const model = request.model ?? extra.model;
  if (model !== undefined && model !== "") env["ORCHESTRATE_API_MODEL"] = model;
  if (extra.maxTurns !== undefined) env["ORCHESTRATE_API_MAX_TURNS"] = String(extra.maxTurns);
  return { command: process.execPath, args: [API_AGENT_SCRIPT], env, stdin: request.prompt };
}
