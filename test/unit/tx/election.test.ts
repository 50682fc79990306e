import { describe, expect, it } from 'vitest';
import { acquired, electionGuardHolds, type LeaderLease, mayAct, renewed } from '../../../functions/core/tx/election.js';

const now = 1_000_000;
describe('leader lease (E1)', () => {
  const lease: LeaderLease = { holder: 'a', until: now + 5_000, fence: 7 };
  it.each<[string, Parameters<typeof electionGuardHolds>[0], LeaderLease | undefined, boolean]>([
    ['vacant: no lease yet', { kind: 'vacant', now }, undefined, true],
    ['vacant: the lease expired', { kind: 'vacant', now: now + 5_000 }, lease, true],
    ['vacant: someone holds it', { kind: 'vacant', now }, lease, false],
    ['held-by: the holder with its fence', { kind: 'held-by', holder: 'a', fence: 7, now }, lease, true],
    ['held-by: a stale fence (a paused ex-leader)', { kind: 'held-by', holder: 'a', fence: 6, now }, lease, false],
    ['held-by: another holder', { kind: 'held-by', holder: 'b', fence: 7, now }, lease, false],
    ['held-by: expired', { kind: 'held-by', holder: 'a', fence: 7, now: now + 5_000 }, lease, false],
  ])('%s', (_, guard, current, expected) => {
    expect(electionGuardHolds(guard, current)).toBe(expected);
  });

  it('raises the fence on every takeover and keeps it on renewal', () => {
    const first = acquired(undefined, 'a', now, 1_000);
    const second = acquired(first, 'b', now + 2_000, 1_000);
    expect([first.fence, second.fence]).toEqual([1, 2]);
    expect(renewed(second, now + 2_500, 1_000)).toEqual({ holder: 'b', until: now + 3_500, fence: 2 });
  });

  it('stops acting a safety margin before expiry', () => {
    expect(mayAct(lease, now + 3_999, 1_000)).toBe(true);
    expect(mayAct(lease, now + 4_000, 1_000)).toBe(false);
  });
});
