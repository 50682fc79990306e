/**
 * How the queue retries what did not apply, by name: every retry loop of the adapter takes one of
 * these, so attempt counts and backoffs are stated once. None of them repeats a write that may
 * have applied: each retries a failure that says it did not (a transaction conflict, a failed tail
 * guard, unprocessed batch items), or is settled by a verdict (judge.ts) first.
 */
import type { BackoffPolicy } from '../backoff.js';

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
}

export const RetryPolicies = {
  /** A single-item write or a small transaction lost to a concurrent transaction on its item (never applied). */
  conflict: { attempts: 6, baseMs: 10, capMs: 200 },
  /** A FIFO append whose view of the group's tail was stale, or that met a concurrent append. */
  fifoAppend: { attempts: 12, baseMs: 10, capMs: 200 },
  /** A send with a dedup id that met a concurrent transaction on its dedup record. */
  dedupConflict: { attempts: 6, baseMs: 20, capMs: 500 },
  /** BatchWriteItem puts left unprocessed (throttling): sent again after a backoff. */
  unprocessed: { attempts: 8, baseMs: 50, capMs: 2_000 },
  /** A configuration change that lost its compare-and-set to another (re-read, no wait). */
  configure: { attempts: 6, baseMs: 0, capMs: 0 },
} as const satisfies Record<string, RetryPolicy>;

/** Bounds of one receive's work in one shard, and of a consumer's overlapping receives. */
export const ReceiveLimits = {
  /** Pages a receive reads per shard looking past unavailable messages. */
  maxPagesPerShard: 10,
  /** Items a receive reads per shard visit. */
  maxScannedPerVisit: 1_000,
  /** Items a later page asks for at most (Limit counts items the filter drops). */
  maxPageLimit: 100,
  /** Polls again at once after dead-lettering unblocked a group or a shard head, at most this often. */
  rescansAfterDeadLettering: 5,
  /** `consume` overlaps at most this many receives (only while they come back full). */
  maxOverlappingReceives: 2,
  /** A `consume` loop checks this often whether it was told to stop (`until`). */
  stopCheckMs: 50,
  /** FIFO senders remember this many group tails (a hint; every append is guarded). */
  rememberedGroupTails: 10_000,
} as const;
