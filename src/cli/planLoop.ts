import { createInterface, type Interface } from "node:readline";
import { adviceFor } from "../app/errorAdvice.ts";
import type { PlanSessions } from "../app/planSessions.ts";
import { type AgentTypeInfo, resolveAgentType } from "../core/agentTypes.ts";
import { CancelledError, isOrchestrateError, UsageError } from "../core/errors.ts";
import { shortId } from "../core/ids.ts";
import type { Plan } from "../core/plan.ts";
import { findPlannedTask, type TaskDraft } from "../core/planEdits.ts";
import { parsePriority, priorityName } from "../core/priority.ts";
import { type Output, paint, println } from "./output.ts";
import { progressLine, renderDiscussion, renderGraph, renderPlan } from "./planView.ts";

/** How a session ended: the plan left as a draft, approved, or approved and queued. */
export type LoopOutcome = "kept" | "approved" | "queued";

const MENU = "[d]iscuss  [a]dd  [m]odify  [s]plit  [r]emove  [v]iew  [p]roceed  [q]uit";

/**
 * Reads answers line by line from a terminal or a pipe. Piped lines wait in the iterator's buffer until
 * they are asked for, also after the pipe has ended; the session ends when they are used up (or at
 * Ctrl-D in a terminal). Ctrl-C cancels the model call in progress if there is one, else ends the
 * session. Either way the plan stays as saved.
 */
class Prompter {
  /** Whether a person is typing (a terminal) rather than a script piping answers. */
  readonly tty: boolean;
  readonly #rl: Interface;
  readonly #lines: AsyncIterator<string>;
  readonly #output: Output;
  #ended = false;
  #interrupted = false;
  #cancel: (() => void) | null = null;

  constructor(input: NodeJS.ReadableStream & { isTTY?: boolean }, output: Output) {
    this.tty = input.isTTY === true && output.out.isTTY === true;
    this.#output = output;
    this.#rl = createInterface({ input, output: output.out, terminal: this.tty });
    this.#rl.on("SIGINT", () => {
      output.out.write("\n");
      if (this.#cancel) {
        this.#cancel();
        return;
      }
      this.#interrupted = true;
      this.close();
    });
    this.#rl.on("close", () => {
      this.#ended = true;
    });
    this.#lines = this.#rl[Symbol.asyncIterator]();
  }

  /** The next answer, trimmed; null when input is used up or the person pressed Ctrl-C. */
  async ask(question: string): Promise<string | null> {
    if (this.stopped) return null;
    if (this.tty) {
      this.#rl.setPrompt(question);
      this.#rl.prompt();
    } else {
      this.#output.out.write(question);
    }
    const next = await this.#lines.next();
    if (next.done) {
      if (!this.tty) this.#output.out.write("\n");
      return null;
    }
    const answer = next.value.trim();
    // Piped answers are not echoed by a terminal: echo them so a transcript reads like a session.
    if (!this.tty) this.#output.out.write(`${answer}\n`);
    return answer;
  }

  /** True once the session must end: Ctrl-C, or the end of a terminal's input. */
  get stopped(): boolean {
    return this.#interrupted || (this.tty && this.#ended);
  }

  /**
   * Runs `work` (a model call) so that Ctrl-C in the terminal aborts it instead of ending the session.
   * (Without a terminal, Ctrl-C is a signal to the process, which ends it; the plan is saved.)
   */
  async cancellable<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.#cancel = () => controller.abort();
    try {
      return await work(controller.signal);
    } finally {
      this.#cancel = null;
    }
  }

  close(): void {
    this.#rl.close();
  }
}

/**
 * The spec's interactive loop over one draft plan: [d] discuss, [a] add, [m] modify, [s] split,
 * [r] remove, [v] view, [p] proceed to approval, [q] quit (keeping the draft). Every change is saved by
 * the plan sessions before the next question, so quitting, Ctrl-C or a crash at any point loses nothing.
 */
