import type { ParsedCommand } from "./commandLine.ts";
import type { GlobalOptions } from "./context.ts";
import type { Output } from "./output.ts";

/** What every command factory receives: where to write, and a clock for ages and durations. */
export interface CommandEnv {
  output: Output;
  now: () => number;
}

/** A string option's value (or its default), `undefined` when absent. */
export function stringOption(parsed: ParsedCommand, key: string): string | undefined {
  const value = parsed.options[key];
  return typeof value === "string" ? value : undefined;
}

/** A string option that has a default, so is always present. */
export function requiredOption(parsed: ParsedCommand, key: string): string {
  return stringOption(parsed, key) ?? "";
}

export function flag(parsed: ParsedCommand, key: string): boolean {
  return parsed.options[key] === true;
}

export function listOption(parsed: ParsedCommand, key: string): string[] {
  const value = parsed.options[key];
  return Array.isArray(value) ? value : [];
}

/** The root program's options, given before or after the command word. */
export function globalsOf(parsed: ParsedCommand): GlobalOptions {
  const globals: GlobalOptions = { debug: flag(parsed, "debug") };
  const baseDir = stringOption(parsed, "baseDir");
  const busyTimeout = stringOption(parsed, "busyTimeout");
  if (baseDir !== undefined) globals.baseDir = baseDir;
  if (busyTimeout !== undefined) globals.busyTimeout = busyTimeout;
  return globals;
}
