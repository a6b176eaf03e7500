/**
 * The typed error hierarchy of orchestrate. Every error a user can cause or meet is one of these classes;
 * each class has its own process exit code so scripts can tell "you typed it wrong" from "it is not there"
 * from "someone else holds it". Only `cli/main.ts` turns them into an exit; everything else throws.
 */

/** Exit codes, one per class of failure. 1 is reserved for internal errors (bugs). */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  config: 5,
  /** `run` (or `demo`) finished, and at least one task it ran failed. */
  tasksFailed: 6,
  /** The person interrupted the work (Ctrl-C), as shells report it: 128 + SIGINT. */
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** More about an error: what caused it, and a machine-readable reason a front end can explain. */
export interface ErrorOptions {
  cause?: unknown;
  /**
   * Why, as a stable word (`plan-changed`, `store-busy`, ...): layers that must not speak to a person
   * (store adapters) give a reason instead of a hint, and the app layer turns it into advice.
   */
  reason?: string;
}

/** Base class: a message that says what went wrong, and a hint that says what to do about it. */
export class OrchestrateError extends Error {
  readonly code: ExitCodeName;
  readonly hint: string | undefined;
  readonly reason: string | undefined;

  constructor(code: ExitCodeName, message: string, hint?: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
    this.reason = options.reason;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

/** The command line was wrong: a missing argument, a bad value, an unknown option. */
export class UsageError extends OrchestrateError {
  constructor(message: string, hint?: string) {
    super("usage", message, hint);
  }
}

/** A task, plan or agent named by the user does not exist (or an id prefix matches nothing). */
export class NotFoundError extends OrchestrateError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super("notFound", message, hint, options);
  }
}

/**
 * The request is valid but the current state forbids it: a transition the state machine does not allow,
 * an ambiguous id prefix, a dependency cycle, or a database held by another process for too long.
 */
export class ConflictError extends OrchestrateError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super("conflict", message, hint, options);
  }
}

/** The environment is wrong: bad configuration values, an unusable base dir or database file. */
export class ConfigError extends OrchestrateError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super("config", message, hint, options);
  }
}

/** The person cancelled something in progress (Ctrl-C during a model call, for example). */
export class CancelledError extends OrchestrateError {
  constructor(message: string, hint?: string) {
    super("interrupted", message, hint);
  }
}

/** Whether a value is one of our typed errors (as opposed to a bug or a foreign exception). */
export function isOrchestrateError(error: unknown): error is OrchestrateError {
  return error instanceof OrchestrateError;
}
