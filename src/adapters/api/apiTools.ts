import { readdirSync, realpathSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { ContextManager } from "../../core/contextManager.ts";

/** The largest file `read_file` returns (the rest is cut off, and the result says so). */
export const MAX_READ_BYTES = 200 * 1024;
const MAX_LIST_ENTRIES = 1_000;

/** A tool offered to the model, in a provider-neutral shape (JSON Schema input). */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: {
    type: "object";
    properties: Record<string, { type: string; description: string }>;
    required: string[];
  };
}

export interface ToolOutcome {
  isError: boolean;
  text: string;
}

export const TOOL_SPECS: readonly ToolSpec[] = [
  {
    name: "read_file",
    description:
      "Read a text file of the project (path relative to the project directory) or of the orchestrator's base directory. At most 200 KB is returned.",
    inputSchema: {
      type: "object",
      properties: { path: { type: "string", description: "file path, relative to the project" } },
      required: ["path"],
    },
  },
  {
    name: "list_files",
    description: "List the entries of a directory of the project (default: the project root).",
    inputSchema: {
      type: "object",
      properties: { path: { type: "string", description: "directory, relative to the project" } },
      required: [],
    },
  },
  {
    name: "write_artifact",
    description:
      "Write a shared artifact (a file other agents can read) into the shared artifacts directory.",
    inputSchema: {
      type: "object",
      properties: {
        name: { type: "string", description: "relative file name, e.g. api_spec.yaml" },
        content: { type: "string", description: "the file's full content" },
      },
      required: ["name", "content"],
    },
  },
  {
    name: "write_output",
    description:
      "Set your final output for this task (what later tasks and the user will read). Call it once when done.",
    inputSchema: {
      type: "object",
      properties: { text: { type: "string", description: "the final output" } },
      required: ["text"],
    },
  },
];

/**
 * The agent's tools, confined: reads and listings stay inside the project directory or the base
 * directory (after resolving symlinks), artifacts go through ContextManager.artifactPath.
 */
export class ApiTools {
  readonly #roots: string[];
  readonly #cwd: string;
  readonly #artifacts: ContextManager | undefined;
  output: string | undefined;

  constructor(options: { cwd: string; baseDir?: string; artifactsDir?: string }) {
    this.#cwd = resolve(options.cwd);
    this.#roots = [this.#cwd, ...(options.baseDir ? [resolve(options.baseDir)] : [])].map(real);
    const dir =
      options.artifactsDir ??
      (options.baseDir ? resolve(options.baseDir, "shared_artifacts") : undefined);
    if (dir !== undefined) {
      const context = new ContextManager(dirname(resolve(dir)));
      // ContextManager's layout names the directory shared_artifacts; anything else is not ours to use.
      if (basename(resolve(dir)) === "shared_artifacts" && context.artifactsDir === resolve(dir)) {
        this.#artifacts = context;
      }
    }
  }

  async run(name: string, input: unknown): Promise<ToolOutcome> {
    const args = (typeof input === "object" && input !== null ? input : {}) as Record<
      string,
      unknown
    >;
    try {
      switch (name) {
        case "read_file":
          return await this.#read(stringArg(args, "path"));
        case "list_files":
          return this.#list(typeof args["path"] === "string" ? args["path"] : ".");
        case "write_artifact":
          return this.#writeArtifact(stringArg(args, "name"), stringArg(args, "content", true));
        case "write_output":
          this.output = stringArg(args, "text", true);
          return { isError: false, text: "output recorded" };
        default:
          return { isError: true, text: `unknown tool '${name}'` };
      }
    } catch (error) {
      return { isError: true, text: error instanceof Error ? error.message : String(error) };
    }
  }

  /** A path under the project directory or the base directory, or an error. */
  #confined(path: string): string {
    if (path.includes("\0")) throw new Error("invalid path");
    const candidates = isAbsolute(path)
      ? [resolve(path)]
      : this.#roots.map((root) => resolve(root, path));
    for (const candidate of candidates) {
      const target = real(candidate);
      if (this.#roots.some((root) => inside(root, target))) return target;
    }
    throw new Error(`path '${path}' is outside the project and base directories`);
  }

  async #read(path: string): Promise<ToolOutcome> {
    const target = this.#confined(path);
    const size = statSync(target).size;
    const handle = await open(target, "r");
    try {
      const buffer = Buffer.alloc(Math.min(size, MAX_READ_BYTES));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const text = buffer.subarray(0, bytesRead).toString("utf8");
      return {
        isError: false,
        text:
          size > MAX_READ_BYTES
            ? `${text}\n[truncated: the file has ${size} bytes; only the first ${MAX_READ_BYTES} are shown]`
            : text,
      };
    } finally {
      await handle.close();
    }
  }

  #list(path: string): ToolOutcome {
    const target = this.#confined(path);
    const entries = readdirSync(target, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
      .sort();
    const shown = entries.slice(0, MAX_LIST_ENTRIES);
    if (entries.length > shown.length) shown.push(`[${entries.length - shown.length} more]`);
    return { isError: false, text: shown.length > 0 ? shown.join("\n") : "(empty directory)" };
  }

  #writeArtifact(name: string, content: string): ToolOutcome {
    if (!this.#artifacts) return { isError: true, text: "no shared artifacts directory is set" };
    const path = this.#artifacts.writeArtifact(name, content);
    return { isError: false, text: `wrote ${relative(this.#cwd, path) || path}` };
  }
}

function stringArg(args: Record<string, unknown>, key: string, allowEmpty = false): string {
  const value = args[key];
  if (typeof value !== "string" || (!allowEmpty && value.trim() === "")) {
    throw new Error(`missing string argument '${key}'`);
  }
  return value;
}

/** The real path, resolving symlinks of the longest existing prefix (the rest may not exist yet). */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : resolve(real(parent), basename(path));
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
