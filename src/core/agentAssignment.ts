import type { AgentBackend } from "../ports/agentBackend.ts";
import { type AgentTypeInfo, routeByKeywords } from "./agentTypes.ts";
import type { Task } from "./task.ts";
import type { TaskQueue } from "./taskQueue.ts";

/**
 * Chooses the backend for a task; throws (with a reason) when none can run it. `check`, when present,
 * refuses a whole run up front (before anything is claimed) when waiting tasks could not run.
 */
export type BackendResolver = ((task: Task, agentType: string) => AgentBackend) & {
  check?: (queue: TaskQueue) => Promise<void>;
};

/** Who works on a task: its specialist type (after routing `auto`) and the backend that runs it. */
export interface AgentAssignment {
  agentType: string;
  /** The type's system prompt ("" for a type without one). */
  systemPrompt: string;
  backend: AgentBackend;
  /** The task's own limit, else the backend's, else the run's default. */
  timeoutMs: number;
}

/**
 * Decides, without doing anything, who runs `task`: `auto` tasks are routed by their description, the
 * resolver picks the backend. Throws when no backend can run it (the task then fails without a retry:
 * trying again would meet the same configuration).
 */
export function assignAgent(
  task: Task,
  options: {
    agentTypes: readonly AgentTypeInfo[];
    resolveBackend: BackendResolver;
    defaultTimeoutMs: number;
  },
): AgentAssignment {
  const agentType = task.agentType ?? routeByKeywords(task.description, options.agentTypes);
  const type = options.agentTypes.find((t) => t.name === agentType);
  const backend = options.resolveBackend(task, agentType);
  return {
    agentType,
    systemPrompt: type?.systemPrompt ?? "",
    backend,
    timeoutMs: task.timeoutMs ?? backend.defaultTimeoutMs ?? options.defaultTimeoutMs,
  };
}
