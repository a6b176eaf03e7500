import { findExecutable } from "../adapters/backends/findExecutable.ts";
import { UsageError } from "../core/errors.ts";
import type { Llm } from "../ports/llm.ts";

/** Names `--planner` accepts. */
export const PLANNER_NAMES = [
  "auto",
  "heuristic",
  "anthropic-api",
  "openai-api",
  "claude",
] as const;
export type PlannerName = (typeof PLANNER_NAMES)[number];

/**
 * The model the planner talks to. `auto` (the default) takes the first that is configured:
 * ANTHROPIC_API_KEY -> the Anthropic API; OPENAI_API_KEY or OPENAI_BASE_URL -> the OpenAI-compatible
 * endpoint; a `claude` CLI on PATH -> Claude Code headless; else none (the heuristic decomposer).
 * Naming one that is not configured is an error that says what to set.
 */
export async function selectLlm(
  requested: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Llm | null> {
  const name = requested.trim().toLowerCase();
  if (!(PLANNER_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(
      `unknown planner '${requested}'`,
      `use one of ${PLANNER_NAMES.join(", ")}`,
    );
  }
  const has = (key: string) => (env[key] ?? "") !== "";
  const claude = () => findExecutable("claude", env["PATH"]);
  switch (name as PlannerName) {
    case "heuristic":
      return null;
    case "anthropic-api":
      if (!has("ANTHROPIC_API_KEY")) {
        throw new UsageError(
          "--planner anthropic-api needs ANTHROPIC_API_KEY",
          "set it in the environment or in .env",
        );
      }
      return (await import("../adapters/llm/apiLlms.ts")).makeAnthropicLlm(env);
    case "openai-api":
      if (!has("OPENAI_API_KEY") && !has("OPENAI_BASE_URL")) {
        throw new UsageError(
          "--planner openai-api needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)",
          "set it in the environment or in .env",
        );
      }
      return (await import("../adapters/llm/apiLlms.ts")).makeOpenAiLlm(env);
    case "claude": {
      const path = claude();
      if (!path)
        throw new UsageError(
          "--planner claude: the claude CLI is not on PATH",
          "npm install -g @anthropic-ai/claude-code",
        );
      return (await import("../adapters/llm/claudeCliLlm.ts")).makeClaudeCliLlm(path, cwd, env);
    }
    case "auto": {
      if (has("ANTHROPIC_API_KEY"))
        return (await import("../adapters/llm/apiLlms.ts")).makeAnthropicLlm(env);
      if (has("OPENAI_API_KEY") || has("OPENAI_BASE_URL")) {
        return (await import("../adapters/llm/apiLlms.ts")).makeOpenAiLlm(env);
      }
      const path = claude();
      return path
        ? (await import("../adapters/llm/claudeCliLlm.ts")).makeClaudeCliLlm(path, cwd, env)
        : null;
    }
  }
}
