import { retryTask } from "../../app/retryTask.ts";
import { withSession } from "../../app/session.ts";
import { NotFoundError } from "../../core/errors.ts";
import type { Task } from "../../core/task.ts";
import type { TaskQueue } from "../../core/taskQueue.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { printJson, println } from "../output.ts";

/** `orchestrate retry <id>`: a failed or cancelled task goes back to pending with fresh attempts. */
export function makeRetryCommand(env: CommandEnv): CommandSpec {
  return {
    name: "retry",
    args: [{ name: "id", description: "task id or a unique prefix of it" }],
    options: [
      {
        name: "fresh",
        description:
          "start over from the base commit instead of the task branch's last commit (the old branch is kept, renamed)",
      },
      { name: "json", description: "print the updated task as JSON" },
    ],
    async run(parsed) {
      const ref = String(parsed.args["id"]);
      const config = configFrom(globalsOf(parsed));
      const { task, keptAs } = await withSession(config, { create: false }, async (session) => {
        if (!session) throw noQueue(ref, config.dbPath);
        return retryTask(session, ref, { fresh: flag(parsed, "fresh") });
      });
      if (flag(parsed, "json")) return printJson(env.output, { ...task, keptAs });
      println(env.output, `Requeued ${task.id}; its dependents can run once it completes`);
      if (keptAs)
        println(
          env.output,
          `Its earlier work is kept on branch ${keptAs}; it starts over from its base.`,
        );
    },
  };
}

function noQueue(ref: string, dbPath: string): NotFoundError {
  return new NotFoundError(`no task matches '${ref}'`, `there is no queue at ${dbPath} yet`);
}

/** `orchestrate cancel <id>`: a task that has not finished will not run (again). */
export function makeCancelCommand(env: CommandEnv): CommandSpec {
  return makeTaskChangeCommand(env, {
    name: "cancel",
    apply: (queue, ref) => queue.cancel(ref),
    done: (task) => `Cancelled ${task.id}`,
  });
}

function makeTaskChangeCommand(
  env: CommandEnv,
  spec: {
    name: string;
    apply: (queue: TaskQueue, ref: string) => Promise<Task>;
    done: (task: Task) => string;
  },
): CommandSpec {
  return {
    name: spec.name,
    args: [{ name: "id", description: "task id or a unique prefix of it" }],
    options: [{ name: "json", description: "print the updated task as JSON" }],
    async run(parsed) {
      const ref = String(parsed.args["id"]);
      const config = configFrom(globalsOf(parsed));
      const task = await withSession(config, { create: false }, async (session) => {
        if (!session) throw noQueue(ref, config.dbPath);
        return spec.apply(session.queue, ref);
      });
      if (flag(parsed, "json")) return printJson(env.output, task);
      println(env.output, spec.done(task));
    },
  };
}
