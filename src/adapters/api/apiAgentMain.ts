// The API agent process (see anthropicApiBackend.ts and openaiApiBackend.ts). Reads its prompt on stdin,
// talks to the LLM API over HTTP in a tool loop, and prints Claude Code stream-json lines, so the
// spawner supervises it like any agent CLI and makeClaudeParser understands it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiTools } from "./apiTools.ts";
import {
  type ApiProvider,
  ApiRequestError,
  makeAnthropicProvider,
  makeOpenAiProvider,
} from "./providers.ts";
import { SqliteRateLimiter } from "./rateLimiter.ts";

const env = process.env;
const providerName = env["ORCHESTRATE_API_PROVIDER"] === "openai" ? "openai" : "anthropic";
const secret = providerName === "anthropic" ? env["ANTHROPIC_API_KEY"] : env["OPENAI_API_KEY"];

/** Prints one stream-json line; the API key never reaches stdout, whatever a server echoes back. */
const print = (event: object) => {
  let line = JSON.stringify(event);
  if (secret && secret.length >= 4) line = line.replaceAll(secret, "[redacted]");
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let prompt = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) prompt += chunk;

const systemPromptFile = env["ORCHESTRATE_API_SYSTEM_PROMPT_FILE"];
const systemPrompt = systemPromptFile ? readFileSync(systemPromptFile, "utf8") : "";
const maxTurns = Math.max(1, Number(env["ORCHESTRATE_API_MAX_TURNS"]) || 20);
const maxTries = 5;
const baseDir = env["ORCHESTRATE_BASE_DIR"];
const artifactsDir = /^Directory: (.+)$/m.exec(prompt)?.[1]?.trim();
const tools = new ApiTools({
  cwd: process.cwd(),
  ...(baseDir ? { baseDir } : {}),
  ...(artifactsDir ? { artifactsDir } : {}),
});
const provider: ApiProvider =
  providerName === "anthropic"
    ? makeAnthropicProvider({ env, systemPrompt, prompt })
    : makeOpenAiProvider({ env, systemPrompt, prompt });
const limiter = baseDir
  ? new SqliteRateLimiter(join(baseDir, "api_rate.db"), { provider: providerName })
  : undefined;
const sessionId = `api-${providerName}-${process.pid}-${Date.now().toString(36)}`;
const usage = { input_tokens: 0, output_tokens: 0 };
let lastText = "";

const finish = (success: boolean, text: string, subtype: string, turns: number): never => {
  limiter?.close();
  print({
    type: "result",
    subtype,
    is_error: !success,
    result: text,
    session_id: sessionId,
    usage,
    num_turns: turns,
  });
  process.exit(success ? 0 : 1);
};

print({ type: "system", subtype: "init", session_id: sessionId, model: provider.model });

let turn = 0;
for (; turn < maxTurns; turn++) {
  let reply: Awaited<ReturnType<ApiProvider["turn"]>> | undefined;
  for (let attempt = 1; reply === undefined; attempt++) {
    await limiter?.acquire();
    try {
      reply = await provider.turn();
    } catch (error) {
      const failure = ApiRequestError.from(error);
      if (failure.status === 401 || failure.status === 403) {
        finish(
          false,
          `API authentication failed (HTTP ${failure.status}): check ${providerName === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"}. ${failure.message}`,
          "error_during_execution",
          turn,
        );
      }
      if (!failure.retryable || attempt >= maxTries) {
        finish(
          false,
          `API request failed${failure.status ? ` (HTTP ${failure.status})` : ""} after ${attempt} tr${attempt === 1 ? "y" : "ies"}: ${failure.message}`,
          "error_during_execution",
          turn,
        );
      }
      const delay = failure.retryAfterMs ?? Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      print({
        type: "system",
        subtype: "api_retry",
        session_id: sessionId,
        attempt: attempt + 1,
        max_retries: maxTries,
        retry_delay_ms: delay,
        ...(failure.status ? { error_status: failure.status } : {}),
        error: failure.message,
      });
      await sleep(delay);
    }
  }
  usage.input_tokens += reply.inputTokens;
  usage.output_tokens += reply.outputTokens;
  const content: object[] = [];
  if (reply.text !== "") {
    lastText = reply.text;
    content.push({ type: "text", text: reply.text });
  }
  for (const call of reply.toolCalls) {
    content.push({ type: "tool_use", id: call.id, name: call.name, input: call.input });
  }
  if (content.length > 0) {
    print({ type: "assistant", session_id: sessionId, message: { role: "assistant", content } });
  }
  if (reply.toolCalls.length === 0) break;
  const results: { id: string; isError: boolean; text: string }[] = [];
  for (const call of reply.toolCalls) {
    const outcome = await tools.run(call.name, call.input);
    results.push({ id: call.id, ...outcome });
  }
  print({
    type: "user",
    session_id: sessionId,
    message: {
      role: "user",
      content: results.map((r) => ({
        type: "tool_result",
        tool_use_id: r.id,
        is_error: r.isError,
        content: r.text,
      })),
    },
  });
  provider.addToolResults(results);
}

const output = tools.output ?? lastText;
if (turn >= maxTurns && tools.output === undefined) {
  finish(false, `stopped after ${maxTurns} turns without finishing`, "error_max_turns", turn);
}
finish(true, output, "success", Math.min(turn + 1, maxTurns));
