import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_CONFIG_FILE } from "./config.ts";
import { ConfigError } from "./errors.ts";

/** agents.json parsed as JSON (not yet validated), with its path; null when there is no file. */
export function readAgentConfigJson(baseDir: string): { path: string; raw: unknown } | null {
  const path = join(baseDir, AGENT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null; // no file (or no base dir yet)
    throw new ConfigError(
      `cannot read ${path}: ${(error as Error).message}`,
      "fix its permissions",
    );
  }
  try {
    return { path, raw: JSON.parse(text) as unknown };
  } catch (error) {
    throw new ConfigError(
      `${path} is not valid JSON: ${(error as Error).message}`,
      "fix the file or remove it",
    );
  }
}

/**
 * The names agents.json adds (agent types and custom CLIs), read without validating the rest of the
 * file: `submit` needs only the names, and loading the validator (zod) measured ~80 ms of start-up here.
 * `run` and `agents` validate the whole file (agentConfig.ts). Empty lists when there is no file.
 */
export function readAgentConfigNames(baseDir: string): { types: string[]; backends: string[] } {
  const file = readAgentConfigJson(baseDir);
  const keys = (value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
  const raw = (file?.raw ?? {}) as { agentTypes?: unknown; backends?: unknown };
  return { types: keys(raw.agentTypes), backends: keys(raw.backends) };
}
