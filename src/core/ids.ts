/** Length of a task id: 16 hex digits (64 random bits) keeps collisions negligible at millions of tasks. */
export const TASK_ID_LENGTH = 16;

/** How many characters of an id lists show; like git, any unique prefix is accepted back. */
export const SHORT_ID_LENGTH = 8;

/**
 * `digits` random hex digits. Math.random rather than node:crypto on purpose: ids need uniqueness, not
 * secrecy, V8 seeds every process's generator from the OS's entropy, and loading node:crypto measured
 * 10-15 ms of start-up here, a tenth of the budget of an `orchestrate submit`.
 */
export function randomHex(digits: number): string {
  let hex = "";
  while (hex.length < digits) {
    hex += Math.floor(Math.random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, "0");
  }
  return hex.slice(0, digits);
}

/**
 * A new random task id. Random rather than time-ordered on purpose: ids of tasks created together
 * then differ in their first characters, so short prefixes stay unique and easy to type.
 */
export function newTaskId(): string {
  return randomHex(TASK_ID_LENGTH);
}

/** A worker id unique to this process: host, pid and a random suffix. */
export function newWorkerId(host: string, pid: number): string {
  return `${host}:${pid}:${randomHex(6)}`;
}

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/** Whether `text` could be (a prefix of) a task id. */
export function looksLikeIdPrefix(text: string): boolean {
  return /^[0-9a-f]{1,16}$/.test(text);
}
