import assert from "node:assert/strict";
import type { RunResult } from "./nodeProcess.ts";
import { explain } from "./orchestrateCli.ts";

/** A line of a stack trace in a program's output. */
export const STACK_TRACE = /\n\s+at /;

/**
 * Asserts the shape every user-facing error must have: the exit code of its class, nothing on stdout, and
 * on stderr one short paragraph, "error: what is wrong" then "hint: what to do", without a stack trace.
 */
export function assertUserError(
  args: readonly string[],
  result: RunResult,
  code: number,
  message?: RegExp,
): void {
  const why = explain(args, result);
  assert.equal(result.code, code, why);
  assert.equal(result.stdout, "", why);
  assert.match(result.stderr, /^error: \S/, why);
  assert.match(result.stderr, /\nhint: \S/, why);
  assert.doesNotMatch(result.stderr, STACK_TRACE, why);
  assert.ok(!result.stderr.trim().includes("\n\n"), `not one paragraph:\n${why}`);
  assert.ok(result.stderr.trim().split("\n").length <= 3, `too long:\n${why}`);
  if (message) assert.match(result.stderr, message, why);
}
