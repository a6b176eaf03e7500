/**
 * Retry backoff, computed here rather than in SQL so every store schedules retries the same way:
 * exponential from `baseMs`, capped at `maxMs`, with "full jitter" in the upper half so that a batch
 * of tasks failing together does not come back together.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 300_000 };

/**
 * Delay before attempt `attempt + 1`, where `attempt` (>= 1) is the attempt that just failed.
 * `random` is injectable for tests; it must return a number in [0, 1).
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
