/**
 * Which shards a receiver reads, in what order, and from where: the scheduling policy of one
 * receiver (one queue handle). Pure: the caller passes the clock's reading into every call.
 *
 * - A receiver sticks to the shard that last gave it messages without a race, and hops elsewhere
 *   when it collides, so concurrent receivers spread out instead of all reading the same heads
 *   (each collision is a failed, billed conditional write).
 * - A shard found with nothing ready, or where another receiver won a race, is skipped by long
 *   polls for a while, doubling from 100 ms up to a cap: this bounds what an idle, long-polling
 *   receiver costs (about one query per shard per cap).
 * - A receiver remembers where it stopped reading each shard and reads on from there, going back to
 *   the head at most every `headRescanMs` (for expired leases and nacks behind the cursor). A read
 *   from the cursor that finds nothing is repeated from the head at once: an empty answer is only
 *   ever given after the head was read (liveness: a receive returns a ready message when one exists).
 */

export interface ShardVisitOutcome {
  /** Candidates the query returned as ready (before leasing). */
  readonly candidates: number;
  readonly received: number;
  /** Lease attempts another receiver won. */
  readonly lostRaces: number;
}

export interface SchedulingOptions {
  /** Cap of the backoff from an empty or contended shard. */
  readonly maxEmptyShardBackoffMs: number;
  /** How often a receiver goes back to the head of a shard it reads with a cursor. */
  readonly headRescanMs: number;
}

export const EMPTY_SHARD_BACKOFF_START_MS = 100;
/** How long a lost lease race makes a receiver lease cautiously (first candidate alone) in that shard. */
export const CONTENTION_MEMORY_MS = 10_000;

export interface ShardCursor<K> {
  /** Where the next read of the shard starts (undefined: its head). */
  readonly startKey: K | undefined;
  /** When this receiver last read the shard from its head. */
  readonly headScannedAt: number;
}

export class ShardScheduler<K = unknown> {
  private readonly rotation: number;
  private preferred: number | undefined;
  private readonly backoff = new Map<number, { readonly until: number; readonly backoffMs: number }>();
  private readonly lastLostRace = new Map<number, number>();
  private readonly cursors = new Map<number, ShardCursor<K>>();

  /** @param startingPoint in [0, 1): where this receiver starts its sweeps (entropy, so receivers differ). */
  constructor(
    private readonly options: SchedulingOptions,
    startingPoint: number,
    maxShards: number,
  ) {
    this.rotation = Math.floor(startingPoint * maxShards);
  }

  /**
   * The shards to visit, in order: the preferred one first, then the others from this receiver's
   * own starting point; with `skipBackedOff`, without those still backed off.
   */
  order(shards: number, now: number, skipBackedOff: boolean): number[] {
    const start = this.rotation % shards;
    const order = Array.from({ length: shards }, (_, i) => (start + i) % shards);
    if (this.preferred !== undefined && this.preferred < shards) {
      order.splice(order.indexOf(this.preferred), 1);
      order.unshift(this.preferred);
    }
    return skipBackedOff ? order.filter((shard) => !this.isBackedOff(shard, now)) : order;
  }

  isBackedOff(shard: number, now: number): boolean {
    return (this.backoff.get(shard)?.until ?? 0) > now;
  }

  /** What a visit found: back off from a shard with nothing ready or with a rival, prefer one that gave. */
  recordVisit(shard: number, visit: ShardVisitOutcome, now: number): void {
    if (visit.lostRaces > 0) this.lastLostRace.set(shard, now);
    if (visit.candidates === 0 || visit.lostRaces > 0) {
      const previous = this.backoff.get(shard);
      const backoffMs = Math.min(this.options.maxEmptyShardBackoffMs, previous ? previous.backoffMs * 2 : EMPTY_SHARD_BACKOFF_START_MS);
      this.backoff.set(shard, { until: now + backoffMs, backoffMs });
      if (this.preferred === shard) this.preferred = undefined;
    } else {
      this.backoff.delete(shard);
      if (visit.received > 0) this.preferred = shard;
    }
  }

  /** Another receiver works this shard: lease the first candidate alone (one failed write, not ten). */
  recentlyContended(shard: number, now: number): boolean {
    const lost = this.lastLostRace.get(shard);
    return lost !== undefined && now - lost < CONTENTION_MEMORY_MS;
  }

  /** True when this receiver lost a lease race in any shard lately: other receivers share its shards. */
  contendedAnywhere(now: number): boolean {
    for (const lost of this.lastLostRace.values()) if (now - lost < CONTENTION_MEMORY_MS) return true;
    return false;
  }

  /** Where to read `shard` from now: the cursor, or the head when it is time to look behind it. */
  readFrom(shard: number, now: number): ShardCursor<K> {
    const cursor = this.cursors.get(shard);
    if (cursor?.startKey === undefined || now - cursor.headScannedAt >= this.options.headRescanMs) {
      return { startKey: undefined, headScannedAt: now };
    }
    return cursor;
  }

  moveCursor(shard: number, cursor: ShardCursor<K>): void {
    this.cursors.set(shard, cursor);
  }
}

/**
 * After a read of a shard that found no candidates: read again from the head when this read
 * started at a cursor (messages behind it may be ready: a nack, an expired lease).
 */
export function mustRereadFromHead(readFrom: { readonly startKey: unknown }, candidates: number): boolean {
  return readFrom.startKey !== undefined && candidates === 0;
}

/** How long a long poll waits before polling again: doubling from 50 ms to 1 s, never past its deadline. */
export function nextPollAt(poll: number, now: number, deadline: number): number {
  return Math.min(deadline, now + Math.min(POLL_MAX_MS, POLL_MIN_MS * 2 ** poll));
}
export const POLL_MIN_MS = 50;
export const POLL_MAX_MS = 1_000;
