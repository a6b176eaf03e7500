import { UsageError } from "./errors.ts";

/**
 * Task priorities. The spec stores priority as an integer with default 2; we keep those numbers and give
 * them names. A higher number is claimed first; ties go to the older task.
 */
export const PRIORITIES = { low: 1, normal: 2, high: 3, urgent: 4 } as const;

export type PriorityName = keyof typeof PRIORITIES;

export const DEFAULT_PRIORITY: number = PRIORITIES.normal;

/** Parses a priority given by name (`high`) or by its number (`3`). */
export function parsePriority(input: string): number {
  const value = input.trim().toLowerCase();
  if (value in PRIORITIES) return PRIORITIES[value as PriorityName];
  const asNumber = Number(value);
  if (Number.isInteger(asNumber) && Object.values(PRIORITIES).includes(asNumber as 1))
    return asNumber;
  throw new UsageError(
    `invalid priority '${input}'`,
    `use one of ${Object.entries(PRIORITIES)
      .map(([name, n]) => `${name} (${n})`)
      .join(", ")}`,
  );
}

/** The name of a priority number, or the number itself when it has no name. */
export function priorityName(priority: number): string {
  for (const [name, n] of Object.entries(PRIORITIES)) if (n === priority) return name;
  return String(priority);
}
