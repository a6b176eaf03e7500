import type { AgentOutcome } from "./agentSpawner.ts";
import type { AgentVerdict } from "./taskQueue.ts";

/**
 * What an agent's end means for its task. Success is the CLI's own final result saying so and exit
 * code 0 (the spawner's `success`); anything else is a failed attempt that may be retried, since a
 * timeout, a crash or a model error can go better the next time. What the agent reported (cost, tokens,
 * session id for a resume) is kept either way.
 */
export function verdictOf(outcome: AgentOutcome): AgentVerdict {
  const details = {
    costUsd: outcome.costUsd,
    inputTokens: outcome.inputTokens,
    outputTokens: outcome.outputTokens,
    sessionId: outcome.sessionId,
  };
  if (outcome.success) return { kind: "completed", output: outcome.text, details };
  return { kind: "failed", error: outcome.error ?? outcome.reason, retryable: true, details };
}
