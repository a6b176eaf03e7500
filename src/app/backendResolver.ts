import type { BackendResolver } from "../core/agentAssignment.ts";
import type { AgentConfig } from "../core/agentConfig.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import type { AgentBackend } from "../ports/agentBackend.ts";
import { backendOrder } from "./backendRegistry.ts";

/**
 * Chooses a backend for a task: the task's own (`submit --backend`), else `--backend`, else its type's
 * (agents.json), else the first installed in the configured order. Throws a ConfigError naming what to
 * install when none is usable.
 */
export function makeResolver(
  backends: ReadonlyMap<string, AgentBackend>,
  forced: string | undefined,
  environment: Readonly<Record<string, string | undefined>>,
  agentConfig: AgentConfig,
  options: { preferApi?: boolean } = {},
): BackendResolver {
  const usable = (name: string) => {
    const backend = backends.get(name);
    if (!backend)
      throw new UsageError(
        `unknown backend '${name}'`,
        `use one of ${[...backends.keys()].join(", ")}`,
      );
    const availability = backend.availability(environment);
    if (!availability.available) {
      throw new ConfigError(
        `backend '${name}' cannot run here: ${availability.reason ?? "unavailable"}`,
      );
    }
    return backend;
  };
  if (forced) usable(forced);
  // USE_API_MODE=true: the Anthropic API agent first, then the configured order.
  const order = backendOrder(agentConfig);
  const fallback = (
    options.preferApi ? ["anthropic-api", ...order.filter((n) => n !== "anthropic-api")] : order
  )
    .map((n) => backends.get(n))
    .find((b) => b?.availability(environment).available);
  const noCli = () =>
    options.preferApi
      ? new ConfigError(
          "USE_API_MODE is true but ANTHROPIC_API_KEY is not set, and no agent CLI is installed",
          "set ANTHROPIC_API_KEY (in the environment or .env), or install an agent CLI",
        )
      : new ConfigError(
          "no agent CLI is installed: none of claude, codex or gemini is on PATH",
          "install one (npm install -g @anthropic-ai/claude-code, @openai/codex or @google/gemini-cli), set ANTHROPIC_API_KEY and USE_API_MODE=true, or try 'orchestrate demo'",
        );
  const resolver: BackendResolver = (task, agentType) => {
    const name =
      task.backend ?? forced ?? agentConfig.typeBackends.get(agentType) ?? fallback?.name;
    if (!name) throw noCli();
    return usable(name);
  };
  // Refuse up front, before any task is claimed, when a waiting task would need a CLI that is missing:
  // failing those tasks one by one would only make the user retry them after installing one.
  resolver.check = async (queue) => {
    if (forced || fallback) return;
    const pending = await queue.list({ status: "pending", limit: 1_000 });
    if (pending.some((t) => t.backend === null)) throw noCli();
  };
  return resolver;
}
