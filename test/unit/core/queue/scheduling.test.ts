import { describe, expect, it } from 'vitest';
import {
  CONTENTION_MEMORY_MS,
  EMPTY_SHARD_BACKOFF_START_MS,
  mustRereadFromHead,
  nextPollAt,
  POLL_MAX_MS,
  POLL_MIN_MS,
  type SchedulingOptions,
  ShardScheduler,
  type ShardVisitOutcome,
} from '../../../../functions/core/queue/scheduling.js';

const now = 1_000_000;
const options: SchedulingOptions = { maxEmptyShardBackoffMs: 1_000, headRescanMs: 5_000 };
/** A receiver whose sweeps start at shard 4 of 8 (starting point 0.5). */
const scheduler = (startingPoint = 0.5, maxShards = 8) => new ShardScheduler<string>(options, startingPoint, maxShards);

const empty: ShardVisitOutcome = { candidates: 0, received: 0, lostRaces: 0 };
const gave: ShardVisitOutcome = { candidates: 3, received: 2, lostRaces: 0 };
const readyButNoneReceived: ShardVisitOutcome = { candidates: 2, received: 0, lostRaces: 0 };
const contended: ShardVisitOutcome = { candidates: 3, received: 1, lostRaces: 1 };

describe('the scheduling constants', () => {
  it('start the shard backoff at 100 ms, remember contention 10 s, poll from 50 ms to 1 s', () => {
    expect({ EMPTY_SHARD_BACKOFF_START_MS, CONTENTION_MEMORY_MS, POLL_MIN_MS, POLL_MAX_MS }).toEqual({
      EMPTY_SHARD_BACKOFF_START_MS: 100,
      CONTENTION_MEMORY_MS: 10_000,
      POLL_MIN_MS: 50,
      POLL_MAX_MS: 1_000,
    });
  });
});

