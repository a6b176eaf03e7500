import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import type { AgentBackend, AgentEvent, AgentRequest } from "../ports/agentBackend.ts";
import { AGENT_ID_ENV, RUN_ID_ENV } from "./agentMarkers.ts";
import { writeAtomic } from "./contextManager.ts";

/** Ends a process tree: the root's group, its descendants, and every process carrying the marker. */
export type KillTree = (
  target: { rootPid?: number; marker: { name: string; value: string } },
  graceMs: number,
) => Promise<void>;

export interface SpawnAgentOptions {
  agentId: string;
  runId: string;
  backend: AgentBackend;
  request: AgentRequest;
  /** The environment the agent inherits (the user's, so their CLI settings reach it). */
  env: Readonly<Record<string, string | undefined>>;
  outputPath: string;
  rawPath: string;
  /** The raw stream is cut (not failed) past this many bytes. */
  maxOutputBytes: number;
  timeoutMs: number;
  /** TERM, then this long, then KILL. */
  graceMs: number;
  killTree: KillTree;
  onEvent?: (event: AgentEvent) => void;
}

/** How an agent process ended and what it reported. */
export interface AgentOutcome {
  success: boolean;
  exitCode: number | null;
  signal: string | null;
  /** Why it ended, in a word: completed, failed, timeout, killed, crashed. */
  reason: "completed" | "failed" | "timeout" | "killed" | "crashed";
  /** The agent's final text (its result, or everything it said when it gave no result). */
  text: string;
  error: string | null;
  sessionId: string | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  outputTruncated: boolean;
}

export interface RunningAgent {
  pid: number | undefined;
  done: Promise<AgentOutcome>;
  /** Ends the agent's whole process tree; `done` then resolves with reason `killed` (or `timeout`). */
  kill(reason?: "killed" | "timeout"): Promise<void>;
}

const STDERR_TAIL = 8_000;
const MAX_LINE = 1_000_000;

/**
 * Starts one agent process and supervises it: its own process group, stdin closed (or fed and closed),
 * cwd = the project, the orchestrator's markers in its environment. Its stdout is parsed by the backend
 * into normalized events, kept raw (up to a cap) and as readable output; a timeout independent of the CLI's
 * own retries ends the whole tree. "Success" is the CLI's own result saying so AND exit code 0.
 */
export function spawnAgent(options: SpawnAgentOptions): RunningAgent {
  const command = options.backend.command(options.request);
  const marker = { name: AGENT_ID_ENV, value: options.agentId };
  const env: Record<string, string | undefined> = {
    ...options.env,
    ...command.env,
    [AGENT_ID_ENV]: options.agentId,
    [RUN_ID_ENV]: options.runId,
  };
  const raw = openSync(options.rawPath, "w");
  const live = openSync(options.outputPath, "w");
  let rawBytes = 0;
  let truncated = false;
  const writeRaw = (text: string) => {
    if (truncated) return;
    const bytes = Buffer.byteLength(text);
    if (rawBytes + bytes > options.maxOutputBytes) {
      truncated = true;
      writeSync(raw, `\n[orchestrate: output cut at ${options.maxOutputBytes} bytes]\n`);
      return;
    }
    rawBytes += bytes;
    writeSync(raw, text);
  };

  const parser = options.backend.parser();
  const texts: string[] = [];
  let textBytes = 0;
  let result: { success: boolean; text: string } | null = null;
  let error: string | null = null;
  let sessionId: string | null = null;
  const usage = {
    costUsd: null as number | null,
    inputTokens: null as number | null,
    outputTokens: null as number | null,
  };
  const handle = (events: AgentEvent[]) => {
    for (const event of events) {
      switch (event.type) {
        case "session":
          sessionId = event.sessionId;
          break;
        case "text":
          if (textBytes < options.maxOutputBytes) {
            texts.push(event.text);
            textBytes += event.text.length;
            writeSync(live, `${event.text}\n`);
          }
          break;
        case "usage":
          if (event.costUsd !== undefined) usage.costUsd = event.costUsd;
          if (event.inputTokens !== undefined) usage.inputTokens = event.inputTokens;
          if (event.outputTokens !== undefined) usage.outputTokens = event.outputTokens;
          break;
        case "result":
          result = { success: event.success, text: event.text };
          break;
        case "error":
          error = event.message;
          break;
        default:
          break;
      }
      options.onEvent?.(event);
    }
  };

  const child = spawn(command.command, command.args, {
    cwd: options.request.cwd,
    env,
    detached: true,
    stdio: [command.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (command.stdin !== undefined) child.stdin?.end(command.stdin);
  child.stdin?.on("error", () => {});

  let pending = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    writeRaw(chunk);
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      handle(parser.line(pending.slice(0, newline)));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    if (pending.length > MAX_LINE) pending = pending.slice(-MAX_LINE);
  });
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL);
  });

  let endedBy: "timeout" | "killed" | null = null;
  const killTree = () => options.killTree({ rootPid: child.pid ?? 0, marker }, options.graceMs);
  const timer = setTimeout(() => {
    endedBy ??= "timeout";
    void killTree();
  }, options.timeoutMs);

  const done = new Promise<AgentOutcome>((resolve) => {
    let spawnError: string | null = null;
    child.once("error", (err) => {
      spawnError = `could not start ${command.command}: ${err.message}`;
    });
    child.once("close", (exitCode, signal) => {
      clearTimeout(timer);
      if (pending) handle(parser.line(pending));
      handle(parser.end());
      // Whatever the agent left behind (tools' servers, new sessions) ends with it.
      void options.killTree({ marker }, options.graceMs).catch(() => {});
      closeSync(raw);
      closeSync(live);
      const final = result as { success: boolean; text: string } | null;
      const text = final?.text || texts.join("\n");
      writeAtomic(options.outputPath, text.endsWith("\n") ? text : `${text}\n`);
      const success =
        endedBy === null && spawnError === null && final?.success === true && exitCode === 0;
      let reason: AgentOutcome["reason"] = success ? "completed" : "failed";
      if (endedBy) reason = endedBy;
      else if (!final && spawnError === null && exitCode !== 0) reason = "crashed";
      const why =
        spawnError ??
        (endedBy === "timeout"
          ? `timed out after ${Math.round(options.timeoutMs / 1000)}s`
          : endedBy === "killed"
            ? "killed"
            : success
              ? null
              : describeFailure(final, error, exitCode, signal, stderrTail));
      resolve({
        success,
        exitCode,
        signal,
        reason,
        text,
        error: why,
        sessionId,
        ...usage,
        outputTruncated: truncated,
      });
    });
  });

  return {
    pid: child.pid,
    done,
    kill: async (reason = "killed") => {
      endedBy ??= reason;
      await killTree();
    },
  };
}

function describeFailure(
  result: { success: boolean; text: string } | null,
  error: string | null,
  exitCode: number | null,
  signal: string | null,
  stderr: string,
): string {
  const exit = signal ? `killed by ${signal}` : `exit code ${exitCode}`;
  const detail = error ?? (result && !result.success ? result.text : null) ?? lastLine(stderr);
  if (result?.success && exitCode !== 0)
    return `the agent reported success but ${exit}${detail ? `: ${detail}` : ""}`;
  if (!result)
    return `the agent ended (${exit}) without a final result${detail ? `: ${detail}` : ""}`;
  return `the agent reported failure (${exit})${detail ? `: ${detail}` : ""}`;
}

function lastLine(text: string): string | null {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]?.slice(0, 500) || null;
}