export async function planningLoop(
  planner: PlanSessions,
  start: Plan,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  output: Output,
): Promise<LoopOutcome> {
  const prompter = new Prompter(input, output);
  const out = output.out;
  const say = (line = "") => println(output, line);
  const note = (line: string) => say(paint("dim", line, out));
  const model = planner.decomposer.llm;
  let plan = start;
  const show = () => {
    for (const line of renderPlan(plan, output)) say(line);
  };
  try {
    show();
    const discussion = renderDiscussion(plan, output);
    if (discussion.length > 0) say();
    for (const line of discussion) say(line);
    while (!prompter.stopped) {
      say();
      say(paint("dim", MENU, out));
      const choice = await prompter.ask("plan> ");
      if (choice === null) break;
      try {
        switch (choice.toLowerCase()) {
          case "":
            continue;
          case "d":
          case "discuss": {
            const message = await prompter.ask("you> ");
            if (!message) continue;
            if (!model) {
              say(
                "Discussion needs a model: set ANTHROPIC_API_KEY (or OPENAI_API_KEY / OPENAI_BASE_URL), or install the claude CLI, then continue this plan.",
              );
              continue;
            }
            note(`asking ${model.name}…${prompter.tty ? " (Ctrl-C cancels)" : ""}`);
            const turn = await prompter.cancellable((signal) =>
              planner.discuss(plan.id, message, signal),
            );
            if (turn.kind === "answer") say(`${paint("bold", "model>", out)} ${turn.text}`);
            else if (turn.kind === "failed") {
              say(paint("yellow", `The model could not answer: ${turn.reason}`, out));
              say("Nothing was recorded; ask again, or go on planning.");
            }
            break;
          }
          case "a":
          case "add": {
            const draft = await askDraft(prompter, output, planner.decomposer.types);
            if (draft === null) {
              if (!prompter.stopped) say("Nothing added.");
              continue;
            }
            const result = await planner.add(plan.id, draft);
            plan = result.plan;
            say(
              `Added ${result.task.key} (${result.task.agentType}, ${priorityName(result.task.priority)}).`,
            );
            break;
          }
          case "m":
          case "modify": {
            const key = await prompter.ask("task to modify (key): ");
            if (!key) continue;
            plan = await planner.get(plan.id);
            const task = findPlannedTask(plan.tasks, key);
            note("press Enter to keep a value");
            const changes = await askChanges(prompter, output, planner.decomposer.types, task);
            if (changes === null) continue;
            const result = await planner.modify(plan.id, key, changes);
            plan = result.plan;
            say(`Changed ${result.task.key}.`);
            break;
          }
          case "s":
          case "split": {
            const key = await prompter.ask("task to split (key): ");
            if (!key) continue;
            if (model) {
              note(
                `asking ${model.name} to split ${key}…${prompter.tty ? " (Ctrl-C cancels)" : ""}`,
              );
            }
            const result = await prompter.cancellable((signal) =>
              planner.split(plan.id, key, signal),
            );
            plan = result.plan;
            for (const w of result.warnings) say(paint("yellow", `warning: ${w}`, out));
            say(`Split ${result.replaced.key} into ${result.parts.map((p) => p.key).join(", ")}.`);
            break;
          }
          case "r":
          case "remove": {
            const key = await prompter.ask("task to remove (key): ");
            if (!key) continue;
            const result = await planner.remove(plan.id, key);
            plan = result.plan;
            say(`Removed ${result.removed.key}.`);
            for (const r of result.rewired) {
              say(
                `  ${r.key} waited for ${r.before.join(", ")}; now ${r.after.length > 0 ? `waits for ${r.after.join(", ")}` : "waits for nothing"}.`,
              );
            }
            break;
          }
          case "v":
          case "view":
            // What is saved now, including changes made in another session.
            plan = await planner.get(plan.id);
            show();
            say();
            for (const line of renderGraph(plan, output)) say(line);
            break;
          case "p":
          case "proceed": {
            plan = await planner.get(plan.id);
            const outcome = await proceed(planner, plan, prompter, output);
            if (outcome !== null) return outcome;
            break;
          }
          case "q":
          case "quit":
          case "exit":
            return keep(output, plan);
          case "?":
          case "h":
          case "help":
            say(MENU);
            break;
          default:
            throw new UsageError(
              `unknown choice '${choice}'`,
              "type d, a, m, s, r, v, p or q (or the whole word)",
            );
        }
      } catch (error) {
        if (!isOrchestrateError(error)) throw error;
        if (error instanceof CancelledError) {
          say(paint("yellow", `Cancelled: ${error.message}; nothing was changed.`, out));
          continue;
        }
        if (!prompter.tty) {
          // A script's answers after a mistake would be read as answers to other questions.
          say(
            "Stopping: the answers are piped, and the ones after a mistake would be read out of place.",
          );
          keep(output, plan);
          throw error;
        }
        say(paint("red", `error: ${error.message}`, out));
        const hint =
          error.reason === "plan-changed"
            ? "view the plan again ([v]) and repeat the step if it is still wanted"
            : adviceFor(error);
        if (hint) say(`hint: ${hint}`);
      }
    }
    return keep(output, plan);
  } finally {
    prompter.close();
  }
}

/**
 * For an approved plan: offer to queue its tasks now (`orchestrate plan-continue` of an approved plan).
 */
export async function offerExecution(
  planner: PlanSessions,
  plan: Plan,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  output: Output,
): Promise<LoopOutcome> {
  const prompter = new Prompter(input, output);
  try {
    return (await askToQueue(planner, plan, prompter, output)) ? "queued" : "approved";
  } finally {
    prompter.close();
  }
}

