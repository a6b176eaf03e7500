import { closestMatch } from "./closestMatch.ts";
import { UsageError } from "./errors.ts";

/**
 * Names of the built-in agent backends, kept here (not beside the adapters) so that `submit` can validate
 * `--backend` without loading the backends' code on every invocation.
 */
export const BUILTIN_BACKEND_NAMES = [
  "claude",
  "codex",
  "gemini",
  "simulated",
  "anthropic-api",
  "openai-api",
] as const;

/** Validates a backend name given by a user; suggests the closest on a typo. */
export function resolveBackendName(
  input: string,
  known: readonly string[] = BUILTIN_BACKEND_NAMES,
): string {
  const name = input.trim().toLowerCase();
  if (known.includes(name)) return name;
  const suggestion = closestMatch(name, known);
  throw new UsageError(
    `unknown backend '${input}'`,
    `${suggestion ? `did you mean '${suggestion}'? ` : ""}known backends: ${known.join(", ")}`,
  );
}
