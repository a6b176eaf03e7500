import { ConflictError } from "../core/errors.ts";
import { randomHex } from "../core/ids.ts";
import type { Task } from "../core/task.ts";
import type { SubmitInput } from "../core/taskQueue.ts";
import type { Isolation } from "../core/taskWorkspace.ts";
import { baseCommitForNewTasks } from "./isolation.ts";
import type { Session } from "./session.ts";

/** A small, realistic plan: five specialist tasks with dependencies, two of which can run in parallel. */
function demoTasks(planId: string): SubmitInput[] {
  const base = { planId, maxAttempts: 2 };
  return [
    {
      ...base,
      key: "spec",
      agentType: "specifications-engineer",
      priority: 3,
      description:
        "Write the requirements for a todo REST API with user sign-up, login and per-user todo lists",
    },
    {
      ...base,
      key: "schema",
      agentType: "data-architect-governance",
      dependsOn: ["spec"],
      description: "Design the database schema for users and todos, with constraints and indexes",
    },
    {
      ...base,
      key: "ui",
      agentType: "frontend-ui-engineer",
      dependsOn: ["spec"],
      description: "Build the React UI for signing in and managing todos",
    },
    {
      ...base,
      key: "api",
      agentType: "backend-systems-engineer",
      dependsOn: ["spec", "schema"],
      description: "Implement the REST API endpoints for auth and todos on the schema",
    },
    {
      ...base,
      key: "tests",
      agentType: "backend-systems-engineer",
      dependsOn: ["api"],
      description: "Write end-to-end tests for the API: sign-up, login, todo CRUD, auth failures",
    },
  ];
}

/**
 * Queues the demo plan, refusing a queue that still has unfinished work (the demo's run would run it
 * too). With `simulated`, every task runs on the built-in simulated agent.
 */
export async function queueDemo(
  session: Session,
  options: { simulated: boolean; isolation: Isolation },
): Promise<{ planId: string; tasks: Task[] }> {
  const counts = await session.queue.counts();
  const unfinished = counts.pending + counts.assigned + counts.in_progress;
  if (unfinished > 0) {
    throw new ConflictError(
      `the queue at ${session.location} has ${unfinished} unfinished task(s); the demo would run them too`,
      "run the demo in an empty directory, or give it its own queue: orchestrate demo --base-dir /tmp/orchestrate-demo",
    );
  }
  const planId = `demo-${randomHex(6)}`;
  const tasks = await session.queue.addMany(
    demoTasks(planId).map((t) => (options.simulated ? { ...t, backend: "simulated" } : t)),
    { baseCommit: await baseCommitForNewTasks(session.config, options.isolation) },
  );
  return { planId, tasks };
}
