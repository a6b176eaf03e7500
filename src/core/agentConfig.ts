import { z } from "zod";
import { readAgentConfigJson } from "./agentConfigNames.ts";
import { type AgentTypeInfo, BUILTIN_AGENT_TYPES } from "./agentTypes.ts";
import { parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";

const NAME = /^[a-z][a-z0-9-]{1,62}$/;

const typeSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().min(1).optional(),
    keywords: z.array(z.string().min(1)).optional(),
    systemPrompt: z.string().min(20).optional(),
    /** The backend this type runs on unless a task names one. */
    backend: z.string().regex(NAME).optional(),
  })
  .strict();

const backendSchema = z
  .object({
    binary: z.string().min(1),
    args: z.array(z.string()).default([]),
    timeout: z.string().optional(),
    promptVia: z.enum(["arg", "stdin"]).optional(),
    outputFormat: z.enum(["text", "claude", "codex", "gemini"]).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    agentTypes: z.record(z.string(), typeSchema).default({}),
    backends: z.record(z.string(), backendSchema).default({}),
    /** Which installed backends `run` tries, in order, for tasks that name none. */
    backendOrder: z.array(z.string().regex(NAME)).optional(),
  })
  .strict();

/** A custom CLI declared in the config file, validated. */
export interface CustomCliConfig {
  name: string;
  binary: string;
  args: string[];
  timeoutMs?: number;
  promptVia?: "arg" | "stdin";
  outputFormat?: "text" | "claude" | "codex" | "gemini";
}

/** The agent configuration: the type registry (built-in merged with the user's), custom CLIs, order. */
export interface AgentConfig {
  types: AgentTypeInfo[];
  /** Backend chosen per type by the config, by type name. */
  typeBackends: Map<string, string>;
  customClis: CustomCliConfig[];
  backendOrder: string[] | null;
  /** The file it came from, when there was one. */
  source: string | null;
}

/**
 * Reads `<baseDir>/agents.json` (absent means built-ins only), the spec's "Extension Points" as a file:
 *
 *   { "agentTypes": { "security-reviewer": { "description": "...", "keywords": ["security"],
 *                                             "systemPrompt": "You are ..." },
 *                     "backend-systems-engineer": { "backend": "codex" } },
 *     "backends":   { "aider": { "binary": "aider", "args": ["--yes", "--message", "{prompt}"],
 *                                "timeout": "20m", "outputFormat": "text" } },
 *     "backendOrder": ["claude", "aider"] }
 *
 * A type named like a built-in overrides the fields it gives; a new type needs a description, keywords
 * and a system prompt. Errors name the file, the field and what is wrong.
 */
export function loadAgentConfig(baseDir: string): AgentConfig {
  const file = readAgentConfigJson(baseDir);
  if (!file) {
    return {
      types: [...BUILTIN_AGENT_TYPES],
      typeBackends: new Map(),
      customClis: [],
      backendOrder: null,
      source: null,
    };
  }
  const { path, raw } = file;
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(top level)";
    throw new ConfigError(
      `${path}: ${where}: ${issue?.message ?? "invalid"}`,
      "see 'Configuration' in the README for the format of agents.json",
    );
  }
  const data = parsed.data;
  for (const [section, names] of [
    ["agentTypes", Object.keys(data.agentTypes)],
    ["backends", Object.keys(data.backends)],
  ] as const) {
    const bad = names.find((n) => !NAME.test(n));
    if (bad !== undefined) {
      throw new ConfigError(
        `${path}: ${section}.${bad}: names are lowercase words joined by '-' (like security-reviewer)`,
        "rename the entry",
      );
    }
  }
  const types = new Map(BUILTIN_AGENT_TYPES.map((t) => [t.name, { ...t }]));
  const typeBackends = new Map<string, string>();
  for (const [name, entry] of Object.entries(data.agentTypes)) {
    const existing = types.get(name);
    if (!existing && (!entry.description || !entry.keywords || !entry.systemPrompt)) {
      throw new ConfigError(
        `${path}: agentTypes.${name}: a new agent type needs a description, keywords and a systemPrompt`,
        `or name one of the built-in types to override it: ${BUILTIN_AGENT_TYPES.map((t) => t.name).join(", ")}`,
      );
    }
    types.set(name, {
      name,
      title: entry.name ?? existing?.title ?? name,
      description: entry.description ?? existing?.description ?? "",
      keywords: entry.keywords ?? existing?.keywords ?? [],
      systemPrompt: entry.systemPrompt ?? existing?.systemPrompt ?? "",
    });
    if (entry.backend) typeBackends.set(name, entry.backend);
  }
  const customClis = Object.entries(data.backends).map(([name, b]): CustomCliConfig => {
    const cli: CustomCliConfig = { name, binary: b.binary, args: b.args };
    if (b.timeout !== undefined)
      cli.timeoutMs = parseDuration(b.timeout, `backends.${name}.timeout in ${path}`, "s");
    if (b.promptVia !== undefined) cli.promptVia = b.promptVia;
    if (b.outputFormat !== undefined) cli.outputFormat = b.outputFormat;
    return cli;
  });
  return {
    types: [...types.values()],
    typeBackends,
    customClis,
    backendOrder: data.backendOrder ?? null,
    source: path,
  };
}
