import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_CONFIG_FILE } from "./config.ts";
import { ConfigError } from "./errors.ts";

/**
 * The names agents.json adds (agent types and custom CLIs), read without validating the rest of the
 * file: `submit` needs only the names, and loading the validator (zod) measured ~80 ms of start-up here.
 * `run` and `agents` validate the whole file (agentConfig.ts). Empty lists when there is no file.
 */
export function readAgentConfigNames(baseDir: string): { types: string[]; backends: string[] } {
  const path = join(baseDir, AGENT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { types: [], backends: [] };
    throw new ConfigError(
      `cannot read ${path}: ${(error as Error).message}`,
      "fix its permissions",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${path} is not valid JSON: ${(error as Error).message}`,
      "fix the file or remove it",
    );
  }
  const keys = (value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
  const file = (raw ?? {}) as { agentTypes?: unknown; backends?: unknown };
  return { types: keys(file.agentTypes), backends: keys(file.backends) };
}
