import { readAgentConfigNames } from "../core/agentConfigNames.ts";
import {
  type AgentTypeInfo,
  AUTO_AGENT_TYPE,
  BUILTIN_AGENT_TYPES,
  resolveAgentType,
} from "../core/agentTypes.ts";
import { BUILTIN_BACKEND_NAMES, resolveBackendName } from "../core/backendNames.ts";
import type { Task } from "../core/task.ts";
import type { SubmitInput } from "../core/taskQueue.ts";
import type { Isolation } from "../core/taskWorkspace.ts";
import { baseCommitForNewTasks } from "./isolation.ts";
import type { Session } from "./session.ts";

/**
 * A task as a person asks for it: the agent type and backend by name (`auto` or a specialist, a
 * built-in backend or one agents.json declares), everything else already typed.
 */
export interface SubmitRequest extends Omit<SubmitInput, "agentType" | "backend"> {
  /** A specialist type name, or `auto` (the default) to route the task by its description. */
  agent?: string;
  /** A backend name; `null` or absent lets the run choose. */
  backend?: string | null;
}

/**
 * Resolves a request's names against the built-in types and backends and those agents.json (in
 * `baseDir`) adds, so that a typo is refused with a suggestion before any store is opened or written.
 */
export function resolveSubmitRequest(baseDir: string, request: SubmitRequest): SubmitInput {
  const known = knownNames(baseDir);
  const { agent, backend, ...rest } = request;
  return {
    ...rest,
    agentType: resolveAgentType(agent ?? AUTO_AGENT_TYPE, known.types),
    backend: backend == null ? null : resolveBackendName(backend, known.backends),
  };
}

/**
 * Submits tasks in one transaction (all or none). Dependencies may name existing tasks by unique
 * prefix or other tasks of the batch by key. With worktree isolation (the default in a git repository)
 * each task's branch and base commit (HEAD now) are recorded with it.
 */
export async function submitTasks(
  session: Session,
  inputs: readonly SubmitInput[],
  options: { isolation?: Isolation | null } = {},
): Promise<Task[]> {
  const baseCommit = await baseCommitForNewTasks(session.config, options.isolation);
  return session.queue.addMany(inputs, { baseCommit });
}

/**
 * The agent types and backends a task may name: the built-in ones plus those agents.json adds (only their
 * names: `run` validates the file itself).
 */
function knownNames(baseDir: string): {
  types: readonly AgentTypeInfo[];
  backends: readonly string[];
} {
  const added = readAgentConfigNames(baseDir);
  if (added.types.length === 0 && added.backends.length === 0) {
    return { types: BUILTIN_AGENT_TYPES, backends: BUILTIN_BACKEND_NAMES };
  }
  const builtin = new Set(BUILTIN_AGENT_TYPES.map((t) => t.name));
  const extra = added.types
    .filter((name) => !builtin.has(name))
    .map(
      (name): AgentTypeInfo => ({
        name,
        title: name,
        description: "",
        keywords: [],
        systemPrompt: "",
      }),
    );
  return {
    types: [...BUILTIN_AGENT_TYPES, ...extra],
    backends: [...BUILTIN_BACKEND_NAMES, ...added.backends],
  };
}
