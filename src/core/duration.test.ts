import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";

describe("durations", () => {
  it("parses units, combinations and bare numbers in the given unit", () => {
    assert.equal(parseDuration("90s", "t"), 90_000);
    assert.equal(parseDuration("1h30m", "t"), 5_400_000);
    assert.equal(parseDuration("7d", "t"), 604_800_000);
    assert.equal(parseDuration("250ms", "t"), 250);
    assert.equal(parseDuration("45", "t", "s"), 45_000);
    assert.equal(parseDuration("2", "t", "d"), 172_800_000);
    assert.equal(parseDuration(" 2W ", "t"), 1_209_600_000);
  });

  it("refuses nonsense with a usage error naming the flag", () => {
    for (const bad of ["", "abc", "10 parsecs", "-5m", "0", "5m garbage"]) {
      assert.throws(
        () => parseDuration(bad, "--timeout"),
        (e: unknown) => e instanceof UsageError && e.message.includes("--timeout"),
        bad,
      );
    }
  });

  it("formats compactly", () => {
    assert.deepEqual([850, 12_000, 245_000, 11_520_000, 554_400_000].map(formatDuration), [
      "850ms",
      "12s",
      "4m05s",
      "3h12m",
      "6d10h",
    ]);
  });
});
