// The real agent CLIs that `npm run test:agents` drives: exact pinned versions and where they are cached.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type CliName = "claude" | "codex" | "gemini";

export interface PinnedCli {
  /** Our backend name, also the name of the binary. */
  name: CliName;
  /** The npm package. */
  pkg: string;
  /** The exact version the tests run; bump it deliberately and rerun `npm run test:agents`. */
  version: string;
}

/** Exact versions: the CLIs' flags and stream formats move between releases. */
export const PINNED: readonly PinnedCli[] = [
  { name: "claude", pkg: "@anthropic-ai/claude-code", version: "2.1.330" },
  { name: "codex", pkg: "@openai/codex", version: "0.169.0" },
  { name: "gemini", pkg: "@google/gemini-cli", version: "0.61.0" },
];

/** The git-ignored folder holding one npm prefix per CLI. */
export const CACHE_DIR = join(import.meta.dirname, "..", "..", ".cache", "agent-clis");

/** The npm prefix a CLI is installed into. */
export function prefixOf(cli: PinnedCli): string {
  return join(CACHE_DIR, cli.name);
}

/** The folder holding the CLI's executable (put first on PATH to run it). */
export function binDirOf(cli: PinnedCli): string {
  return join(prefixOf(cli), "node_modules", ".bin");
}

/** The version of the package installed in the cache, or undefined when it is not there. */
export function installedVersion(cli: PinnedCli): string | undefined {
  const manifest = join(prefixOf(cli), "node_modules", ...cli.pkg.split("/"), "package.json");
  if (!existsSync(manifest) || !existsSync(join(binDirOf(cli), cli.name))) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown };
    return typeof parsed.version === "string" ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

export function pinned(name: CliName): PinnedCli {
  const cli = PINNED.find((c) => c.name === name);
  if (!cli) throw new Error(`no pinned CLI named ${name}`);
  return cli;
}
