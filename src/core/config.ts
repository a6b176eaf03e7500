import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { ConfigError, UsageError } from "./errors.ts";
import { ISOLATION_HINT, type Isolation, parseIsolation } from "./taskWorkspace.ts";

/**
 * Configuration, from (lowest to highest precedence) defaults, a `.env` file in the working directory,
 * the process environment, and command-line flags. The spec's variables are read and validated here;
 * nothing else in the program reads `process.env` for them.
 */
export interface Config {
  /** The directory the command runs in: the project agents work on (and its git repository, if any). */
  projectDir: string;
  /** Absolute path of the base dir holding the database, context files and agent outputs. */
  baseDir: string;
  dbPath: string;
  maxAgents: number;
  useApiMode: boolean;
  /** Secret: never print it; `describeConfig` redacts it. */
  anthropicApiKey: string | null;
  busyTimeoutMs: number;
  /** How tasks are kept apart; null: worktrees in a git repository with a commit, else none. */
  isolation: Isolation | null;
  /** Run in each new worktree before its first agent (e.g. `npm ci`). */
  setupCommand: string | null;
  /** Run on each merged result in the integration worktree (e.g. `npm test`). */
  verifyCommand: string | null;
  /** Where each setting came from, for `orchestrate config`. */
  sources: Record<ConfigKey, ConfigSource>;
}

export type ConfigKey =
  | "baseDir"
  | "maxAgents"
  | "useApiMode"
  | "anthropicApiKey"
  | "busyTimeoutMs"
  | "isolation"
  | "setupCommand"
  | "verifyCommand";
export type ConfigSource = "default" | ".env" | "environment" | "flag";

/** Flags that override the environment (what the CLI passes in). */
export interface ConfigFlags {
  baseDir?: string;
  maxAgents?: string;
  busyTimeoutMs?: string;
  isolation?: string;
}

export interface ConfigInput {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  flags?: ConfigFlags;
}

const ENV_NAMES: Record<ConfigKey, string> = {
  baseDir: "ORCHESTRATOR_BASE_DIR",
  maxAgents: "MAX_AGENTS",
  useApiMode: "USE_API_MODE",
  anthropicApiKey: "ANTHROPIC_API_KEY",
  busyTimeoutMs: "ORCHESTRATOR_BUSY_TIMEOUT_MS",
  isolation: "ORCHESTRATOR_ISOLATION",
  setupCommand: "ORCHESTRATOR_SETUP_COMMAND",
  verifyCommand: "ORCHESTRATOR_VERIFY_COMMAND",
};

const FLAG_NAMES: Partial<Record<ConfigKey, string>> = {
  baseDir: "--base-dir",
  maxAgents: "--max-agents",
  busyTimeoutMs: "--busy-timeout",
  isolation: "--isolation",
};

