import { randomUUID } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AgentBackend, AgentEvent, OutputParser } from "../../ports/agentBackend.ts";
import { cliAvailability } from "./cliAvailability.ts";
import { inputText, numberField, objectField, parseJsonLine, stringField } from "./jsonLine.ts";
import { makeTailText } from "./tailText.ts";

/** Options for the Gemini backend. */
export interface GeminiBackendOptions {
  /** The program to run; default `gemini` from PATH. */
  binary?: string;
  /** Model for every task that names none (`-m`); default {@link DEFAULT_GEMINI_MODEL}. */
  model?: string;
}

/** The model used when neither the task nor the backend options name one. */
export const DEFAULT_GEMINI_MODEL = "gemini-2.5-pro";

/** File name of the system prompt written into the request's scratch directory. */
export const GEMINI_SYSTEM_FILE = "gemini-system.md";

/**
 * Gemini CLI's system prompt is *replaced* (not extended) by the file in `GEMINI_SYSTEM_MD`, which also
 * removes its description of its own tools; this note keeps the agent acting rather than only describing.
 */
const TOOLS_NOTE = `You are running inside the Gemini CLI, non-interactively, with its own tools available: reading,
writing and editing files, running shell commands, and searching. Use them to do the work in the current
working directory instead of only describing it; nobody will answer questions while you work.`;

/**
 * The Gemini CLI headless: `gemini -p PROMPT -m MODEL --output-format stream-json -y --skip-trust`.
 *
 * `-y` approves every tool call, and `--skip-trust` (with `GEMINI_CLI_TRUST_WORKSPACE=true`) stops an
 * untrusted folder from silently downgrading it. `GEMINI_CLI_NO_RELAUNCH=true` keeps the CLI from
 * relaunching itself when its parent ignores signals. Gemini has no append-system-prompt flag, so
 * `command()` writes the specialist prompt plus a note on the CLI's tools to `gemini-system.md` in the
 * request's scratch directory (atomically, temp file then rename) and points `GEMINI_SYSTEM_MD` at it.
 */
export function makeGeminiBackend(options: GeminiBackendOptions = {}): AgentBackend {
  const binary = options.binary ?? "gemini";
  return {
    name: "gemini",
    description: `Gemini CLI (${binary} -p, stream-json)`,
    availability: (env) =>
      cliAvailability(
        {
          binary,
          install: "npm install -g @google/gemini-cli",
          keyVars: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
          login: "run `gemini` once and sign in with Google",
        },
        env,
      ),
    command(request) {
      const systemFile = writeSystemFile(request.scratchDir, request.systemPrompt);
      const model = request.model ?? options.model ?? DEFAULT_GEMINI_MODEL;
      return {
        command: binary,
        args: [
          "-p",
          request.prompt,
          "-m",
          model,
          "--output-format",
          "stream-json",
          "-y",
          "--skip-trust",
        ],
        env: {
          GEMINI_CLI_NO_RELAUNCH: "true",
          GEMINI_CLI_TRUST_WORKSPACE: "true",
          GEMINI_SYSTEM_MD: systemFile,
        },
      };
    },
    parser: makeGeminiParser,
  };
}

/** Writes the system prompt file and returns its absolute path (the CLI may run in another cwd). */
function writeSystemFile(scratchDir: string, systemPrompt: string): string {
  const dir = resolve(scratchDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, GEMINI_SYSTEM_FILE);
  const temp = `${file}.${randomUUID()}.tmp`;
  const content =
    systemPrompt.trim() === "" ? `${TOOLS_NOTE}\n` : `${systemPrompt}\n\n${TOOLS_NOTE}\n`;
  writeFileSync(temp, content, { mode: 0o600 });
  renameSync(temp, file);
  return file;
}

/**
 * Parser for Gemini CLI's `--output-format stream-json` lines:
 * - `init` -> session (with model).
 * - `message` with role `assistant` -> text; the chunks (`delta: true`) are concatenated into the result
 *   text, with a blank line between the stretches of text that tool calls separate. User messages are
 *   skipped.
 * - `tool_use` -> tool_use (name, parameters as JSON); `tool_result` -> tool_result (`status !== "success"`
 *   is an error; text is the output or the error message).
 * - `error` -> error (warnings are prefixed with `warning:`); the run's outcome is still the result line.
 * - `result` -> usage from `stats.input_tokens` / `stats.output_tokens`, then result with
 *   `success = status === "success"`; a failed result's text is its error message when it has one.
 * Non-JSON lines are ignored. If stdout ends without a result line, `end()` emits a failed result, so
 * every run yields exactly one result event. The collected text is bounded (see `tailText.ts`).
 */
export function makeGeminiParser(): OutputParser {
  const collected = makeTailText();
  let hasText = false;
  let toolSinceText = false;
  let sawResult = false;
  return {
    line(text) {
      const event = parseJsonLine(text);
      switch (stringField(event, "type")) {
        case "init": {
          const sessionId = stringField(event, "session_id");
          if (sessionId === undefined) return [];
          const model = stringField(event, "model");
          return [
            model === undefined
              ? { type: "session", sessionId }
              : { type: "session", sessionId, model },
          ];
        }
        case "message": {
          if (stringField(event, "role") !== "assistant") return [];
          const content = stringField(event, "content");
          if (content === undefined || content === "") return [];
          if (hasText && toolSinceText) collected.append("\n\n");
          collected.append(content);
          hasText = true;
          toolSinceText = false;
          return [{ type: "text", text: content }];
        }
        case "tool_use": {
          toolSinceText = true;
          const name = stringField(event, "tool_name") ?? "tool";
          const input = inputText(event?.["parameters"]);
          return [
            input === undefined ? { type: "tool_use", name } : { type: "tool_use", name, input },
          ];
        }
        case "tool_result": {
          toolSinceText = true;
          const isError = stringField(event, "status") !== "success";
          const output =
            stringField(event, "output") ?? stringField(objectField(event, "error"), "message");
          return [
            output === undefined || output === ""
              ? { type: "tool_result", isError }
              : { type: "tool_result", isError, text: output },
          ];
        }
        case "error": {
          const message = stringField(event, "message") ?? "gemini reported an error";
          const warning = stringField(event, "severity") === "warning";
          return [{ type: "error", message: warning ? `warning: ${message}` : message }];
        }
        case "result": {
          sawResult = true;
          const events: AgentEvent[] = [];
          const stats = objectField(event, "stats");
          const inputTokens = numberField(stats, "input_tokens");
          const outputTokens = numberField(stats, "output_tokens");
          if (inputTokens !== undefined || outputTokens !== undefined) {
            events.push({
              type: "usage",
              ...(inputTokens === undefined ? {} : { inputTokens }),
              ...(outputTokens === undefined ? {} : { outputTokens }),
            });
          }
          const status = stringField(event, "status");
          const success = status === "success";
          const errorMessage = stringField(objectField(event, "error"), "message");
          const resultText = success
            ? collected.text()
            : (errorMessage ?? `gemini ended with status ${status ?? "unknown"}`);
          events.push({ type: "result", success, text: resultText });
          return events;
        }
        default:
          return [];
      }
    },
    end() {
      if (sawResult) return [];
      sawResult = true;
      return [{ type: "result", success: false, text: "gemini ended without a result event" }];
    },
  };
}
