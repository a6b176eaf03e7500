import type { AgentBackend, AgentEvent, OutputParser } from "../../ports/agentBackend.ts";
import { cliAvailability } from "./cliAvailability.ts";
import {
  arrayField,
  asObject,
  inputText,
  type JsonObject,
  numberField,
  objectField,
  parseJsonLine,
  stringField,
} from "./jsonLine.ts";

/** Options for the Codex backend. */
export interface CodexBackendOptions {
  /** The program to run; default `codex` from PATH. */
  binary?: string;
  /** Model for every task that names none (`-m`); default: the CLI's configured model. */
  model?: string;
}

/**
 * The Codex CLI non-interactively: `codex exec --json --skip-git-repo-check
 * --dangerously-bypass-approvals-and-sandbox [-m MODEL] [-c developer_instructions=SYSTEM] PROMPT`.
 *
 * `--skip-git-repo-check` because a task's directory need not be a git repository; the bypass flag
 * because nobody is there to approve commands (approval flags after `exec` are rejected by 0.169). The
 * system prompt goes in as a config override, whose value Codex parses as TOML: it is passed as a TOML
 * basic string (see {@link tomlString}) so quotes and newlines in it survive. No environment is added:
 * Codex reads its key from the inherited `OPENAI_API_KEY` or its own login.
 */
export function makeCodexBackend(options: CodexBackendOptions = {}): AgentBackend {
  const binary = options.binary ?? "codex";
  return {
    name: "codex",
    description: `Codex CLI (${binary} exec --json)`,
    availability: (env) =>
      cliAvailability(
        {
          binary,
          install: "npm install -g @openai/codex",
          keyVars: ["OPENAI_API_KEY", "CODEX_API_KEY"],
          login: "run `codex login`",
        },
        env,
      ),
    command(request) {
      const args = [
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
      ];
      const model = request.model ?? options.model;
      if (model !== undefined && model !== "") args.push("-m", model);
      if (request.systemPrompt !== "") {
        args.push("-c", `developer_instructions=${tomlString(request.systemPrompt)}`);
      }
      args.push(request.prompt);
      return { command: binary, args, env: {} };
    },
    parser: makeCodexParser,
  };
}

/**
 * `text` as a TOML basic string. A JSON string literal is one, except that TOML also forbids a raw DEL
 * character and escaped lone surrogates, which JSON allows; those two are fixed up here.
 */
export function tomlString(text: string): string {
  return JSON.stringify(text.toWellFormed()).replaceAll("\u007f", "\\u007F");
}

/**
 * Parser for `codex exec --json` (JSONL thread events):
 * - `thread.started` -> session (the thread id, which `codex exec resume` takes).
 * - `item.completed` `agent_message` -> text; the last one is the run's result text.
 * - `command_execution` -> tool_use `shell` with the command (when the item starts, or at completion if
 *   its start was not seen) and, at completion, tool_result with `isError = exit_code !== 0` and the output.
 * - `file_change` -> tool_use `file_change` listing `kind path` per change (plus a failed tool_result when
 *   the patch failed); `mcp_tool_call` and `web_search` -> tool_use too. Reasoning and todo items are skipped.
 * - `turn.completed` -> usage, then a successful result with the last agent message.
 * - `turn.failed` -> error, then a failed result with its message.
 * - top-level `error` -> retry when it is Codex's "Reconnecting..." notice, else error. It does not end
 *   the run by itself: Codex follows a fatal error with `turn.failed`, and if the stream simply stops,
 *   `end()` emits a failed result carrying the last error message.
 * Non-JSON lines are ignored. Every run yields exactly one result event.
 */
