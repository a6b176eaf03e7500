/**
 * Collects an agent's text output while keeping memory bounded: a CLI that floods stdout (or a plain-text
 * custom backend whose whole output is its result) must not make the orchestrator hold, store and forward
 * megabytes. Only the last `limit` characters are kept, since an agent's conclusion comes last; a note says
 * how much was dropped.
 */

/** The default bound for a result text collected by a parser: about 1 MB. */
export const MAX_RESULT_TEXT_CHARS = 1_000_000;

/** An append-only text buffer that keeps the tail. */
export interface TailText {
  append(text: string): void;
  /** The kept text, prefixed with a note when the head was dropped. */
  text(): string;
}

/** A buffer keeping at most `limit` characters (the most recent ones). */
export function makeTailText(limit: number = MAX_RESULT_TEXT_CHARS): TailText {
  let chunks: string[] = [];
  let length = 0;
  let dropped = 0;
  return {
    append(text) {
      if (text === "") return;
      chunks.push(text);
      length += text.length;
      if (length <= limit * 2) return;
      // Compact rarely (when twice over the limit) so appending stays linear overall.
      const joined = chunks.join("");
      const kept = joined.slice(joined.length - limit);
      dropped += joined.length - kept.length;
      chunks = [kept];
      length = kept.length;
    },
    text() {
      const joined = chunks.join("");
      const over = Math.max(0, joined.length - limit);
      const total = dropped + over;
      const kept = over > 0 ? joined.slice(over) : joined;
      return total > 0 ? `[... ${total} earlier characters omitted]\n${kept}` : kept;
    },
  };
}
