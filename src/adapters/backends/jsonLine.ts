/**
 * Tolerant readers for the JSON-lines output of agent CLIs. The CLIs add fields and event types between
 * versions, and may print stray non-JSON lines (warnings, banners); parsers must skip what they do not
 * understand rather than throw, so every accessor here returns undefined for anything unexpected.
 */

/** A parsed JSON object whose fields are not yet trusted. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** The object on one output line, or undefined for blank lines, non-JSON, and JSON that is not an object. */
export function parseJsonLine(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return asObject(value);
  } catch {
    return undefined;
  }
}

/** `value` if it is a plain JSON object (not an array, not null). */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** A string field, or undefined when missing or of another type. */
export function stringField(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" ? value : undefined;
}

/** A finite number field, or undefined when missing or of another type. */
export function numberField(object: JsonObject | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** An object field, or undefined when missing or of another type. */
export function objectField(object: JsonObject | undefined, key: string): JsonObject | undefined {
  return asObject(object?.[key]);
}

/** An array field, or an empty array when missing or of another type. */
export function arrayField(object: JsonObject | undefined, key: string): readonly unknown[] {
  const value = object?.[key];
  return Array.isArray(value) ? value : [];
}

/** A tool's input as one line of text: strings as they are, anything else as compact JSON. */
export function inputText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}