export function makeCodexParser(): OutputParser {
  let lastMessage = "";
  let lastError: string | undefined;
  let sawResult = false;
  const startedTools = new Set<string>();

  function toolUse(item: JsonObject, name: string, input: string | undefined): AgentEvent[] {
    const id = stringField(item, "id");
    if (id !== undefined) {
      if (startedTools.has(id)) return [];
      startedTools.add(id);
    }
    return [input === undefined ? { type: "tool_use", name } : { type: "tool_use", name, input }];
  }

  function itemStarted(item: JsonObject): AgentEvent[] {
    switch (stringField(item, "type")) {
      case "command_execution":
        return toolUse(item, "shell", stringField(item, "command"));
      case "mcp_tool_call":
        return toolUse(item, mcpToolName(item), inputText(item["arguments"]));
      default:
        return [];
    }
  }

  function itemCompleted(item: JsonObject): AgentEvent[] {
    switch (stringField(item, "type")) {
      case "agent_message": {
        const text = stringField(item, "text");
        if (text === undefined) return [];
        lastMessage = text;
        return text === "" ? [] : [{ type: "text", text }];
      }
      case "command_execution": {
        const output = stringField(item, "aggregated_output");
        const isError = item["exit_code"] !== 0;
        return [
          ...toolUse(item, "shell", stringField(item, "command")),
          output === undefined || output === ""
            ? { type: "tool_result", isError }
            : { type: "tool_result", isError, text: output },
        ];
      }
      case "file_change": {
        const events = toolUse(item, "file_change", fileChanges(item));
        if (stringField(item, "status") === "failed")
          events.push({ type: "tool_result", isError: true });
        return events;
      }
      case "mcp_tool_call": {
        const failed = stringField(item, "status") === "failed" || item["error"] != null;
        return [
          ...toolUse(item, mcpToolName(item), inputText(item["arguments"])),
          { type: "tool_result", isError: failed },
        ];
      }
      case "web_search":
        return toolUse(item, "web_search", stringField(item, "query"));
      default:
        return [];
    }
  }

  return {
    line(text) {
      const event = parseJsonLine(text);
      switch (stringField(event, "type")) {
        case "thread.started": {
          const sessionId = stringField(event, "thread_id");
          return sessionId === undefined ? [] : [{ type: "session", sessionId }];
        }
        case "item.started": {
          const item = objectField(event, "item");
          return item === undefined ? [] : itemStarted(item);
        }
        case "item.completed": {
          const item = objectField(event, "item");
          return item === undefined ? [] : itemCompleted(item);
        }
        case "turn.completed": {
          sawResult = true;
          const usage = objectField(event, "usage");
          const inputTokens = numberField(usage, "input_tokens");
          const outputTokens = numberField(usage, "output_tokens");
          const events: AgentEvent[] = [];
          if (inputTokens !== undefined || outputTokens !== undefined) {
            events.push({
              type: "usage",
              ...(inputTokens === undefined ? {} : { inputTokens }),
              ...(outputTokens === undefined ? {} : { outputTokens }),
            });
          }
          events.push({ type: "result", success: true, text: lastMessage });
          return events;
        }
        case "turn.failed": {
          sawResult = true;
          const message =
            stringField(objectField(event, "error"), "message") ?? lastError ?? "codex turn failed";
          return [
            { type: "error", message },
            { type: "result", success: false, text: message },
          ];
        }
        case "error": {
          const message = stringField(event, "message") ?? "codex reported an error";
          if (/^reconnecting\b/i.test(message)) return [{ type: "retry", message }];
          lastError = message;
          return [{ type: "error", message }];
        }
        default:
          return [];
      }
    },
    end() {
      if (sawResult) return [];
      sawResult = true;
      const text = lastError ?? "codex ended without turn.completed";
      return [{ type: "result", success: false, text }];
    },
  };
}

function mcpToolName(item: JsonObject): string {
  const server = stringField(item, "server");
  const tool = stringField(item, "tool") ?? "mcp_tool";
  return server === undefined ? tool : `${server}.${tool}`;
}

/** "add src/a.ts\nupdate README.md" from a file_change item's `changes` list. */
function fileChanges(item: JsonObject): string | undefined {
  const lines = arrayField(item, "changes").flatMap((change) => {
    const object = asObject(change);
    const path = stringField(object, "path");
    if (path === undefined) return [];
    const kind = stringField(object, "kind");
    return [kind === undefined ? path : `${kind} ${path}`];
  });
  return lines.length > 0 ? lines.join("\n") : undefined;
}
