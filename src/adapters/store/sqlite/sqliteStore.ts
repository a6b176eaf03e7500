import { ConflictError } from "../../../core/errors.ts";
import type {
  Plan,
  PlanMessage,
  PlannedTask,
  PlanStatus,
  PlanSummary,
} from "../../../core/plan.ts";
import type { AgentRun, DependencyInfo, NewTask, Task, TaskEvent } from "../../../core/task.ts";
import type { TaskStatus } from "../../../core/taskStatus.ts";
import type { TaskWorkspace } from "../../../core/taskWorkspace.ts";
import type {
  AgentFinish,
  AgentFinishResult,
  AgentStart,
  BlockedTask,
  ClaimRequest,
  PlanTaskToQueue,
  Store,
  TaskDeferral,
  TaskFilter,
  TaskTransition,
  WorkerProgress,
  WorkspaceFilter,
} from "../../../ports/store.ts";
import { SqliteAgentRuns } from "./sqliteAgentRuns.ts";
import { CLEANUP_CHUNK, SqliteCleanup } from "./sqliteCleanup.ts";
import { SqliteConnection } from "./sqliteConnection.ts";
import { openDatabase } from "./sqliteDatabase.ts";
import { SqliteEvents } from "./sqliteEvents.ts";
import { SqlitePlans } from "./sqlitePlans.ts";
import { SqliteTasks } from "./sqliteTasks.ts";
import { SqliteWorkspaces } from "./sqliteWorkspaces.ts";

export interface SqliteStoreOptions {
  path: string;
  busyTimeoutMs: number;
}

/** Opens the SQLite store at `path` (creating and migrating it as needed). */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(new SqliteConnection(openDatabase(options), options.path));
}

/**
 * The Store port on `node:sqlite`: one connection, and one class per aggregate (tasks and claims,
 * agent runs, plans, events, cleanup) whose statements this class composes into transactions. A
 * compound change (a task's transition with its agent-run row, a finish with the next claim) is one
 * write transaction, so it commits or vanishes as a whole.
 */
