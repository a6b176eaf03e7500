import { fileURLToPath } from "node:url";
import type { AgentBackend } from "../../ports/agentBackend.ts";
import { makeClaudeParser } from "./claudeBackend.ts";

/**
 * The built-in simulated agent, for `orchestrate demo` on a machine with no agent CLI and no API key.
 * It is a real child process supervised like any agent, speaking Claude Code's stream-json format; it
 * does no AI work: it reads its prompt, writes a small artifact and reports what context it was given.
 * Everything it writes says SIMULATED, so nobody mistakes it for a real agent's work.
 */
export function makeSimulatedBackend(options: { delayMs?: number } = {}): AgentBackend {
  const script = fileURLToPath(
    new URL(
      `./simulatedAgentMain${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
      import.meta.url,
    ),
  );
  return {
    name: "simulated",
    description: "built-in simulated agent (no AI; for the demo)",
    availability: () => ({ available: true, path: script }),
    command: (request) => ({
      command: process.execPath,
      args: [script],
      env: { ORCHESTRATE_SIMULATED_DELAY_MS: String(options.delayMs ?? 1200) },
      stdin: request.prompt,
    }),
    parser: makeClaudeParser,
    defaultTimeoutMs: 60_000,
  };
}
