import { readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Task } from "../core/task.ts";
import type { Session } from "./session.ts";

export interface CleanupResult {
  /** Tasks removed (or, in a dry run, that would be). */
  tasks: Task[];
  /** Files under the base dir removed with them (agent outputs and their raw streams). */
  files: string[];
  /** Old finished tasks kept because an unfinished task still depends on them. */
  keptForDependents: number;
  dryRun: boolean;
}

/**
 * Removes finished (completed, failed, cancelled) tasks last changed before `before`, with their events,
 * agent runs and the agents' output files. Files are only ever deleted inside `baseDir/agent_outputs`.
 */
export async function cleanupFinishedTasks(
  session: Session,
  options: { before: number; dryRun: boolean },
): Promise<CleanupResult> {
  const { queue } = session;
  const baseDir = session.config.baseDir;
  const { tasks, keptForDependents } = await queue.cleanupCandidates(options.before);
  const outputsDir = resolve(baseDir, "agent_outputs");
  const runs = options.dryRun
    ? (await Promise.all(tasks.map((t) => queue.agentRunsOf(t.id)))).flat()
    : await queue.deleteFinished(tasks.map((t) => t.id));
  const runIds = new Set(runs.map((r) => r.id));
  const files = new Set<string>();
  for (const run of runs) {
    if (run.outputPath && isInside(outputsDir, resolve(baseDir, run.outputPath))) {
      files.add(resolve(baseDir, run.outputPath));
    }
  }
  // The raw stream and any other file an agent left beside its output is named after the agent id.
  for (const name of listDir(outputsDir)) {
    const agentId = name.split("_output")[0] ?? "";
    if (runIds.has(agentId)) files.add(join(outputsDir, name));
  }
  if (!options.dryRun) for (const file of files) rmSync(file, { force: true });
  return { tasks, files: [...files].sort(), keptForDependents, dryRun: options.dryRun };
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith("/");
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