describe('ShardScheduler', () => {
  describe('order', () => {
    it('visits every shard once, from the receiver’s own starting point (floor of point × max shards)', () => {
      expect(scheduler(0.5, 8).order(8, now, false)).toEqual([4, 5, 6, 7, 0, 1, 2, 3]);
      expect(scheduler(0, 8).order(8, now, false)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(scheduler(0.99, 8).order(8, now, false)).toEqual([7, 0, 1, 2, 3, 4, 5, 6]);
      expect(scheduler(0.3, 10).order(10, now, false)).toEqual([3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    });

    it('wraps the starting point into the shards the queue has now (fewer than the maximum)', () => {
      expect(scheduler(0.5, 8).order(3, now, false)).toEqual([1, 2, 0]);
      expect(scheduler(0.5, 8).order(4, now, false)).toEqual([0, 1, 2, 3]);
      expect(scheduler(0.5, 8).order(1, now, false)).toEqual([0]);
    });

    it('puts the shard that last gave messages first, the others in their usual order', () => {
      const s = scheduler();
      s.recordVisit(6, gave, now);
      expect(s.order(8, now, false)).toEqual([6, 4, 5, 7, 0, 1, 2, 3]);
      s.recordVisit(1, gave, now);
      expect(s.order(8, now, false)).toEqual([1, 4, 5, 6, 7, 0, 2, 3]);
    });

    it('ignores a preferred shard the queue no longer has', () => {
      const s = scheduler();
      s.recordVisit(6, gave, now);
      expect(s.order(7, now, false)).toEqual([6, 4, 5, 0, 1, 2, 3]);
      expect(s.order(6, now, false)).toEqual([4, 5, 0, 1, 2, 3]);
      s.recordVisit(4, gave, now);
      expect(s.order(4, now, false)).toEqual([0, 1, 2, 3]);
    });

    it('leaves out the shards still backed off only when asked to (long polls)', () => {
      const s = scheduler();
      s.recordVisit(5, empty, now);
      s.recordVisit(0, empty, now);
      expect(s.order(8, now, true)).toEqual([4, 6, 7, 1, 2, 3]);
      expect(s.order(8, now, false)).toEqual([4, 5, 6, 7, 0, 1, 2, 3]);
      expect(s.order(8, now + EMPTY_SHARD_BACKOFF_START_MS - 1, true)).toEqual([4, 6, 7, 1, 2, 3]);
      expect(s.order(8, now + EMPTY_SHARD_BACKOFF_START_MS, true)).toEqual([4, 5, 6, 7, 0, 1, 2, 3]);
    });
  });

  describe('recordVisit and isBackedOff', () => {
    it('backs nothing off before a visit', () => {
      expect(scheduler().isBackedOff(3, now)).toBe(false);
      expect(scheduler().isBackedOff(3, 0)).toBe(false);
    });

    it('backs off an empty shard for 100 ms: backed off until just before, not at, now + 100', () => {
      const s = scheduler();
      s.recordVisit(3, empty, now);
      expect([now, now + 99, now + 100, now + 101].map((t) => s.isBackedOff(3, t))).toEqual([true, true, false, false]);
      expect(s.isBackedOff(2, now)).toBe(false);
    });

    it('doubles the backoff on every further empty visit, up to the cap', () => {
      const s = scheduler();
      const lengths: number[] = [];
      let t = now;
      for (let visit = 0; visit < 7; visit++) {
        s.recordVisit(3, empty, t);
        let until = t;
        while (s.isBackedOff(3, until)) until++;
        lengths.push(until - t);
        t = until;
      }
      expect(lengths).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    });

    it('caps even the first backoff when the cap is below 100 ms', () => {
      const s = new ShardScheduler({ maxEmptyShardBackoffMs: 30, headRescanMs: 5_000 }, 0, 4);
      s.recordVisit(1, empty, now);
      expect([now + 29, now + 30].map((t) => s.isBackedOff(1, t))).toEqual([true, false]);
    });

    it('backs off a shard where a rival won a race even though it had candidates, and forgets it as preferred', () => {
      const s = scheduler();
      s.recordVisit(6, gave, now);
      s.recordVisit(6, contended, now);
      expect([now + 99, now + 100].map((t) => s.isBackedOff(6, t))).toEqual([true, false]);
      expect(s.order(8, now + 100, false)).toEqual([4, 5, 6, 7, 0, 1, 2, 3]);
    });

    it('keeps the preferred shard when another shard is found empty', () => {
      const s = scheduler();
      s.recordVisit(6, gave, now);
      s.recordVisit(2, empty, now);
      expect(s.order(8, now, false)).toEqual([6, 4, 5, 7, 0, 1, 2, 3]);
    });

    it('clears the backoff of a shard found with candidates, so the next empty visit starts again at 100 ms', () => {
      const s = scheduler();
      s.recordVisit(3, empty, now);
      s.recordVisit(3, empty, now + 100);
      s.recordVisit(3, readyButNoneReceived, now + 150);
      expect(s.isBackedOff(3, now + 150)).toBe(false);
      s.recordVisit(3, empty, now + 200);
      expect([now + 299, now + 300].map((t) => s.isBackedOff(3, t))).toEqual([true, false]);
    });

    it('prefers a shard only when it gave messages: candidates without a receive leave the preference as it was', () => {
      const s = scheduler();
      s.recordVisit(2, readyButNoneReceived, now);
      expect(s.order(8, now, false)).toEqual([4, 5, 6, 7, 0, 1, 2, 3]);
      s.recordVisit(6, gave, now);
      s.recordVisit(2, readyButNoneReceived, now);
      expect(s.order(8, now, false)).toEqual([6, 4, 5, 7, 0, 1, 2, 3]);
    });
  });

  describe('contention', () => {
    it('remembers a lost race in a shard for 10 s: contended until just before, not at, the lost race + 10 s', () => {
      const s = scheduler();
      s.recordVisit(2, contended, now);
      expect([now, now + 9_999, now + 10_000].map((t) => s.recentlyContended(2, t))).toEqual([true, true, false]);
      expect([now, now + 9_999, now + 10_000].map((t) => s.contendedAnywhere(t))).toEqual([true, true, false]);
    });

    it('knows no contention before a lost race, nor in a shard that had none', () => {
      const s = scheduler();
      expect(s.recentlyContended(2, now)).toBe(false);
      expect(s.contendedAnywhere(now)).toBe(false);
      s.recordVisit(2, empty, now);
      s.recordVisit(3, gave, now);
      expect(s.recentlyContended(2, now)).toBe(false);
      expect(s.contendedAnywhere(now)).toBe(false);
      s.recordVisit(5, contended, now);
      expect(s.recentlyContended(2, now)).toBe(false);
      expect(s.recentlyContended(5, now)).toBe(true);
    });

    it('counts the latest lost race of each shard, in any shard', () => {
      const s = scheduler();
      s.recordVisit(1, contended, now);
      s.recordVisit(7, contended, now + 8_000);
      expect(s.contendedAnywhere(now + 12_000)).toBe(true);
      expect(s.recentlyContended(1, now + 12_000)).toBe(false);
      expect(s.recentlyContended(7, now + 12_000)).toBe(true);
      s.recordVisit(1, contended, now + 12_000);
      expect(s.recentlyContended(1, now + 21_999)).toBe(true);
      expect(s.contendedAnywhere(now + 22_000)).toBe(false);
    });
  });

  describe('readFrom and moveCursor', () => {
    it('reads a shard from its head when there is no cursor, stamped with this head scan', () => {
      expect(scheduler().readFrom(3, now)).toEqual({ startKey: undefined, headScannedAt: now });
    });

    it('reads on from the cursor until headRescanMs after the last head scan, then from the head again', () => {
      const s = scheduler();
      const cursor = { startKey: 'k42', headScannedAt: now };
      s.moveCursor(3, cursor);
      expect(s.readFrom(3, now)).toEqual(cursor);
      expect(s.readFrom(3, now + 4_999)).toEqual(cursor);
      expect(s.readFrom(3, now + 5_000)).toEqual({ startKey: undefined, headScannedAt: now + 5_000 });
      expect(s.readFrom(3, now + 6_000)).toEqual({ startKey: undefined, headScannedAt: now + 6_000 });
    });

    it('reads from the head, stamped now, when the cursor reached the end of the shard', () => {
      const s = scheduler();
      s.moveCursor(3, { startKey: undefined, headScannedAt: now });
      expect(s.readFrom(3, now + 1)).toEqual({ startKey: undefined, headScannedAt: now + 1 });
    });

    it('keeps one cursor per shard, the last one moved to', () => {
      const s = scheduler();
      s.moveCursor(3, { startKey: 'a', headScannedAt: now });
      s.moveCursor(4, { startKey: 'b', headScannedAt: now });
      s.moveCursor(3, { startKey: 'c', headScannedAt: now + 10 });
      expect(s.readFrom(3, now + 20)).toEqual({ startKey: 'c', headScannedAt: now + 10 });
      expect(s.readFrom(4, now + 20)).toEqual({ startKey: 'b', headScannedAt: now });
      expect(s.readFrom(5, now + 20)).toEqual({ startKey: undefined, headScannedAt: now + 20 });
    });
  });
});

describe('mustRereadFromHead', () => {
  it.each([
    ['a read from a cursor that found nothing', 'k', 0, true],
    ['a read from a cursor that found candidates', 'k', 1, false],
    ['a read from the head that found nothing', undefined, 0, false],
    ['a read from the head that found candidates', undefined, 2, false],
  ] as const)('%s: %s', (_, startKey, candidates, reread) => {
    expect(mustRereadFromHead({ startKey }, candidates)).toBe(reread);
  });
});

describe('nextPollAt', () => {
  it('waits 50 ms, doubling with each poll, at most 1 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((poll) => nextPollAt(poll, now, now + 60_000) - now)).toEqual([
      50, 100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it('never waits past the long poll’s deadline', () => {
    expect(nextPollAt(0, now, now + 30)).toBe(now + 30);
    expect(nextPollAt(3, now, now + 400)).toBe(now + 400);
    expect(nextPollAt(3, now, now + 399)).toBe(now + 399);
    expect(nextPollAt(6, now, now + 1_001)).toBe(now + 1_000);
    expect(nextPollAt(2, now, now)).toBe(now);
  });
});
