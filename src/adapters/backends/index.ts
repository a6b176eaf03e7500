import type { AgentBackend } from "../../ports/agentBackend.ts";
import { type ClaudeBackendOptions, makeClaudeBackend } from "./claudeBackend.ts";
import { type CodexBackendOptions, makeCodexBackend } from "./codexBackend.ts";
import { type GeminiBackendOptions, makeGeminiBackend } from "./geminiBackend.ts";

export { makeClaudeBackend, makeClaudeParser } from "./claudeBackend.ts";
export { makeCodexBackend, makeCodexParser } from "./codexBackend.ts";
export { type CustomBackendSpec, makeCustomBackend } from "./customBackend.ts";
export { findExecutable } from "./findExecutable.ts";
export { makeGeminiBackend, makeGeminiParser } from "./geminiBackend.ts";
export { makeTextParser } from "./textParser.ts";

/** Per-CLI options for the built-in backends (binary and default model). */
export interface BuiltinBackendOptions {
  claude?: ClaudeBackendOptions;
  codex?: CodexBackendOptions;
  gemini?: GeminiBackendOptions;
}

/**
 * The three built-in CLI backends, keyed by their registry names `claude`, `codex` and `gemini`. A fresh,
 * mutable map each call, so a caller can add custom (or test) backends to its own registry.
 */
export function makeBuiltinBackends(
  options: BuiltinBackendOptions = {},
): Map<string, AgentBackend> {
  return new Map<string, AgentBackend>([
    ["claude", makeClaudeBackend(options.claude)],
    ["codex", makeCodexBackend(options.codex)],
    ["gemini", makeGeminiBackend(options.gemini)],
  ]);
}
