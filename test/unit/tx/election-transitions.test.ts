import { describe, expect, it } from 'vitest';
import {
  acquired,
  acquisition,
  applyElection,
  electionGuardHolds,
  heldBy,
  type LeaderLease,
  renewal,
  renewed,
} from '../../../functions/core/tx/election.js';

const now = 1_000_000;
const lease: LeaderLease = { holder: 'a', until: now + 5_000, fence: 7 };

describe('election transitions as { guard, next } (what the Sweeper renders)', () => {
  it('acquisition: guarded by a vacant or expired lease, raises the fence', () => {
    const t = acquisition('b', now + 5_000, 1_000);
    expect(t).toEqual({ guard: { kind: 'vacant', now: now + 5_000 }, next: { holder: 'b', until: now + 6_000, fence: 'raise' } });
    expect(applyElection(lease, t)).toEqual({ holder: 'b', until: now + 6_000, fence: 8 });
    expect(applyElection(undefined, acquisition('b', now, 1_000))).toEqual({ holder: 'b', until: now + 1_000, fence: 1 });
  });

  it('acquisition of a lease still held: the guard fails and nothing changes', () => {
    expect(applyElection(lease, acquisition('b', now, 1_000))).toBeUndefined();
  });

  it('renewal: guarded by our holder, fence and an unexpired lease; the fence stays', () => {
    const t = renewal(lease, now + 1_000, 5_000);
    expect(t.guard).toEqual(heldBy(lease, now + 1_000));
    expect(applyElection(lease, t)).toEqual({ holder: 'a', until: now + 6_000, fence: 7 });
    // A paused ex-leader renewing after a takeover: its fence is stale.
    expect(applyElection({ ...lease, holder: 'b', fence: 8 }, t)).toBeUndefined();
    expect(applyElection(lease, renewal(lease, now + 5_000, 5_000))).toBeUndefined();
  });

  it('agrees with acquired() and renewed()', () => {
    expect(acquired(lease, 'b', now + 9_000, 1_000)).toEqual(applyElection(lease, acquisition('b', now + 9_000, 1_000)));
    expect(renewed(lease, now + 1_000, 2_000)).toEqual(applyElection(lease, renewal(lease, now + 1_000, 2_000)));
  });
});

describe('the election guards at their boundaries (E1)', () => {
  it('held-by names the holder, the fence and the instant, whole', () => {
    expect(heldBy(lease, now)).toEqual({ kind: 'held-by', holder: 'a', fence: 7, now });
  });

  it('a lease that is not there is held by nobody; a vacant guard holds for it', () => {
    expect(electionGuardHolds(heldBy(lease, now), undefined)).toBe(false);
    expect(electionGuardHolds({ kind: 'vacant', now }, undefined)).toBe(true);
  });

  it('a lease ending exactly now is vacant and no longer held; one ending a moment later is held', () => {
    const endsNow = { ...lease, until: now };
    expect(electionGuardHolds({ kind: 'vacant', now }, endsNow)).toBe(true);
    expect(electionGuardHolds(heldBy(endsNow, now), endsNow)).toBe(false);
    const endsLater = { ...lease, until: now + 1 };
    expect(electionGuardHolds({ kind: 'vacant', now }, endsLater)).toBe(false);
    expect(electionGuardHolds(heldBy(endsLater, now), endsLater)).toBe(true);
  });

  it('held-by needs the same holder and the same fence', () => {
    expect(electionGuardHolds(heldBy(lease, now), { ...lease, holder: 'b' })).toBe(false);
    expect(electionGuardHolds(heldBy(lease, now), { ...lease, fence: 8 })).toBe(false);
  });
});