export const DEFAULT_BASE_DIR = ".orchestrator";
/** The file in the base dir where users add or override agent types and declare custom CLIs. */
export const AGENT_CONFIG_FILE = "agents.json";
export const DEFAULT_MAX_AGENTS = 3;
export const MAX_AGENTS_LIMIT = 256;
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Reads and validates the configuration; throws ConfigError naming the variable and the fix. */
export function loadConfig(input: ConfigInput): Config {
  const dotenv = readDotEnv(input.cwd);
  const flags = input.flags ?? {};
  const sources = {} as Record<ConfigKey, ConfigSource>;

  const pick = (key: ConfigKey): string | undefined => {
    const flag = flags[key as keyof ConfigFlags];
    if (flag !== undefined) {
      sources[key] = "flag";
      return flag;
    }
    const name = ENV_NAMES[key];
    const fromEnv = input.env[name];
    if (fromEnv !== undefined && fromEnv !== "") {
      sources[key] = "environment";
      return fromEnv;
    }
    const fromFile = dotenv[name];
    if (fromFile !== undefined && fromFile !== "") {
      sources[key] = ".env";
      return fromFile;
    }
    sources[key] = "default";
    return undefined;
  };

  const baseDir = resolve(input.cwd, pick("baseDir") ?? DEFAULT_BASE_DIR);
  const maxAgents =
    parseInteger(pick("maxAgents"), "maxAgents", sources, 1, MAX_AGENTS_LIMIT) ??
    DEFAULT_MAX_AGENTS;
  const useApiMode = parseBoolean(pick("useApiMode"), "useApiMode", sources) ?? false;
  const anthropicApiKey = pick("anthropicApiKey")?.trim() || null;
  const busyTimeoutMs =
    parseInteger(pick("busyTimeoutMs"), "busyTimeoutMs", sources, 0, 3_600_000) ??
    DEFAULT_BUSY_TIMEOUT_MS;

  const isolationRaw = pick("isolation");
  let isolation: Isolation | null = null;
  if (isolationRaw !== undefined && isolationRaw.trim().toLowerCase() !== "auto") {
    isolation = parseIsolation(isolationRaw);
    if (!isolation) {
      const message = `${where("isolation", sources)} is '${isolationRaw}', which is not an isolation mode`;
      throw sources.isolation === "flag"
        ? new UsageError(message, ISOLATION_HINT)
        : new ConfigError(message, ISOLATION_HINT);
    }
  }
  const setupCommand = pick("setupCommand")?.trim() || null;
  const verifyCommand = pick("verifyCommand")?.trim() || null;

  return {
    projectDir: resolve(input.cwd),
    isolation,
    setupCommand,
    verifyCommand,
    baseDir,
    dbPath: join(baseDir, "tasks.db"),
    maxAgents,
    useApiMode,
    anthropicApiKey,
    busyTimeoutMs,
    sources,
  };
}

/** The variables of `.env` in `cwd` (none when there is no such file). */
export function readDotEnv(cwd: string): Record<string, string | undefined> {
  const path = join(cwd, ".env");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return {};
    throw new ConfigError(`cannot read ${path}: ${code}`, "fix its permissions or remove it", {
      cause: error,
    });
  }
  return parseEnv(text);
}

function where(key: ConfigKey, sources: Record<ConfigKey, ConfigSource>): string {
  const source = sources[key];
  if (source === "flag") return FLAG_NAMES[key] ?? key;
  return `${ENV_NAMES[key]}${source === ".env" ? " (in .env)" : ""}`;
}

function parseInteger(
  raw: string | undefined,
  key: ConfigKey,
  sources: Record<ConfigKey, ConfigSource>,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw.trim());
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${where(key, sources)} is '${raw}', which is not a whole number from ${min} to ${max}`,
      `set it to a number such as ${key === "maxAgents" ? DEFAULT_MAX_AGENTS : DEFAULT_BUSY_TIMEOUT_MS}, or unset it for the default`,
    );
  }
  return value;
}

function parseBoolean(
  raw: string | undefined,
  key: ConfigKey,
  sources: Record<ConfigKey, ConfigSource>,
): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new ConfigError(
    `${where(key, sources)} is '${raw}', which is not true or false`,
    "set it to true or false",
  );
}

/** One line of `orchestrate config`: secrets are already redacted. */
export interface ConfigEntry {
  name: string;
  value: string;
  source: ConfigSource;
}

/** The configuration for display, with every secret redacted. */
export function describeConfig(config: Config): ConfigEntry[] {
  const entry = (key: ConfigKey, value: string): ConfigEntry => ({
    name: ENV_NAMES[key],
    value,
    source: config.sources[key],
  });
  return [
    entry("baseDir", config.baseDir),
    entry("maxAgents", String(config.maxAgents)),
    entry("useApiMode", String(config.useApiMode)),
    entry("anthropicApiKey", redactSecret(config.anthropicApiKey)),
    entry("busyTimeoutMs", String(config.busyTimeoutMs)),
    entry("isolation", config.isolation ?? "auto (worktree in a git repository, else none)"),
    entry("setupCommand", config.setupCommand ?? "<none>"),
    entry("verifyCommand", config.verifyCommand ?? "<none>"),
  ];
}

/** Shows whether a secret is set without showing any of it. */
export function redactSecret(secret: string | null): string {
  return secret ? "<set, redacted>" : "<not set>";
}
