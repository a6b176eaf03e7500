/** A full task id as orchestrate prints it. */
export const ID = /^[0-9a-f]{16}$/;

/** A well-formed id that no test ever creates (ids are random; this one would be a 1 in 2^64 draw). */
export const MISSING_ID = "0000000000000000";

/** The 8-character prefix that text output shows for an id. */
export const short = (id: string) => id.slice(0, 8);
