// The simulated agent process (see simulatedBackend.ts). Reads the prompt on stdin, prints Claude Code
// stream-json, writes one artifact into the shared artifacts directory named in the prompt.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let prompt = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) prompt += chunk;

const sessionId = `simulated-${process.pid}`;
const delay = Number(process.env["ORCHESTRATE_SIMULATED_DELAY_MS"] ?? 1200);
const heading = /^# Your task \(([^)]+)\)\n\n([^\n]+)/m.exec(prompt);
const agentType = heading?.[1] ?? "agent";
const task = heading?.[2] ?? "the task";
const received = [...prompt.matchAll(/^### ([0-9a-f]{8}): (.+)$/gm)].map(
  (m) => `${m[1]} (${m[2]})`,
);
const artifactsDir = /^Directory: (.+)$/m.exec(prompt)?.[1];

print({ type: "system", subtype: "init", session_id: sessionId, model: "simulated" });
const say = (text: string) =>
  print({
    type: "assistant",
    session_id: sessionId,
    message: { content: [{ type: "text", text }] },
  });
say(`[SIMULATED ${agentType}] Reading the task: ${task}`);
await sleep(delay / 2);
if (received.length > 0) say(`[SIMULATED] Building on the output of: ${received.join(", ")}`);
let artifact = "";
if (artifactsDir) {
  const name = `${agentType}-${process.pid}.md`;
  mkdirSync(artifactsDir, { recursive: true });
  writeFileSync(
    join(artifactsDir, name),
    `# SIMULATED artifact from ${agentType}\n\nTask: ${task}\n\nThis file was written by orchestrate's built-in simulated agent, not by an AI.\n`,
  );
  artifact = name;
  print({
    type: "assistant",
    session_id: sessionId,
    message: {
      content: [
        {
          type: "tool_use",
          id: "tool-1",
          name: "Write",
          input: { file_path: join(artifactsDir, name) },
        },
      ],
    },
  });
}
await sleep(delay / 2);
const result = [
  `SIMULATED result for: ${task}`,
  `Role: ${agentType}.`,
  received.length > 0
    ? `Used the output of ${received.length} earlier task(s): ${received.join(", ")}.`
    : "No earlier tasks to build on.",
  artifact ? `Wrote the shared artifact ${artifact}.` : "",
  "(No AI was involved: install Claude Code, Codex or Gemini CLI, or set an API key, for real agents.)",
]
  .filter(Boolean)
  .join("\n");
print({
  type: "result",
  subtype: "success",
  is_error: false,
  result: result,
  session_id: sessionId,
  total_cost_usd: 0,
  usage: {
    input_tokens: Math.ceil(prompt.length / 4),
    output_tokens: Math.ceil(result.length / 4),
  },
  num_turns: 1,
});
