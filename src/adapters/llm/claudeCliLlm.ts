import { spawn } from "node:child_process";
import type { Llm, LlmRequest } from "../../ports/llm.ts";
import { makeClaudeParser } from "../backends/claudeBackend.ts";

const REQUEST_TIMEOUT_MS = 300_000;

/**
 * Claude Code in headless mode as the planner's model, for people who have the CLI and its login but no
 * API key: `claude -p PROMPT --output-format stream-json --verbose --append-system-prompt SYSTEM`. No
 * permission bypass: planning only needs an answer, so any tool the CLI would want to use is denied. The
 * conversation is given as one prompt (earlier turns quoted), and the answer is the final `result`,
 * which must not be an error (`is_error`). Runs in `cwd` with stdin closed.
 */
export function makeClaudeCliLlm(binary: string, cwd: string, env: NodeJS.ProcessEnv): Llm {
  return {
    name: "claude-cli",
    complete(request: LlmRequest) {
      const turns = request.messages;
      const last = turns.at(-1)?.content ?? "";
      const earlier = turns
        .slice(0, -1)
        .map((m) => `${m.role === "user" ? "Person" : "You"}: ${m.content}`)
        .join("\n\n");
      const prompt =
        earlier === "" ? last : `Conversation so far:\n\n${earlier}\n\nPerson: ${last}`;
      const args = ["-p", prompt, "--output-format", "stream-json", "--verbose"];
      if (request.system !== "") args.push("--append-system-prompt", request.system);
      return new Promise<string>((resolve, reject) => {
        const child = spawn(binary, args, {
          cwd,
          env: { ...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        const parser = makeClaudeParser();
        // A result the CLI printed (the parser's own at end of output would only say there was none).
        let result: { success: boolean; text: string } | undefined;
        let errors = "";
        let buffered = "";
        const take = (events: ReturnType<typeof parser.line>) => {
          for (const e of events) {
            if (e.type === "result") result ??= { success: e.success, text: e.text };
            else if (e.type === "error") errors = e.message;
          }
        };
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) take(parser.line(line));
        });
        let stderr = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (chunk: string) => {
          if (stderr.length < 4_000) stderr += chunk;
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), REQUEST_TIMEOUT_MS);
        const abort = () => child.kill("SIGTERM");
        request.signal?.addEventListener("abort", abort, { once: true });
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(new Error(`cannot start ${binary}: ${error.message}`));
        });
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          request.signal?.removeEventListener("abort", abort);
          if (buffered !== "") take(parser.line(buffered));
          if (result?.success && code === 0) return resolve(result.text);
          const why =
            (result && !result.success ? result.text : "") ||
            errors ||
            stderr.trim().split("\n").at(-1) ||
            (signal ? `killed by ${signal}` : `exit code ${code} without a result`);
          reject(new Error(`claude failed: ${why}`));
        });
      });
    },
  };
}
