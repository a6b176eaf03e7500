/** The shapes of what `orchestrate <command> --json` prints, as the e2e tests read them. */

export interface Dependency {
  id: string;
  description: string;
  status: string;
}

/** A task, as `submit`, `cancel` and `retry` print it and `status` lists it. */
export interface TaskJson {
  id: string;
  description: string;
  agentType: string | null;
  status: string;
  priority: number;
  context: Record<string, unknown> | null;
  createdAt: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | null;
  error: string | null;
  unmetDependencies: number;
}

/** `task <id> --json`. */
export interface TaskDetail extends TaskJson {
  dependencies: Dependency[];
  dependents: Dependency[];
  events: { kind: string; at: number; data: Record<string, unknown> | null }[];
  agentRuns: unknown[];
}

/** `status --json`. */
export interface StatusJson {
  database: string;
  counts: Record<string, number>;
  total: number;
  blocked: { count: number; tasks: { id: string; description: string; waitingOn: Dependency[] }[] };
  recent: TaskJson[];
  agents: unknown[];
}
