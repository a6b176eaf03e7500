import { DatabaseSync } from "node:sqlite";

/** Default requests per minute per provider (the spec's ~50/min for Anthropic). */
export const DEFAULT_RATE_PER_MIN = 50;

export interface RateLimiterOptions {
  provider: string;
  /** Requests allowed per window; default ORCHESTRATOR_API_RATE_PER_MIN, else 50. */
  perWindow?: number;
  /** Window length; default one minute. */
  windowMs?: number;
  now?: () => number;
}

/** Requests per minute from ORCHESTRATOR_API_RATE_PER_MIN, else the default; invalid values are ignored. */
export function ratePerMinute(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env["ORCHESTRATOR_API_RATE_PER_MIN"];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : DEFAULT_RATE_PER_MIN;
}

/**
 * A request rate limit shared by every agent process of one run: each agent is its own process, so the
 * count lives in a small SQLite file (`<base dir>/api_rate.db`). A request is taken inside a BEGIN
 * IMMEDIATE transaction (one writer at a time): count the provider's requests in the last window, and
 * either record this one and go, or say how long to wait until the oldest one leaves the window.
 */
export class SqliteRateLimiter {
  readonly #db: DatabaseSync;
  readonly #provider: string;
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(path: string, options: RateLimiterOptions) {
    this.#provider = options.provider;
    this.#perWindow = options.perWindow ?? ratePerMinute(process.env);
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#db = new DatabaseSync(path, { timeout: 10_000 });
    this.#db.exec("PRAGMA busy_timeout = 10000");
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS requests (provider TEXT NOT NULL, at INTEGER NOT NULL)",
    );
    this.#db.exec("CREATE INDEX IF NOT EXISTS requests_by_time ON requests (provider, at)");
  }

  /** Records a request and returns 0 when one is allowed now, else the milliseconds to wait first. */
  tryAcquire(): number {
    const now = this.#now();
    const since = now - this.#windowMs;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("DELETE FROM requests WHERE at <= ?").run(now - 2 * this.#windowMs);
      const { n } = this.#db
        .prepare("SELECT COUNT(*) AS n FROM requests WHERE provider = ? AND at > ?")
        .get(this.#provider, since) as { n: number };
      let wait = 0;
      if (n < this.#perWindow) {
        this.#db
          .prepare("INSERT INTO requests (provider, at) VALUES (?, ?)")
          .run(this.#provider, now);
      } else {
        // The request that must leave the window before there is room for one more.
        const row = this.#db
          .prepare(
            "SELECT at FROM requests WHERE provider = ? AND at > ? ORDER BY at LIMIT 1 OFFSET ?",
          )
          .get(this.#provider, since, n - this.#perWindow) as { at: number } | undefined;
        wait = Math.max(1, (row?.at ?? now) + this.#windowMs - now + 1);
      }
      this.#db.exec("COMMIT");
      return wait;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Waits until a request is allowed and records it; returns how long it waited. */
  async acquire(): Promise<number> {
    let waited = 0;
    for (;;) {
      const wait = this.tryAcquire();
      if (wait === 0) return waited;
      waited += wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  close(): void {
    this.#db.close();
  }
}
