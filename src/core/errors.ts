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
  /** The person interrupted the work (Ctrl-C), as shells report it: 128 + SIGINT. */
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** Base class: a message that says what went wrong, and a hint that says what to do about it. */
export class OrchestrateError extends Error {
  readonly code: ExitCodeName;
  readonly hint: string | undefined;

  constructor(code: ExitCodeName, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
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
  constructor(message: string, hint?: string) {
    super("notFound", message, hint);
  }
}

/**
 * The request is valid but the current state forbids it: a transition the state machine does not allow,
 * an ambiguous id prefix, a dependency cycle, or a database held by another process for too long.
 */
export class ConflictError extends OrchestrateError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("conflict", message, hint, options);
  }
}

/** The environment is wrong: bad configuration values, an unusable base dir or database file. */
export class ConfigError extends OrchestrateError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
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