export class SqliteStore implements Store {
  readonly location: string;
  readonly #conn: SqliteConnection;
  readonly #events: SqliteEvents;
  readonly #tasks: SqliteTasks;
  readonly #agentRuns: SqliteAgentRuns;
  readonly #plans: SqlitePlans;
  readonly #cleanup: SqliteCleanup;
  readonly #workspaces: SqliteWorkspaces;
  #lastClaimEmpty = false;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    this.location = conn.location;
    this.#events = new SqliteEvents(conn);
    this.#plans = new SqlitePlans(conn, this.#events);
    this.#tasks = new SqliteTasks(conn, this.#events, (planId, now) =>
      this.#plans.followTasks(planId, this.#tasks.countForPlan(planId), now),
    );
    this.#agentRuns = new SqliteAgentRuns(conn, this.#events);
    this.#cleanup = new SqliteCleanup(conn, this.#events);
    this.#workspaces = new SqliteWorkspaces(conn, this.#events);
  }

  async close(): Promise<void> {
    this.#conn.close();
  }

  /** Write transactions committed through this store: a diagnostic for benchmarks. */
  get commits(): number {
    return this.#conn.commits;
  }

  // ---- tasks ---------------------------------------------------------------------------------

  async insertTasks(tasks: readonly NewTask[], now: number): Promise<void> {
    this.#conn.write(() => this.#insertTasks(tasks, now));
  }

  /** Tasks with their workspaces (inside the caller's transaction). */
  #insertTasks(tasks: readonly NewTask[], now: number): void {
    this.#tasks.insert(tasks, now);
    for (const task of tasks) {
      if (task.workspace) this.#workspaces.insertSeed(task.id, task.workspace, now);
    }
  }

  async claimTask(request: ClaimRequest): Promise<Task | null> {
    // After a claim that found nothing (an idle worker's poll), look first without the write lock that
    // every other process would queue behind; a busy worker goes straight to the claim.
    if (this.#lastClaimEmpty && !this.#conn.read(() => this.#tasks.hasClaimable(request.now))) {
      return null;
    }
    const claimed = this.#conn.write(() => this.#tasks.claim(request));
    this.#lastClaimEmpty = claimed === null;
    return claimed;
  }

  async transitionTask(transition: TaskTransition): Promise<Task | null> {
    return this.#conn.write(() => this.#tasks.transition(transition));
  }

  async startAgent(start: AgentStart): Promise<Task | null> {
    return this.#conn.write(() => {
      const task = this.#tasks.transition(start.transition);
      if (task) this.#agentRuns.insert(start.run);
      if (task && start.workspace) this.#workspaces.save(start.workspace);
      return task;
    });
  }

  async finishAgent(finish: AgentFinish): Promise<AgentFinishResult> {
    return this.#conn.write(() => {
      this.#agentRuns.end(finish.agentRunId, finish.end);
      for (const ws of finish.workspaces ?? []) this.#workspaces.save(ws);
      let task: Task | null = null;
      let current: Task | null = null;
      if (finish.transition) {
        task = this.#tasks.transition(finish.transition);
        if (!task) current = this.#tasks.get(finish.transition.taskId);
      }
      if (task && finish.onCompletion) {
        this.#insertTasks(finish.onCompletion.insert, finish.transition?.now ?? finish.end.endedAt);
        for (const ws of finish.onCompletion.workspaces) this.#workspaces.save(ws);
      }
      if (!finish.claim) return { task, current, next: null };
      const next = this.#tasks.claim(finish.claim);
      this.#lastClaimEmpty = next === null;
      return { task, current, next };
    });
  }

  async recordProgress(progress: WorkerProgress): Promise<{ lost: string[] }> {
    const { renew, agents = [] } = progress;
    if (!renew?.leases.length && agents.length === 0) return { lost: [] };
    return this.#conn.write(() => {
      for (const agent of agents) this.#agentRuns.saveProgress(agent);
      const lost = renew
        ? this.#tasks.renewLeases(
            progress.workerId,
            renew.leases,
            renew.leaseExpiresAt,
            progress.now,
          )
        : [];
      return { lost };
    });
  }

  async nextClaimableAt(): Promise<number | null> {
    return this.#conn.read(() => this.#tasks.nextClaimableAt());
  }

  async expiredLeases(now: number, limit: number): Promise<Task[]> {
    return this.#conn.read(() => this.#tasks.expiredLeases(now, limit));
  }

  async getTask(id: string): Promise<Task | null> {
    return this.#conn.read(() => this.#tasks.get(id));
  }

  async findTaskIds(prefix: string, limit: number): Promise<string[]> {
    return this.#conn.read(() => this.#tasks.findIds(prefix, limit));
  }

  async listTasks(filter: TaskFilter): Promise<Task[]> {
    return this.#conn.read(() => this.#tasks.list(filter));
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#conn.read(() => this.#tasks.countByStatus());
  }

  async blockedTasks(limit: number): Promise<{ count: number; tasks: BlockedTask[] }> {
    return this.#conn.read(() => this.#tasks.blocked(limit));
  }

  async dependenciesOf(taskId: string): Promise<DependencyInfo[]> {
    return this.#conn.read(() => this.#tasks.dependenciesOf(taskId));
  }

  async dependentsOf(taskId: string): Promise<DependencyInfo[]> {
    return this.#conn.read(() => this.#tasks.dependentsOf(taskId));
  }

  async deferTask(deferral: TaskDeferral): Promise<Task | null> {
    return this.#conn.write(() => {
      const task = this.#tasks.transition(deferral.transition);
      if (!task) return null;
      this.#insertTasks([deferral.waitFor], deferral.now);
      this.#tasks.addDependency(task.id, deferral.waitFor.id, deferral.now);
      return this.#tasks.get(task.id);
    });
  }

  // ---- workspaces ----------------------------------------------------------------------------

  async getWorkspace(taskId: string): Promise<TaskWorkspace | null> {
    return this.#conn.read(() => this.#workspaces.get(taskId));
  }

  async listWorkspaces(filter: WorkspaceFilter): Promise<TaskWorkspace[]> {
    return this.#conn.read(() => this.#workspaces.list(filter));
  }

  async saveWorkspaces(workspaces: readonly TaskWorkspace[]): Promise<void> {
    if (workspaces.length === 0) return;
    this.#conn.write(() => {
      for (const ws of workspaces) this.#workspaces.save(ws);
    });
  }

  // ---- events ------------------------------------------------------------------------------

  async eventsFor(taskId: string, limit: number): Promise<TaskEvent[]> {
    return this.#conn.read(() => this.#events.forTask(taskId, limit));
  }

  async readEvents(afterId: number, limit: number): Promise<TaskEvent[]> {
    return this.#conn.read(() => this.#events.after(afterId, limit));
  }

  // ---- agent runs --------------------------------------------------------------------------

  async runningAgents(): Promise<AgentRun[]> {
    return this.#conn.read(() => this.#agentRuns.running());
  }

  async agentRunsFor(taskId: string): Promise<AgentRun[]> {
    return this.#conn.read(() => this.#agentRuns.forTask(taskId));
  }

  // ---- cleanup ------------------------------------------------------------------------------

  async cleanupCandidates(before: number): Promise<{ tasks: Task[]; keptForDependents: number }> {
    return this.#conn.read(() => this.#cleanup.candidates(before));
  }

  async deleteTasks(ids: readonly string[], now: number): Promise<AgentRun[]> {
    const removed: AgentRun[] = [];
    for (let i = 0; i < ids.length; i += CLEANUP_CHUNK) {
      const chunk = ids.slice(i, i + CLEANUP_CHUNK);
      removed.push(...this.#conn.write(() => this.#cleanup.deleteChunk(chunk, now)));
    }
    return removed;
  }

  // ---- plans --------------------------------------------------------------------------------

  async insertPlan(plan: Plan): Promise<void> {
    this.#conn.write(() => this.#plans.insert(plan));
  }

  async getPlan(id: string): Promise<Plan | null> {
    // The plan row, its tasks and its messages from one snapshot.
    return this.#conn.snapshot(() => this.#plans.get(id));
  }

  async findPlanIds(prefix: string, limit: number): Promise<string[]> {
    return this.#conn.read(() => this.#plans.findIds(prefix, limit));
  }

  async listPlans(limit: number, statuses?: readonly PlanStatus[]): Promise<PlanSummary[]> {
    return this.#conn.read(() => this.#plans.list(limit, statuses));
  }

  async savePlanTasks(
    planId: string,
    tasks: readonly PlannedTask[],
    now: number,
    expectedVersion?: number,
  ): Promise<void> {
    this.#conn.write(() => this.#plans.saveTasks(planId, tasks, now, expectedVersion));
  }

  async appendPlanMessages(planId: string, messages: readonly PlanMessage[]): Promise<void> {
    this.#conn.write(() => this.#plans.appendMessages(planId, messages));
  }

  async setPlanStatus(
    planId: string,
    from: readonly PlanStatus[],
    to: PlanStatus,
    now: number,
    expectedVersion?: number,
  ): Promise<Plan | null> {
    return this.#conn.write(() => this.#plans.setStatus(planId, from, to, now, expectedVersion));
  }

  async executePlan(
    planId: string,
    tasks: readonly PlanTaskToQueue[],
    now: number,
  ): Promise<{ plan: Plan; queued: boolean }> {
    return this.#conn.write(() => {
      const status = this.#plans.status(planId);
      if (status === "draft") {
        throw new ConflictError(
          `plan ${planId.slice(0, 8)} is a draft; approve it before executing it`,
          undefined,
          { reason: "plan-is-draft" },
        );
      }
      if (status !== "approved") return { plan: this.#plans.get(planId) as Plan, queued: false };
      this.#insertTasks(tasks, now);
      this.#plans.markExecuting(planId, tasks, now);
      return { plan: this.#plans.get(planId) as Plan, queued: true };
    });
  }
}
