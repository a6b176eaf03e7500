import { cleanupFinishedTasks } from "../../app/cleanup.ts";
import { withSession } from "../../app/session.ts";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { shortId } from "../../core/ids.ts";
import { type CommandEnv, flag, globalsOf, requiredOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { printJson, println, truncate } from "../output.ts";

/** `orchestrate cleanup`: deletes old finished tasks and their files. */
export function makeCleanupCommand(env: CommandEnv): CommandSpec {
  return {
    name: "cleanup",
    args: [],
    options: [
      {
        name: "older-than",
        value: "<duration>",
        description:
          "age of the tasks to remove: 12h, 7d, 2w (bare number = days; 0 = all finished)",
        default: "7d",
      },
      { name: "dry-run", short: "n", description: "show what would be removed, remove nothing" },
      {
        name: "delete-unmerged",
        description:
          "also delete task branches whose work is not merged (without it they are kept, with their tasks)",
      },
      { name: "json", description: "print the result as JSON" },
    ],
    async run(parsed) {
      const raw = requiredOption(parsed, "olderThan");
      // 0 means every finished task, whatever its age.
      const age = /^\s*0+\s*$/.test(raw) ? 0 : parseDuration(raw, "--older-than", "d");
      const config = configFrom(globalsOf(parsed));
      const dryRun = flag(parsed, "dryRun");
      const result = await withSession(config, { create: false }, async (session) =>
        session
          ? cleanupFinishedTasks(session, {
              before: env.now() - age,
              dryRun,
              deleteUnmerged: flag(parsed, "deleteUnmerged"),
            })
          : {
              tasks: [],
              files: [],
              keptForDependents: 0,
              worktreesRemoved: [],
              branchesDeleted: [],
              keptUnmerged: [],
              dryRun,
            },
      );
      if (flag(parsed, "json")) {
        return printJson(env.output, {
          dryRun,
          olderThanMs: age,
          tasks: result.tasks.map((t) => ({
            id: t.id,
            status: t.status,
            description: t.description,
          })),
          files: result.files,
          keptForDependents: result.keptForDependents,
          worktreesRemoved: result.worktreesRemoved,
          branchesDeleted: result.branchesDeleted,
          keptUnmerged: result.keptUnmerged.map((ws) => ({ taskId: ws.taskId, branch: ws.branch })),
        });
      }
      const verb = dryRun ? "Would remove" : "Removed";
      println(
        env.output,
        `${verb} ${result.tasks.length} finished task(s) older than ${formatDuration(age)} and ${result.files.length} file(s)`,
      );
      for (const t of result.tasks.slice(0, dryRun ? 1000 : 20)) {
        println(
          env.output,
          `  ${shortId(t.id)}  ${t.status.padEnd(9)}  ${truncate(t.description, 70)}`,
        );
      }
      if (dryRun) for (const f of result.files) println(env.output, `  ${f}`);
      if (result.worktreesRemoved.length > 0 || result.branchesDeleted.length > 0) {
        println(
          env.output,
          `${verb} ${result.worktreesRemoved.length} worktree(s) and ${result.branchesDeleted.length} merged branch(es)`,
        );
      }
      if (result.keptUnmerged.length > 0) {
        println(
          env.output,
          `Kept ${result.keptUnmerged.length} task branch(es) with work not merged, and their tasks: ${result.keptUnmerged
            .slice(0, 5)
            .map((ws) => ws.branch)
            .join(
              ", ",
            )}${result.keptUnmerged.length > 5 ? ", ..." : ""} (merge them, or delete them with --delete-unmerged)`,
        );
      }
      if (result.keptForDependents > 0) {
        println(
          env.output,
          `Kept ${result.keptForDependents} old task(s) that unfinished tasks still depend on`,
        );
      }
    },
  };
}
