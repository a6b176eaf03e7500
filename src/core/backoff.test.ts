import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelayMs } from "./backoff.ts";

describe("retryDelayMs", () => {
  const policy = { baseMs: 1_000, maxMs: 10_000 };
  it("doubles per attempt within [ceiling/2, ceiling] and caps at maxMs", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(a, policy, () => 0)),
      [500, 1_000, 2_000, 4_000, 5_000, 5_000],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(a, policy, () => 0.999999)),
      [1_000, 2_000, 4_000, 8_000, 10_000, 10_000],
    );
  });

  it("stays finite for huge attempt numbers", () => {
    assert.equal(
      retryDelayMs(10_000, policy, () => 0.5),
      7_500,
    );
  });
});
