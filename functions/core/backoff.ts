export interface BackoffPolicy {
  /** Delay ceiling for the first retry, in milliseconds. */
  readonly baseMs: number;
  /** No delay ever exceeds this. */
  readonly capMs: number;
}

/** Nack's default: 1 s doubling per delivery, capped at SQS's maximum delay of 15 minutes. */
export const DEFAULT_NACK_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 900_000 };

/**
 * "Full jitter" exponential backoff: a uniform draw in [0, min(cap, base * 2^(attempt-1))].
 * Spreading retries over the whole window avoids synchronized retry storms after a shared failure.
 *
 * @param attempt 1 for the first retry.
 * @param unitRandom a draw from [0, 1), passed in so the core stays deterministic.
 */
export function fullJitterBackoffMs(attempt: number, unitRandom: number, policy: BackoffPolicy = DEFAULT_NACK_BACKOFF): number {
  const ceiling = backoffCeilingMs(attempt, policy);
  return Math.floor(Math.min(Math.max(unitRandom, 0), 1 - Number.EPSILON) * (ceiling + 1));
}

export function backoffCeilingMs(attempt: number, policy: BackoffPolicy = DEFAULT_NACK_BACKOFF): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}
