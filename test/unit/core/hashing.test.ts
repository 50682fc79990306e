import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing, murmur3 } from '../../../functions/core/hashing.js';

const keys = (n: number, prefix = 'key') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('murmur3', () => {
  it('matches the reference MurmurHash3_x86_32 vectors', () => {
    // Published test vectors (seed 0 unless noted).
    expect(murmur3('')).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('a')).toBe(0x3c2569b2);
    expect(murmur3('abc')).toBe(0xb3dd93fa);
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });
});

describe('HashRing', () => {
  it('is deterministic across instances', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.string(), (owners, key) => {
        expect(new HashRing(owners).ownerOf(key)).toBe(new HashRing(owners).ownerOf(key));
      }),
      { numRuns: 40 },
    );
  });

  it('only ever moves keys to the new owner when one owner is added (E2)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.string({ minLength: 1 }), { minLength: 50, maxLength: 300 }),
        (n, sample) => {
          const before = new HashRing(n);
          const after = new HashRing(n + 1);
          for (const key of sample) {
            const moved = before.ownerOf(key) !== after.ownerOf(key);
            if (moved) expect(after.ownerOf(key)).toBe(n);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([1, 2, 3, 4, 8, 16, 32, 64])('moves about 1/(N+1) of the keys when growing from N=%i (E2)', (n) => {
    const sample = keys(40_000);
    const before = new HashRing(n);
    const after = new HashRing(n + 1);
    const moved = sample.filter((k) => before.ownerOf(k) !== after.ownerOf(k)).length / sample.length;
    const ideal = 1 / (n + 1);
    expect(moved).toBeGreaterThan(ideal * 0.75);
    expect(moved).toBeLessThan(ideal * 1.25);
  });

  it.each([2, 3, 4, 5, 8, 16, 32, 64, 100, 128, 200, 256])(
    'gives no owner more than 1.25x the mean share of the ring with %i owners (E2)',
    (n) => {
      const shares = new HashRing(n).shares();
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(Math.max(...shares) * n).toBeLessThanOrEqual(1.25);
    },
  );

  it.each([2, 4, 8, 16, 32, 64])('keeps max/mean load of 50,000 real keys at or under 1.25 with %i owners (E2)', (n) => {
    const ring = new HashRing(n);
    const load = new Array<number>(n).fill(0);
    const sample = keys(50_000, 'order');
    for (const key of sample) {
      const owner = ring.ownerOf(key);
      load[owner] = (load[owner] ?? 0) + 1;
    }
    expect(Math.max(...load) / (sample.length / n)).toBeLessThanOrEqual(1.25);
  });

  it('spreads badly without virtual nodes (the reason they exist)', () => {
    expect(Math.max(...new HashRing(16, 1).shares()) * 16).toBeGreaterThan(1.25);
  });

  it('rejects owner counts outside 1..65535', () => {
    expect(() => new HashRing(0)).toThrow(RangeError);
    expect(() => new HashRing(1.5)).toThrow(RangeError);
    expect(() => new HashRing(70_000)).toThrow(RangeError);
  });
});
