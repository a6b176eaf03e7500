import { makeAnthropicApiBackend } from "../adapters/api/anthropicApiBackend.ts";
import { makeOpenAiApiBackend } from "../adapters/api/openaiApiBackend.ts";
import { makeBuiltinBackends, makeCustomBackend } from "../adapters/backends/index.ts";
import { makeSimulatedBackend } from "../adapters/backends/simulatedBackend.ts";
import type { AgentConfig } from "../core/agentConfig.ts";
import type { AgentBackend, BackendAvailability } from "../ports/agentBackend.ts";

/** The order in which installed CLIs are tried when neither the task nor `--backend` names one. */
export const BACKEND_ORDER = ["claude", "codex", "gemini"] as const;

/**
 * The backends this installation knows, by name: the agent CLIs, the API agents, the custom CLIs of
 * agents.json, and the simulated agent (chosen only when asked for by name: `submit --backend
 * simulated`, `run --backend simulated`, or the demo).
 */
export function backendRegistry(agentConfig?: AgentConfig): Map<string, AgentBackend> {
  const backends = makeBuiltinBackends();
  backends.set("simulated", makeSimulatedBackend());
  backends.set("anthropic-api", makeAnthropicApiBackend());
  backends.set("openai-api", makeOpenAiApiBackend());
  for (const cli of agentConfig?.customClis ?? []) backends.set(cli.name, makeCustomBackend(cli));
  return backends;
}

/** The order in which backends are tried for tasks that name none: the config's, else the built-in one. */
export function backendOrder(agentConfig: AgentConfig): string[] {
  return agentConfig.backendOrder ?? [...BACKEND_ORDER];
}

/** One backend as `agents --backends` lists it: whether it can run here, where, and why not. */
export interface BackendView extends BackendAvailability {
  name: string;
  description: string;
}

/** Every known backend, those of the try order first, with whether it can run in `env`. */
export function describeBackends(
  agentConfig: AgentConfig,
  env: Readonly<Record<string, string | undefined>>,
): BackendView[] {
  const backends = backendRegistry(agentConfig);
  const order = backendOrder(agentConfig);
  const names = [...order, ...[...backends.keys()].filter((n) => !order.includes(n))];
  return names.map((name) => {
    const backend = backends.get(name);
    const availability = backend?.availability(env) ?? { available: false, reason: "unknown" };
    return { name, description: backend?.description ?? "", ...availability };
  });
}

/** The backends of the try order that can run in `env`, in that order. */
export function installedBackends(
  agentConfig: AgentConfig,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const backends = backendRegistry(agentConfig);
  return backendOrder(agentConfig).filter((n) => backends.get(n)?.availability(env).available);
}
