import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ratePerMinute, SqliteRateLimiter } from "./rateLimiter.ts";

const dir = mkdtempSync(join(tmpdir(), "orchestrate-rate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("SqliteRateLimiter", () => {
  it("shares the window between connections: the N+1th request waits for the oldest to expire", async () => {
    const path = join(dir, "api_rate.db");
    const a = new SqliteRateLimiter(path, { provider: "anthropic", perWindow: 3, windowMs: 600 });
    const b = new SqliteRateLimiter(path, { provider: "anthropic", perWindow: 3, windowMs: 600 });
    const other = new SqliteRateLimiter(path, { provider: "openai", perWindow: 3, windowMs: 600 });
    try {
      const started = Date.now();
      assert.equal(a.tryAcquire(), 0);
      assert.equal(b.tryAcquire(), 0);
      assert.equal(a.tryAcquire(), 0);
      const wait = b.tryAcquire();
      assert.ok(wait > 0 && wait <= 601, `wait ${wait}`);
      assert.equal(other.tryAcquire(), 0, "another provider has its own budget");
      await b.acquire();
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 550, `the 4th request went after ${elapsed} ms`);
    } finally {
      a.close();
      b.close();
      other.close();
    }
  });

  it("reads the rate from ORCHESTRATOR_API_RATE_PER_MIN", () => {
    assert.equal(ratePerMinute({}), 50);
    assert.equal(ratePerMinute({ ORCHESTRATOR_API_RATE_PER_MIN: "7" }), 7);
    assert.equal(ratePerMinute({ ORCHESTRATOR_API_RATE_PER_MIN: "nope" }), 50);
  });
});
