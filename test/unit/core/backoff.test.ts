import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, DEFAULT_NACK_BACKOFF, fullJitterBackoffMs } from '../../../functions/core/backoff.js';

describe('fullJitterBackoffMs', () => {
  it('stays within [0, min(cap, base * 2^(attempt-1))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (attempt, r, baseMs, capMs) => {
          const delay = fullJitterBackoffMs(attempt, r, { baseMs, capMs });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(capMs, baseMs * 2 ** (attempt - 1)));
        },
      ),
    );
  });

  it('has a ceiling that doubles per attempt until the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), (attempt) => {
        const next = backoffCeilingMs(attempt + 1);
        const current = backoffCeilingMs(attempt);
        expect(next === DEFAULT_NACK_BACKOFF.capMs || next === current * 2).toBe(true);
        expect(next).toBeLessThanOrEqual(DEFAULT_NACK_BACKOFF.capMs);
      }),
    );
  });

  it('is monotone in the random draw (so jitter spreads over the whole window)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(fullJitterBackoffMs(attempt, lo)).toBeLessThanOrEqual(fullJitterBackoffMs(attempt, hi));
        },
      ),
    );
  });

  it('reaches the top of the window for draws near 1', () => {
    expect(fullJitterBackoffMs(3, 0.999999999)).toBe(4_000);
    expect(fullJitterBackoffMs(3, 0)).toBe(0);
    expect(fullJitterBackoffMs(100, 0.999999999)).toBe(DEFAULT_NACK_BACKOFF.capMs);
  });
});
