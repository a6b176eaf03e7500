import type { Config } from "../core/config.ts";
import type { Decomposer } from "../core/decomposer.ts";
import type { Plan, PlanStatus, PlanSummary } from "../core/plan.ts";
import { TaskQueue } from "../core/taskQueue.ts";
import type { Store } from "../ports/store.ts";
import { openStore } from "./openStore.ts";
import type { PlanSessions } from "./planSessions.ts";

/**
 * One command's (or one server's) view of the queue: the configuration, the task queue and the plans,
 * over one open store. Front ends get everything through a session and the use cases that take it;
 * none of them opens a store itself.
 */
export class Session {
  readonly config: Config;
  readonly queue: TaskQueue;
  readonly #store: Store;
  readonly #clock: () => number;

  constructor(config: Config, store: Store, options: { leaseMs?: number; clock?: () => number }) {
    this.config = config;
    this.#store = store;
    this.#clock = options.clock ?? Date.now;
    this.queue = new TaskQueue({
      store,
      clock: this.#clock,
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    });
  }

  /** Where the queue lives, for messages. */
  get location(): string {
    return this.#store.location;
  }

  /** The newest plans first (only those in `statuses` when given), with their tasks' progress. */
  listPlans(limit: number, statuses?: readonly PlanStatus[]): Promise<PlanSummary[]> {
    return this.#store.listPlans(limit, statuses);
  }

  /** The plan with exactly this id, or null. */
  findPlan(id: string): Promise<Plan | null> {
    return this.#store.getPlan(id);
  }

  /**
   * Planning sessions over this store (their code is loaded only by the commands that plan). Finding
   * and executing plans needs no decomposer; planning, editing, splitting, discussing and approving
   * (which checks the plan's agent types) use `decomposer`.
   */
  async planSessions(decomposer: Decomposer | null = null): Promise<PlanSessions> {
    const { PlanSessions } = await import("./planSessions.ts");
    const { baseCommitForNewTasks } = await import("./isolation.ts");
    return new PlanSessions(
      this.#store,
      this.queue,
      decomposer,
      this.#clock,
      (isolation) => baseCommitForNewTasks(this.config, isolation ?? this.config.isolation),
      this.config.isolation,
    );
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

export interface SessionOptions {
  /** Create the database when it does not exist (commands that write); else `fn` gets null. */
  create: boolean;
  leaseMs?: number;
  clock?: () => number;
}

/**
 * Opens a session for `fn` and closes it afterwards, however `fn` ends. Without `create`, `fn` gets
 * null when there is no queue yet.
 */
export function withSession<T>(
  config: Config,
  options: SessionOptions & { create: true },
  fn: (session: Session) => Promise<T>,
): Promise<T>;
export function withSession<T>(
  config: Config,
  options: SessionOptions,
  fn: (session: Session | null) => Promise<T>,
): Promise<T>;
export async function withSession<T>(
  config: Config,
  options: SessionOptions,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const store = openStore(config, { create: options.create });
  if (!store) return (fn as (session: Session | null) => Promise<T>)(null);
  const session = new Session(config, store, options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
