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
  return makeTaskChangeCommand(env, {
    name: "retry",
    apply: (queue, ref) => queue.retry(ref),
    done: (task) => `Requeued ${task.id}; its dependents can run once it completes`,
  });
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
        if (!session)
          throw new NotFoundError(
            `no task matches '${ref}'`,
            `there is no queue at ${config.dbPath} yet`,
          );
        return spec.apply(session.queue, ref);
      });
      if (flag(parsed, "json")) return printJson(env.output, task);
      println(env.output, spec.done(task));
    },
  };
}
