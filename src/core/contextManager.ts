import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { UsageError } from "./errors.ts";
import { randomHex } from "./ids.ts";

/**
 * The spec's file-based context under the base dir:
 *
 *   project_context.json   shared project facts (merged by updates)
 *   completed_tasks.json   results of completed tasks, for agents and people to read
 *   active_agents.json     agents running now
 *   agent_outputs/         <agent_id>_output.md (and the raw stream beside it)
 *   shared_artifacts/      documents agents hand to each other
 *
 * Every file is written atomically (temp file + rename), so a reader never sees half a file. The store
 * stays the source of truth; these files are views of it that agents can read with their own tools.
 */
export class ContextManager {
  readonly baseDir: string;
  readonly outputsDir: string;
  readonly artifactsDir: string;

  constructor(baseDir: string) {
    this.baseDir = resolve(baseDir);
    this.outputsDir = join(this.baseDir, "agent_outputs");
    this.artifactsDir = join(this.baseDir, "shared_artifacts");
  }

  /** Creates the directories; safe to call repeatedly and from several processes. */
  ensureLayout(): void {
    mkdirSync(this.outputsDir, { recursive: true });
    mkdirSync(this.artifactsDir, { recursive: true });
  }

  /** Where an agent's readable output goes (relative paths are stored in the database). */
  outputPath(agentId: string): string {
    return join(this.outputsDir, `${agentId}_output.md`);
  }

  /** Where an agent's raw output stream is kept, beside its output. */
  rawPath(agentId: string): string {
    return join(this.outputsDir, `${agentId}_output.raw.jsonl`);
  }

  /** A scratch directory for one agent (system prompt files and the like). */
  scratchDir(agentId: string): string {
    const dir = join(this.baseDir, "scratch", agentId);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** `path` relative to the base dir, for storing. */
  relativeToBase(path: string): string {
    return relative(this.baseDir, path);
  }

  readProjectContext(): Record<string, unknown> {
    return readJsonObject(join(this.baseDir, "project_context.json"));
  }

  /** Merges `updates` into project_context.json (the spec's update_project_context). */
  updateProjectContext(updates: Record<string, unknown>): Record<string, unknown> {
    const merged = { ...this.readProjectContext(), ...updates };
    writeAtomic(join(this.baseDir, "project_context.json"), `${JSON.stringify(merged, null, 2)}\n`);
    return merged;
  }

  writeCompletedTasks(entries: readonly CompletedTaskEntry[]): void {
    writeAtomic(
      join(this.baseDir, "completed_tasks.json"),
      `${JSON.stringify(entries, null, 2)}\n`,
    );
  }

  writeActiveAgents(entries: readonly ActiveAgentEntry[]): void {
    writeAtomic(join(this.baseDir, "active_agents.json"), `${JSON.stringify(entries, null, 2)}\n`);
  }

  /** Shared artifacts (relative names with sizes), oldest first, for the prompt. */
  listArtifacts(): ArtifactInfo[] {
    const found: ArtifactInfo[] = [];
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names.sort()) {
        if (name.startsWith(".tmp-")) continue;
        const path = join(dir, name);
        const stat = statSync(path, { throwIfNoEntry: false });
        if (!stat) continue;
        if (stat.isDirectory()) walk(path);
        else
          found.push({
            name: relative(this.artifactsDir, path),
            bytes: stat.size,
            modifiedAt: stat.mtimeMs,
          });
      }
    };
    walk(this.artifactsDir);
    return found.sort((a, b) => a.modifiedAt - b.modifiedAt);
  }

  /**
   * The path of the artifact `name`, which must stay inside shared_artifacts/: absolute paths, `..`
   * segments and NUL bytes are refused, so an agent cannot write elsewhere by naming an artifact.
   */
  artifactPath(name: string): string {
    const clean = name.trim();
    if (clean === "" || clean.includes("\0") || isAbsolute(clean)) {
      throw new UsageError(
        `invalid artifact name '${name}'`,
        "use a relative name such as api_spec.yaml",
      );
    }
    const path = resolve(this.artifactsDir, clean);
    const rel = relative(this.artifactsDir, path);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel) || rel.split(sep).includes("..")) {
      throw new UsageError(
        `artifact name '${name}' leaves shared_artifacts/`,
        "use a name inside the shared artifacts directory",
      );
    }
    return path;
  }

  /** Writes a shared artifact atomically; returns its confined path. */
  writeArtifact(name: string, content: string): string {
    const path = this.artifactPath(name);
    mkdirSync(resolve(path, ".."), { recursive: true });
    writeAtomic(path, content);
    return path;
  }
}

export interface CompletedTaskEntry {
  id: string;
  description: string;
  agentType: string | null;
  planId: string | null;
  completedAt: number | null;
  outputFile: string | null;
  summary: string;
}

export interface ActiveAgentEntry {
  agentId: string;
  taskId: string;
  agentType: string;
  backend: string;
  pid: number | null;
  startedAt: number;
  runId: string;
}

export interface ArtifactInfo {
  name: string;
  bytes: number;
  modifiedAt: number;
}

/** Writes `content` to `path` through a temp file in the same directory and a rename. */
export function writeAtomic(path: string, content: string): void {
  const temp = join(resolve(path, ".."), `.tmp-${randomHex(8)}-${process.pid}`);
  writeFileSync(temp, content);
  renameSync(temp, path);
}

function readJsonObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
