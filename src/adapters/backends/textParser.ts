import type { OutputParser } from "../../ports/agentBackend.ts";
import { makeTailText } from "./tailText.ts";

/**
 * Parser for a CLI that prints plain text: each non-empty line is a text event (a trailing `\r` is
 * dropped), and `end()` emits a successful result whose text is the whole output, blank lines included,
 * bounded to its tail (see `tailText.ts`). Plain text carries no outcome, so "success" here only means
 * "the output ended"; the spawner decides failure from the exit code, as it must for every backend.
 */
export function makeTextParser(): OutputParser {
  const collected = makeTailText();
  let lines = 0;
  return {
    line(raw) {
      const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      collected.append(lines === 0 ? text : `\n${text}`);
      lines += 1;
      return text.trim() === "" ? [] : [{ type: "text", text }];
    },
    end() {
      return [{ type: "result", success: true, text: collected.text() }];
    },
  };
}
