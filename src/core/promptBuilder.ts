import type { ArtifactInfo } from "./contextManager.ts";
import type { Task } from "./task.ts";

/** The output of a task the agent's task depends on (or of another task of the same plan). */
export interface PriorWork {
  id: string;
  description: string;
  agentType: string | null;
  output: string | null;
  /** Where the full output is on disk, when it was cut here. */
  outputFile: string | null;
}

export interface PromptInput {
  task: Task;
  /** The specialist type the task runs as (after auto routing). */
  agentType: string;
  /** The project facts from project_context.json. */
  projectContext: Record<string, unknown>;
  dependencies: readonly PriorWork[];
  /** Other completed tasks of the same plan, summarised. */
  planSiblings: readonly PriorWork[];
  artifacts: readonly ArtifactInfo[];
  artifactsDir: string;
  outputFile: string;
  /** Where the agent works, when it is worth saying (its own worktree, and that others work elsewhere). */
  workspaceNote?: string | null;
}

/** How much of the previous attempt's error (a verification's output, say) the next prompt shows. */
export const PREVIOUS_ERROR_LIMIT = 8_000;

/** Each dependency's output is included up to this many characters; the rest is on disk. */
export const DEPENDENCY_OUTPUT_LIMIT = 20_000;

/**
 * The whole prompt stays under this many characters: CLIs receive it as one command-line argument, and
 * Linux refuses a single argument over 128 KiB (E2BIG). Dependency outputs are cut further to fit.
 */
export const PROMPT_LIMIT = 100_000;
const SIBLING_SUMMARY_LIMIT = 400;

/**
 * The task prompt for one agent: the project context, what the tasks before it produced, the shared
 * artifacts and where to write new ones, then the task itself. The specialist system prompt travels
 * separately (each backend passes it the way its CLI supports). Pure: the same input gives the same text.
 */
export function buildTaskPrompt(input: PromptInput): string {
  let limit = DEPENDENCY_OUTPUT_LIMIT;
  let prompt = renderPrompt(input, limit);
  // Too long (many large dependencies): share the room left among them, down to a floor.
  while (prompt.length > PROMPT_LIMIT && limit > 500 && input.dependencies.length > 0) {
    const excess = prompt.length - PROMPT_LIMIT;
    limit = Math.max(500, limit - Math.ceil(excess / input.dependencies.length) - 100);
    prompt = renderPrompt(input, limit);
  }
  return prompt;
}

function renderPrompt(input: PromptInput, dependencyLimit: number): string {
  const parts: string[] = [];
  const { task } = input;
  parts.push(`# Your task (${input.agentType})\n\n${task.description}`);
  if (input.workspaceNote) parts.push(`## Where you work\n\n${input.workspaceNote}`);
  if (task.attempts > 1 && task.error) {
    const error =
      task.error.length > PREVIOUS_ERROR_LIMIT
        ? `…${task.error.slice(-PREVIOUS_ERROR_LIMIT)}`
        : task.error;
    parts.push(
      `## The previous attempt\n\nAn earlier attempt at this task did not succeed. What was reported:\n\n\`\`\`\n${error}\n\`\`\`\n\nFix this in your attempt.`,
    );
  }
  if (task.context && Object.keys(task.context).length > 0) {
    parts.push(`## Task context\n\n\`\`\`json\n${JSON.stringify(task.context, null, 2)}\n\`\`\``);
  }
  if (Object.keys(input.projectContext).length > 0) {
    parts.push(
      `## Project context\n\n\`\`\`json\n${JSON.stringify(input.projectContext, null, 2)}\n\`\`\``,
    );
  }
  if (input.dependencies.length > 0) {
    const deps = input.dependencies.map((d) => {
      const output = d.output ?? "(no output recorded)";
      const cut = output.length > dependencyLimit;
      const text = cut ? `${output.slice(0, dependencyLimit)}\n…` : output;
      const more = cut && d.outputFile ? `\n(The full output is in ${d.outputFile}.)` : "";
      return `### ${d.id.slice(0, 8)}: ${d.description} (${d.agentType ?? "auto"})\n\n${text}${more}`;
    });
    parts.push(
      `## Output of the tasks this one depends on\n\nBuild on this work; do not redo it.\n\n${deps.join("\n\n")}`,
    );
  }
  if (input.planSiblings.length > 0) {
    const lines = input.planSiblings.map((s) => {
      const summary = (s.output ?? "").replace(/\s+/g, " ").trim();
      const short =
        summary.length > SIBLING_SUMMARY_LIMIT
          ? `${summary.slice(0, SIBLING_SUMMARY_LIMIT)}…`
          : summary;
      return `- ${s.id.slice(0, 8)} ${s.description} (${s.agentType ?? "auto"}): ${short || "(no output)"}`;
    });
    parts.push(`## Other completed work in this plan\n\n${lines.join("\n")}`);
  }
  const artifacts =
    input.artifacts.length > 0
      ? input.artifacts.map((a) => `- ${a.name} (${a.bytes} bytes)`).join("\n")
      : "(none yet)";
  parts.push(
    `## Shared artifacts\n\nDirectory: ${input.artifactsDir}\n${artifacts}\n\n` +
      "Read the ones relevant to you. Write documents other agents need (specifications, schemas, API " +
      "contracts, decisions) into that directory, under a clear file name.",
  );
  parts.push(
    "## When you finish\n\nEnd with a short summary: what you did, the files you created or changed, and " +
      `what the next agent must know. Your output is saved to ${input.outputFile} for the agents after you.`,
  );
  return `${parts.join("\n\n")}\n`;
}
