import { diffWork } from "../../app/diffWork.ts";
import { listWorktrees, type WorktreeRow } from "../../app/listWorktrees.ts";
import { mergeWork } from "../../app/mergeWork.ts";
import { withSession } from "../../app/session.ts";
import { NotFoundError } from "../../core/errors.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { paint, printJson, println, type Style, table } from "../output.ts";

/** `orchestrate worktrees`: each task's worktree and branch, what state its work is in, its size. */
export function makeWorktreesCommand(env: CommandEnv): CommandSpec {
  return {
    name: "worktrees",
    args: [],
    options: [{ name: "json", description: "print as JSON" }],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      const rows = await withSession(config, { create: false }, async (session) =>
        session ? listWorktrees(session) : [],
      );
      if (flag(parsed, "json")) return printJson(env.output, rows);
      if (rows.length === 0) {
        println(
          env.output,
          "No task has a worktree yet (tasks get one when they run in a git repository).",
        );
        return;
      }
      const lines = table(env.output, rows, [
        { header: "TASK", value: (r) => r.taskId.slice(0, 8) },
        {
          header: "STATE",
          value: (r) => r.state,
          style: (r) => STATE_STYLES[r.state],
        },
        { header: "BRANCH", value: (r) => r.branch },
        { header: "FILES", value: (r) => String(r.filesChanged) },
        {
          header: "SIZE",
          value: (r) =>
            r.present
              ? formatBytes(r.sizeBytes)
              : r.headCommit === null && r.path === null
                ? "-"
                : "removed",
        },
        { header: "TASK DESCRIPTION", value: (r) => r.description, flex: true },
      ]);
      env.output.out.write(`${lines.join("\n")}\n`);
      const conflicts = rows.filter((r) => r.state === "conflict" && r.resolverTaskId);
      for (const r of conflicts) {
        println(
          env.output,
          paint(
            "dim",
            `${r.taskId.slice(0, 8)}: conflict being resolved by task ${r.resolverTaskId?.slice(0, 8)}`,
            env.output.out,
          ),
        );
      }
    },
  };
}

const STATE_STYLES: Record<WorktreeRow["state"], Style | undefined> = {
  running: "cyan",
  waiting: undefined,
  finished: "yellow",
  merged: "green",
  conflict: "red",
  unmerged: "red",
};

/** `orchestrate diff <task|plan>`: what a task changed against its base, or a plan against its base commit. */
export function makeDiffCommand(env: CommandEnv): CommandSpec {
  return {
    name: "diff",
    args: [
      {
        name: "ref",
        description:
          "a task id or plan id (unique prefix), or 'tasks' for the ad-hoc tasks' integration branch",
      },
    ],
    options: [
      { name: "stat", description: "summarise: files changed and lines added and removed" },
      { name: "json", description: "print as JSON (base, head, text)" },
    ],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      const ref = String(parsed.args["ref"]);
      const diff = await withSession(config, { create: false }, async (session) => {
        if (!session) throw new NotFoundError("there is no queue here yet", "submit tasks first");
        return diffWork(session, ref, { stat: flag(parsed, "stat") });
      });
      if (flag(parsed, "json")) return printJson(env.output, diff);
      if (diff.text === "") {
        println(
          env.output,
          `No changes: ${diff.subject} is the same as its base ${diff.base.slice(0, 10)}.`,
        );
        return;
      }
      env.output.out.write(diff.text.endsWith("\n") ? diff.text : `${diff.text}\n`);
    },
  };
}

/** `orchestrate merge <plan|task>`: brings the finished work into your current branch, only when asked. */
export function makeMergeCommand(env: CommandEnv): CommandSpec {
  return {
    name: "merge",
    args: [
      {
        name: "ref",
        description: "a plan id (its integration branch), a task id (its own branch), or 'tasks'",
      },
    ],
    options: [{ name: "json", description: "print the result as JSON" }],
    details:
      "The only command that changes your checkout: it merges into the branch you have checked out, refuses\nuncommitted changes to tracked files, and on a conflict aborts and leaves everything as it was.",
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      const ref = String(parsed.args["ref"]);
      const merged = await withSession(config, { create: false }, async (session) => {
        if (!session) throw new NotFoundError("there is no queue here yet", "submit tasks first");
        return mergeWork(session, ref);
      });
      if (flag(parsed, "json")) return printJson(env.output, merged);
      const into = merged.into ?? "the detached HEAD";
      println(
        env.output,
        merged.alreadyUpToDate
          ? `${into} already has everything in ${merged.branch}.`
          : `Merged ${merged.branch} into ${into} (${merged.commit.slice(0, 10)}).`,
      );
      if (merged.notIntegrated > 0) {
        println(
          env.output,
          `! ${merged.notIntegrated} task(s) of it are not integrated yet (running, failed or in conflict): see 'orchestrate worktrees'.`,
        );
      }
    },
  };
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return "?";
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
