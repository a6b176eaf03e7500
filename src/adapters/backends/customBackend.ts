import type { AgentBackend, OutputParser } from "../../ports/agentBackend.ts";
import { makeClaudeParser } from "./claudeBackend.ts";
import { makeCodexParser } from "./codexBackend.ts";
import { findExecutable } from "./findExecutable.ts";
import { makeGeminiParser } from "./geminiBackend.ts";
import { makeTextParser } from "./textParser.ts";

/** How a custom CLI's stdout is read: plain text, or the structured format of one of the built-in CLIs. */
export type CustomOutputFormat = "text" | "claude" | "codex" | "gemini";

/** A user-declared agent CLI (from the config file). */
export interface CustomBackendSpec {
  /** Registry name, used by tasks and shown by `orchestrate agents --backends`. */
  name: string;
  /** The program to run: a name looked up on PATH, or a path. */
  binary: string;
  /**
   * Arguments, in which `{prompt}` and `{system}` are replaced by the prompt and the system prompt, also
   * inside a longer argument (`--system={system}`). Each stays one argv entry: nothing goes through a shell.
   */
  args: string[];
  /** Default per-attempt time limit for tasks that set none. */
  timeoutMs?: number;
  /**
   * `arg`: the prompt is substituted for `{prompt}`, or appended as the last argument when no argument
   * holds the placeholder. `stdin`: the prompt is written to the CLI's stdin, which is then closed.
   * Default: `arg` when some argument holds `{prompt}`, else `stdin`.
   */
  promptVia?: "arg" | "stdin";
  /** Default `text`. */
  outputFormat?: CustomOutputFormat;
}

const PARSERS: Record<CustomOutputFormat, () => OutputParser> = {
  text: makeTextParser,
  claude: makeClaudeParser,
  codex: makeCodexParser,
  gemini: makeGeminiParser,
};

/**
 * A backend for any agent CLI the user declares, so a new tool (or a wrapper script around one) can be
 * used without changing the package. It adds no environment; the model is not passed, since there is no
 * common flag for it (put it in `args`).
 */
export function makeCustomBackend(spec: CustomBackendSpec): AgentBackend {
  const outputFormat = spec.outputFormat ?? "text";
  const hasPromptPlaceholder = spec.args.some((arg) => arg.includes("{prompt}"));
  const promptVia = spec.promptVia ?? (hasPromptPlaceholder ? "arg" : "stdin");
  return {
    name: spec.name,
    description: `custom: ${[spec.binary, ...spec.args].join(" ")} (output: ${outputFormat}, prompt via ${promptVia})`,
    ...(spec.timeoutMs === undefined ? {} : { defaultTimeoutMs: spec.timeoutMs }),
    availability(env) {
      const path = findExecutable(spec.binary, env["PATH"]);
      return path === undefined
        ? {
            available: false,
            reason: `${spec.binary} not found on PATH: install it or set the binary of custom backend "${spec.name}" to its full path`,
          }
        : { available: true, path };
    },
    command(request) {
      // One pass over each argument, so a prompt that itself contains "{system}" is left alone.
      const args = spec.args.map((arg) =>
        arg.replace(/\{(prompt|system)\}/g, (_match, key: string) =>
          key === "prompt" ? request.prompt : request.systemPrompt,
        ),
      );
      if (promptVia === "arg" && !hasPromptPlaceholder) args.push(request.prompt);
      return {
        command: spec.binary,
        args,
        env: {},
        ...(promptVia === "stdin" ? { stdin: request.prompt } : {}),
      };
    },
    parser: PARSERS[outputFormat],
  };
}