/** The approval phase: review, confirm, and optionally queue. Null goes back to the loop. */
async function proceed(
  planner: PlanSessions,
  plan: Plan,
  prompter: Prompter,
  output: Output,
): Promise<LoopOutcome | null> {
  const say = (line = "") => println(output, line);
  const problems = planner.problems(plan);
  if (problems.length > 0) {
    say("The plan cannot be approved yet:");
    for (const p of problems) say(`  - ${p}`);
    return null;
  }
  // The review: every task, then the order they will run in.
  for (const line of renderPlan(plan, output)) say(line);
  say();
  for (const line of renderGraph(plan, output)) say(line);
  const answer = await prompter.ask(`Approve this plan of ${plan.tasks.length} tasks? [y/N] `);
  if (answer === null) return keep(output, plan);
  if (!/^y(es)?$/i.test(answer)) {
    say("Not approved; back to planning.");
    return null;
  }
  const approved = await planner.approve(plan.id, plan.version);
  say(`Approved plan ${shortId(approved.id)}.`);
  return (await askToQueue(planner, approved, prompter, output)) ? "queued" : "approved";
}

async function askToQueue(
  planner: PlanSessions,
  plan: Plan,
  prompter: Prompter,
  output: Output,
): Promise<boolean> {
  const say = (line = "") => println(output, line);
  const answer = await prompter.ask(`Queue its ${plan.tasks.length} tasks now? [Y/n] `);
  if (answer === null || /^n(o)?$/i.test(answer)) {
    say(`Not queued. Queue it later with: orchestrate execute-plan ${shortId(plan.id)}`);
    return false;
  }
  const { plan: executed, queued } = await planner.execute(plan.id);
  const tasks = await planner.queuedTasks(executed);
  say(
    queued
      ? `Queued ${tasks.length} tasks of plan ${shortId(plan.id)}. Start agents with: orchestrate run`
      : `Plan ${shortId(plan.id)} was already queued (${progressLine(executed, tasks)}).`,
  );
  return true;
}

function keep(output: Output, plan: Plan): "kept" {
  println(output, `Draft saved. Continue with: orchestrate plan-continue ${shortId(plan.id)}`);
  return "kept";
}

/**
 * Asks until the answer parses (or input ends): in a terminal a typo in a priority or type is explained
 * and asked again instead of losing the answers before it. Piped answers are not asked again (the next
 * line was meant for the next question): the error ends the session.
 */
async function askParsed<T>(
  prompter: Prompter,
  output: Output,
  question: string,
  parse: (answer: string) => T,
): Promise<{ value: T } | null> {
  for (;;) {
    const answer = await prompter.ask(question);
    if (answer === null) return null;
    try {
      return { value: parse(answer) };
    } catch (error) {
      if (!isOrchestrateError(error) || !prompter.tty) throw error;
      println(output, paint("red", `error: ${error.message}`, output.out));
      if (error.hint) println(output, `hint: ${error.hint}`);
    }
  }
}

function typeParser(types: readonly AgentTypeInfo[]) {
  return (answer: string) =>
    answer === "" ? undefined : (resolveAgentType(answer, types) ?? "auto");
}

function priorityParser(answer: string): number | undefined {
  return answer === "" ? undefined : parsePriority(answer);
}

async function askDraft(
  prompter: Prompter,
  output: Output,
  types: readonly AgentTypeInfo[],
): Promise<TaskDraft | null> {
  const description = await prompter.ask("description: ");
  if (!description) return null;
  const agentType = await askParsed(prompter, output, "agent type [auto]: ", typeParser(types));
  if (agentType === null) return null;
  const priority = await askParsed(
    prompter,
    output,
    "priority (low, normal, high, urgent) [normal]: ",
    priorityParser,
  );
  if (priority === null) return null;
  const dependsOn = await prompter.ask("depends on (task keys, comma-separated) []: ");
  if (dependsOn === null) return null;
  const phase = await prompter.ask("phase [Implementation]: ");
  if (phase === null) return null;
  return {
    description,
    agentType: agentType.value,
    priority: priority.value,
    dependsOn: splitKeys(dependsOn),
    phase: phase || undefined,
  };
}

async function askChanges(
  prompter: Prompter,
  output: Output,
  types: readonly AgentTypeInfo[],
  task: Plan["tasks"][number],
): Promise<Partial<TaskDraft> | null> {
  const changes: Partial<TaskDraft> = {};
  const description = await prompter.ask(
    `description [${task.description.slice(0, 60)}${task.description.length > 60 ? "…" : ""}]: `,
  );
  if (description === null) return null;
  if (description !== "") changes.description = description;
  const agentType = await askParsed(
    prompter,
    output,
    `agent type [${task.agentType}]: `,
    typeParser(types),
  );
  if (agentType === null) return null;
  if (agentType.value !== undefined) changes.agentType = agentType.value;
  const priority = await askParsed(
    prompter,
    output,
    `priority [${priorityName(task.priority)}]: `,
    priorityParser,
  );
  if (priority === null) return null;
  if (priority.value !== undefined) changes.priority = priority.value;
  const deps = await prompter.ask(
    `depends on [${task.dependsOn.join(", ") || "nothing"}] ('-' for nothing): `,
  );
  if (deps === null) return null;
  if (deps === "-") changes.dependsOn = [];
  else if (deps !== "") changes.dependsOn = splitKeys(deps);
  const phase = await prompter.ask(`phase [${task.phase}]: `);
  if (phase === null) return null;
  if (phase !== "") changes.phase = phase;
  return changes;
}

function splitKeys(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k !== "");
}
