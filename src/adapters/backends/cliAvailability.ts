import type { BackendAvailability } from "../../ports/agentBackend.ts";
import { findExecutable } from "./findExecutable.ts";

/** What a CLI backend needs to be found and, usually, to be authenticated. */
export interface CliRequirements {
  /** The program to look up on PATH (or a path to it). */
  binary: string;
  /** How to install it, shown when it is missing, e.g. `npm install -g @openai/codex`. */
  install: string;
  /** Environment variables any one of which authenticates the CLI. */
  keyVars: readonly string[];
  /** How the CLI can be authenticated without a key in the environment. */
  login: string;
}

/**
 * Availability of a CLI backend. Only a missing binary makes it unavailable: every agent CLI can also be
 * logged in through its own config (`claude /login`, `codex login`, gemini's OAuth), which we cannot see
 * without reading the user's home directory, so a missing key is reported as a note in `reason` while the
 * backend stays available. A backend that really is unauthenticated then fails its first task with the
 * CLI's own error, which the parser turns into a failed result.
 */
export function cliAvailability(
  requirements: CliRequirements,
  env: Readonly<Record<string, string | undefined>>,
): BackendAvailability {
  const path = findExecutable(requirements.binary, env["PATH"]);
  if (path === undefined) {
    return {
      available: false,
      reason: `${requirements.binary} not found on PATH: install it with \`${requirements.install}\``,
    };
  }
  const hasKey = requirements.keyVars.some((name) => (env[name] ?? "") !== "");
  if (hasKey) return { available: true, path };
  const vars = requirements.keyVars.join(" or ");
  return {
    available: true,
    path,
    reason: `${vars} not set: ${requirements.binary} must be logged in (${requirements.login})`,
  };
}
