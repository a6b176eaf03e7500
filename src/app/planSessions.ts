import type { Decomposer } from "../core/decomposer.ts";
import { ConflictError, isOrchestrateError, NotFoundError, UsageError } from "../core/errors.ts";
import { looksLikeIdPrefix, randomHex, TASK_ID_LENGTH } from "../core/ids.ts";
import type { Plan, PlanMessage, PlannedTask } from "../core/plan.ts";
import {
  addPlannedTask,
  executionOrder,
  findPlannedTask,
  modifyPlannedTask,
  planProblems,
  type RewiredDependent,
  removePlannedTask,
  splitPlannedTask,
  type TaskDraft,
} from "../core/planEdits.ts";
import type { Task } from "../core/task.ts";
import { DEFAULT_MAX_ATTEMPTS, MAX_DESCRIPTION_LENGTH, type TaskQueue } from "../core/taskQueue.ts";
import { type Isolation, type MergeState, workspaceGroup } from "../core/taskWorkspace.ts";
import type { Store } from "../ports/store.ts";

/** How a discussion turn went. */
export type DiscussTurn =
  | { kind: "answer"; text: string }
  | { kind: "no-model" }
  | { kind: "failed"; reason: string };

/**
 * The Interactive Planner without its terminal: planning sessions kept in the store. Every operation
 * loads the plan, applies one pure change (core's planEdits) and saves the result in one transaction
 * before it returns, so a crash or Ctrl-C between two steps loses nothing. Only draft plans change;
 * approval checks the plan; execution queues its tasks (through the task queue, validated like any
 * submission) once, however often it is asked. Finding and executing plans needs no decomposer;
 * planning and approving do.
 */
export class PlanSessions {
  readonly #store: Store;
  readonly #queue: TaskQueue;
  readonly #decomposer: Decomposer | null;
  readonly #clock: () => number;
  readonly #baseCommit: (isolation: Isolation | null) => Promise<string | null>;
  readonly #isolation: Isolation | null;

  constructor(
    store: Store,
    queue: TaskQueue,
    decomposer: Decomposer | null,
    clock: () => number = Date.now,
    /** With worktree isolation, the commit an executed plan's branches start from (HEAD then). */
    baseCommit: (isolation: Isolation | null) => Promise<string | null> = async () => null,
    /** The isolation a new plan records (the configured one; null: decided when it is executed). */
    isolation: Isolation | null = null,
  ) {
    this.#store = store;
    this.#queue = queue;
    this.#decomposer = decomposer;
    this.#clock = clock;
    this.#baseCommit = baseCommit;
    this.#isolation = isolation;
  }

  /** The decomposer planning uses (the model, else the heuristic). */
  get decomposer(): Decomposer {
    if (!this.#decomposer) {
      throw new Error("plan sessions opened without a decomposer cannot plan or approve (a bug)");
    }
    return this.#decomposer;
  }

  /** Decomposes `goal` and saves the result as a new draft (or, with `approve`, approved) plan. */
  async start(
    goal: string,
    options: { approve?: boolean; isolation?: Isolation | null } = {},
  ): Promise<{ plan: Plan; warnings: string[] }> {
    const text = goal.trim();
    if (text === "") {
      throw new UsageError(
        "the goal is empty",
        'say what to build: orchestrate plan "Build a REST API with auth"',
      );
    }
    if (text.length > MAX_DESCRIPTION_LENGTH) {
      throw new UsageError(
        `the goal is ${text.length} characters; the limit is ${MAX_DESCRIPTION_LENGTH}`,
      );
    }
    const made = await this.decomposer.decompose(text);
    const now = this.#clock();
    const plan: Plan = {
      id: randomHex(TASK_ID_LENGTH),
      goal: text,
      status: options.approve ? "approved" : "draft",
      planner: made.planner,
      version: 1,
      tasks: made.value.tasks,
      // The model's analysis of the goal opens the discussion: shown with the plan, given back later.
      discussion: made.value.analysis
        ? [{ at: now, role: "assistant", content: made.value.analysis }]
        : [],
      createdAt: now,
      updatedAt: now,
      approvedAt: options.approve ? now : null,
      executedAt: null,
      isolation: options.isolation ?? this.#isolation,
    };
    if (options.approve) this.#refuseProblems(plan.tasks);
    await this.#store.insertPlan(plan);
    return { plan, warnings: made.warnings };
  }

