import type { Clock, Entropy } from '../core/clock.js';

/**
 * A clock a test moves by hand. Concord decides lease expiry by the `now` its client puts into
 * each condition, so moving this clock forward expires leases without sleeping, against the real
 * table as well as against InMemoryQueue.
 *
 * `new FakeClock()` starts at a fixed instant and stands still until `advance`d;
 * `FakeClock.followingSystemTime()` runs with real time, plus whatever it was advanced by (for
 * tests against an emulator, where real time passes between requests).
 */
export class FakeClock implements Clock {
  private offsetMs = 0;

  constructor(
    /** Where a still clock starts (ms since the epoch). @default 2025-01-01T00:00:00Z */
    private readonly startMs: number = Date.UTC(2025, 0, 1),
    private readonly followsSystemTime = false,
  ) {}

  static followingSystemTime(): FakeClock {
    return new FakeClock(0, true);
  }

  now(): number {
    return (this.followsSystemTime ? Date.now() : this.startMs) + this.offsetMs;
  }

  /** Moves the clock forward (never back: Concord's conditions assume time does not run backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    this.offsetMs += ms;
  }
}

/**
 * Deterministic Entropy from a 32-bit seed (mulberry32): the same seed gives the same message
 * ids, lease tokens and jitter, so a failing test can be replayed. Never for production use.
 */
export function seededEntropy(seed: number): Entropy {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    unit: next,
    bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}
