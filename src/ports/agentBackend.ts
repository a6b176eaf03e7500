/**
 * The agent backend port: how one kind of agent (a CLI such as Claude Code, Codex or Gemini, or a custom
 * CLI) is started and how its output is understood. A backend builds the command line and parses its own
 * structured output into one normalized event stream; the spawner does everything else (processes,
 * files, timeouts), the same way for every backend.
 */

/** One normalized thing an agent did or said. */
export type AgentEvent =
  | { type: "session"; sessionId: string; model?: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input?: string }
  | { type: "tool_result"; isError: boolean; text?: string }
  | { type: "usage"; inputTokens?: number; outputTokens?: number; costUsd?: number }
  | { type: "retry"; message: string }
  | { type: "result"; success: boolean; text: string }
  | { type: "error"; message: string };

/** What an agent process is asked to do. */
export interface AgentRequest {
  /** The full prompt: specialist role, context, dependency outputs, the task. */
  prompt: string;
  /** The specialist system prompt, for CLIs that take one separately. */
  systemPrompt: string;
  /** The project directory the agent works in (its cwd). */
  cwd: string;
  model?: string;
  /** Where the backend may write files it needs (a system prompt file, settings). */
  scratchDir: string;
}

/** A fully built process invocation. */
export interface AgentCommand {
  command: string;
  args: string[];
  /** Variables added to the inherited environment. */
  env: Record<string, string>;
  /** Text written to the agent's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
}

/** Whether a backend can run here, and if not, why (shown by `orchestrate agents --backends`). */
export interface BackendAvailability {
  available: boolean;
  /** The resolved binary, when found. */
  path?: string;
  reason?: string;
}

/** Parses a stream of output lines; one instance per agent run (parsers may keep state). */
export interface OutputParser {
  /** Events for one line of stdout (already split, without the newline). */
  line(text: string): AgentEvent[];
  /** Called once stdout ended: a last chance to emit events (e.g. plain-text output as the result). */
  end(): AgentEvent[];
}

export interface AgentBackend {
  /** Registry name: `claude`, `codex`, `gemini`, or a custom CLI's name. */
  readonly name: string;
  /** How this backend is driven, for display. */
  readonly description: string;
  availability(env: Readonly<Record<string, string | undefined>>): BackendAvailability;
  command(request: AgentRequest): AgentCommand;
  parser(): OutputParser;
  /** Default per-attempt time limit when the task sets none. */
  readonly defaultTimeoutMs?: number;
}
