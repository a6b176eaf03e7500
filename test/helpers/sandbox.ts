/**
 * A temporary project for end-to-end tests of the `orchestrate` binary: a fresh working directory
 * with HOME beside it, and an environment without orchestrate's settings, so that the queue goes
 * to the default `<cwd>/.orchestrator`. Nothing touches the real home directory or the network.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { type RunOptions, type RunResult, runNode } from "./nodeProcess.ts";
import { explain, isolatedEnv, runOrchestrate } from "./orchestrateCli.ts";
import type { TaskDetail } from "./orchestrateJson.ts";
import { ID } from "./taskIds.ts";

/** A command still running after this long is killed: the test fails instead of hanging. */
const RUN_LIMIT: RunOptions = { limitMs: 20_000, limitSignal: "SIGKILL" };

/** A temporary root holding a HOME and a working directory; see `useSandbox`. */
export class Sandbox {
  root = "";
  cwd = "";

  create(): void {
    this.root = mkdtempSync(join(tmpdir(), "orchestrate-e2e-"));
    this.cwd = join(this.root, "work");
    mkdirSync(this.cwd);
  }

  remove(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  /** The environment of a child: isolated, HOME in the sandbox, the base dir left to its default. */
  env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    return isolatedEnv(this.root, { ORCHESTRATOR_BASE_DIR: undefined, ...extra });
  }

  /** Runs the real binary, `orchestrate <args>`, in the working directory. */
  run(
    args: readonly string[],
    env: Record<string, string | undefined> = {},
    options: Pick<RunOptions, "node"> = {},
  ): Promise<RunResult> {
    return runOrchestrate(this.cwd, this.env(env), args, { ...RUN_LIMIT, ...options });
  }

  /** Runs `node <args>` in the working directory: a script standing in for another process. */
  node(args: readonly string[]): Promise<RunResult> {
    return runNode(this.cwd, this.env(), args, RUN_LIMIT);
  }

  /** Runs a command that must succeed and returns its stdout. */
  async ok(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<string> {
    const result = await this.run(args, env);
    assert.equal(result.code, 0, explain(args, result));
    return result.stdout;
  }

  async json<T = Record<string, unknown>>(
    args: readonly string[],
    env: Record<string, string | undefined> = {},
  ): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"], env)) as T;
  }

  /** Submits a task and returns its id. */
  async submit(...args: string[]): Promise<string> {
    const id = (await this.ok(["submit", "-q", ...args])).trim();
    assert.match(id, ID);
    return id;
  }

  async taskCount(extraArgs: readonly string[] = []): Promise<number> {
    return (await this.json<{ total: number }>(["status", ...extraArgs])).total;
  }

  async task(id: string): Promise<TaskDetail> {
    return this.json<TaskDetail>(["task", id]);
  }

  path(...parts: string[]): string {
    return join(this.cwd, ...parts);
  }
}

/** A sandbox for the enclosing `describe`: created in `before`, removed in `after`. */
export function useSandbox(): Sandbox {
  const box = new Sandbox();
  before(() => box.create());
  after(() => box.remove());
  return box;
}