  /** Finds a plan by id or unique prefix. */
  async get(idOrPrefix: string): Promise<Plan> {
    const input = idOrPrefix.trim().toLowerCase();
    if (!looksLikeIdPrefix(input)) {
      throw new UsageError(
        `'${idOrPrefix}' is not a plan id`,
        "plan ids are hex digits; list them with 'orchestrate plan-list'",
      );
    }
    const ids = await this.#store.findPlanIds(input, 6);
    if (ids.length === 0) {
      throw new NotFoundError(
        `no plan matches '${idOrPrefix}'`,
        "list plans with 'orchestrate plan-list'",
      );
    }
    if (ids.length > 1 && !ids.includes(input)) {
      throw new UsageError(
        `'${idOrPrefix}' matches several plans: ${ids.map((id) => id.slice(0, 8)).join(", ")}`,
        "give more characters of the id",
      );
    }
    const plan = await this.#store.getPlan(ids.includes(input) ? input : (ids[0] as string));
    if (!plan) throw new NotFoundError(`no plan matches '${idOrPrefix}'`);
    return plan;
  }

  async add(planId: string, draft: TaskDraft): Promise<{ plan: Plan; task: PlannedTask }> {
    const plan = await this.#draft(planId);
    const result = addPlannedTask(plan.tasks, draft, this.decomposer.types);
    return { plan: await this.#save(plan, result.tasks), task: result.task };
  }

  async modify(
    planId: string,
    key: string,
    changes: Partial<TaskDraft>,
  ): Promise<{ plan: Plan; task: PlannedTask }> {
    const plan = await this.#draft(planId);
    const result = modifyPlannedTask(plan.tasks, key, changes, this.decomposer.types);
    return { plan: await this.#save(plan, result.tasks), task: result.task };
  }

  /**
   * Splits a task with the model (or the heuristic when there is none or its answer is unusable).
   * Aborting `signal` cancels the model call (CancelledError) and changes nothing.
   */
  async split(
    planId: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<{ plan: Plan; parts: PlannedTask[]; replaced: PlannedTask; warnings: string[] }> {
    const plan = await this.#draft(planId);
    const replaced = findPlannedTask(plan.tasks, key);
    const made = await this.decomposer.split(replaced, plan.goal, signal);
    // The model may take a while: split what is saved now, not what was loaded before asking.
    const current = await this.#draft(planId);
    const result = splitPlannedTask(current.tasks, replaced.key, made.value, this.decomposer.types);
    return {
      plan: await this.#save(current, result.tasks),
      parts: result.parts,
      replaced,
      warnings: made.warnings,
    };
  }

  async remove(
    planId: string,
    key: string,
  ): Promise<{ plan: Plan; removed: PlannedTask; rewired: RewiredDependent[] }> {
    const plan = await this.#draft(planId);
    const result = removePlannedTask(plan.tasks, key);
    return {
      plan: await this.#save(plan, result.tasks),
      removed: result.removed,
      rewired: result.rewired,
    };
  }

  /**
   * One discussion turn. The person's message and the model's answer are kept together once the answer
   * is in; a model that fails or is cancelled (`signal`) leaves the discussion as it was.
   */
  async discuss(planId: string, message: string, signal?: AbortSignal): Promise<DiscussTurn> {
    const text = message.trim();
    if (text === "") throw new UsageError("the message is empty", "ask a question about the plan");
    const plan = await this.get(planId);
    if (!this.decomposer.llm) return { kind: "no-model" };
    const asked: PlanMessage = { at: this.#clock(), role: "user", content: text };
    let answer: string | null;
    try {
      answer = await this.decomposer.discuss(plan.goal, plan.tasks, plan.discussion, text, signal);
    } catch (error) {
      if (isOrchestrateError(error)) throw error;
      return { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
    }
    if (answer === null) return { kind: "no-model" };
    await this.#store.appendPlanMessages(plan.id, [
      asked,
      { at: this.#clock(), role: "assistant", content: answer },
    ]);
    return { kind: "answer", text: answer };
  }

  /** Problems that stop approval (empty when the plan can be approved). */
  problems(plan: Plan): string[] {
    return planProblems(plan.tasks, this.decomposer.types);
  }

  /**
   * Approves a draft. With `reviewedVersion` (the version the person looked at), a plan changed since
   * in another session is not approved (ConflictError): approval is of what was reviewed.
   */
  async approve(planId: string, reviewedVersion?: number): Promise<Plan> {
    const plan = await this.#draft(planId);
    this.#refuseProblems(plan.tasks);
    const approved = await this.#store.setPlanStatus(
      plan.id,
      ["draft"],
      "approved",
      this.#clock(),
      reviewedVersion,
    );
    if (!approved)
      throw new ConflictError(
        `plan ${plan.id.slice(0, 8)} changed while it was being approved`,
        "look at it again with 'orchestrate plan-continue'",
      );
    return approved;
  }

  /**
   * Queues an approved plan's tasks with their dependency edges and the plan's id. Asking again (or from
   * two terminals at once) queues nothing more: `queued` says whether this call did it.
   */
  async execute(planId: string): Promise<{ plan: Plan; queued: boolean }> {
    const plan = await this.get(planId);
    if (plan.status === "draft") {
      throw new ConflictError(
        `plan ${plan.id.slice(0, 8)} is a draft; approve it before executing it`,
        `review and approve it with 'orchestrate plan-continue ${plan.id.slice(0, 8)}' (choose [p])`,
      );
    }
    const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
    const inputs = executionOrder(plan.tasks).map((key) => {
      const t = byKey.get(key) as PlannedTask;
      return {
        key,
        description: t.description,
        agentType: t.agentType,
        priority: t.priority,
        context: { goal: plan.goal, phase: t.phase, planTask: key },
        maxAttempts: DEFAULT_MAX_ATTEMPTS,
        dependsOn: t.dependsOn,
      };
    });
    if (plan.status !== "approved") return this.#queue.queuePlan(plan.id, inputs);
    const baseCommit = await this.#baseCommit(plan.isolation ?? null);
    return this.#queue.queuePlan(plan.id, inputs, { baseCommit });
  }

  /** How far each of the plan's task branches is merged (worktree isolation), by task id. */
  async mergeStates(plan: Plan): Promise<Map<string, MergeState>> {
    const workspaces = await this.#queue.workspaces({ group: workspaceGroup(plan.id) });
    return new Map(workspaces.map((ws) => [ws.taskId, ws.merge]));
  }

  /** The plan's queued tasks (newest state), for progress views. */
  async queuedTasks(plan: Plan): Promise<Task[]> {
    return this.#queue.list({ planId: plan.id, limit: Math.max(plan.tasks.length, 1) * 2 });
  }

  async #draft(planId: string): Promise<Plan> {
    const plan = await this.get(planId);
    if (plan.status !== "draft") {
      throw new ConflictError(
        `plan ${plan.id.slice(0, 8)} is ${plan.status}; only a draft plan can be changed`,
        "start a new plan with 'orchestrate plan <goal>' to plan different work",
      );
    }
    return plan;
  }

  async #save(plan: Plan, tasks: PlannedTask[]): Promise<Plan> {
    const now = this.#clock();
    await this.#store.savePlanTasks(plan.id, tasks, now, plan.version);
    return { ...plan, tasks, updatedAt: now, version: plan.version + 1 };
  }

  #refuseProblems(tasks: readonly PlannedTask[]): void {
    const problems = planProblems(tasks, this.decomposer.types);
    if (problems.length > 0) {
      throw new UsageError(
        `the plan cannot be approved: ${problems.join("; ")}`,
        "fix it first: add tasks, or change their dependencies",
      );
    }
  }
}
