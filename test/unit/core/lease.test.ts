import { describe, expect, it } from 'vitest';
import { LeaseLossReason } from '../../../functions/core/queue/errors.js';
import {
  DeliveryDecision,
  type DeliveryState,
  decideDelivery,
  extendTransition,
  type Guard,
  guardHolds,
  initialDeliveryState,
  judgeHolderWriteFailure,
  leaseAppliedEarlier,
  leaseTransition,
  nackTransition,
} from '../../../functions/core/queue/lease.js';

const now = 1_000_000;
const state = (over: Partial<DeliveryState> = {}): DeliveryState => ({ ...initialDeliveryState(now - 1), ...over });

describe('lease transitions', () => {
  it('a lease raises the fence and the receive count and hides the message until it expires', () => {
    const leased = leaseTransition(state({ fence: 4, receiveCount: 2 }), 'tok', now, 30_000);
    expect(leased).toEqual({ visibleAt: now + 30_000, leaseToken: 'tok', fence: 5, receiveCount: 3 });
  });

  it('a nack drops the token and keeps the fence (so a later lease still raises it)', () => {
    const nacked = nackTransition(leaseTransition(state(), 'tok', now, 30_000), now + 5, 1_000);
    expect(nacked).toEqual({ visibleAt: now + 1_005, leaseToken: undefined, fence: 1, receiveCount: 1 });
  });

  it('an extend moves only the expiry', () => {
    const leased = leaseTransition(state(), 'tok', now, 30_000);
    expect(extendTransition(leased, now + 10_000, 60_000)).toEqual({ ...leased, visibleAt: now + 70_000 });
  });
});

describe('decideDelivery', () => {
  it.each([
    ['visible, under the limit', state({ receiveCount: 4 }), DeliveryDecision.Lease],
    ['visible exactly now', state({ visibleAt: now }), DeliveryDecision.Lease],
    ['visible, limit reached', state({ receiveCount: 5 }), DeliveryDecision.DeadLetter],
    ['leased', state({ visibleAt: now + 1, leaseToken: 't' }), DeliveryDecision.NotVisible],
    ['delayed', state({ visibleAt: now + 1 }), DeliveryDecision.NotVisible],
    ['expired lease, limit reached', state({ leaseToken: 't', receiveCount: 5 }), DeliveryDecision.DeadLetter],
  ])('%s', (_, s, expected) => {
    expect(decideDelivery(s, now, 5)).toBe(expected);
  });
});

describe('guardHolds', () => {
  const canLease: Guard = { kind: 'can-lease', now, maxReceiveCount: 5 };
  const exhausted = (fence: number): Guard => ({ kind: 'exhausted', now, maxReceiveCount: 5, fence });
  const holds: Guard = { kind: 'holds-lease', token: 'mine', now };
  it.each<[string, Guard, DeliveryState | undefined, boolean]>([
    ['can-lease: visible and under the limit', canLease, state({ receiveCount: 4 }), true],
    ['can-lease: missing item', canLease, undefined, false],
    ['can-lease: in flight', canLease, state({ visibleAt: now + 1, leaseToken: 'x' }), false],
    ['can-lease: at the limit', canLease, state({ receiveCount: 5 }), false],
    ['exhausted: at the limit, same fence', exhausted(5), state({ receiveCount: 5, fence: 5 }), true],
    ['exhausted: fence moved on', exhausted(5), state({ receiveCount: 5, fence: 6 }), false],
    ['exhausted: under the limit', exhausted(4), state({ receiveCount: 4, fence: 4 }), false],
    ['exhausted: not visible', exhausted(5), state({ receiveCount: 5, fence: 5, visibleAt: now + 1 }), false],
    ['holds-lease: our unexpired lease', holds, state({ leaseToken: 'mine', visibleAt: now + 1 }), true],
    ['holds-lease: expired exactly now', holds, state({ leaseToken: 'mine', visibleAt: now }), false],
    ['holds-lease: another token', holds, state({ leaseToken: 'theirs', visibleAt: now + 1 }), false],
    ['holds-lease: nacked', holds, state({ leaseToken: undefined, visibleAt: now + 1 }), false],
    ['holds-lease: gone', holds, undefined, false],
  ])('%s', (_, guard, s, expected) => {
    expect(guardHolds(guard, s)).toBe(expected);
  });
});

describe('judgeHolderWriteFailure', () => {
  const lease = { token: 'mine', fence: 3, leaseUntil: now + 10_000 };
  it.each<[string, 'ack' | 'nack' | 'extend', DeliveryState | undefined, number, boolean, string]>([
    [
      'ack retried after the item vanished inside our lease: our first attempt applied (Q3)',
      'ack',
      undefined,
      now,
      true,
      'applied-earlier',
    ],
    ['ack not retried, item gone: a second ack (Q2)', 'ack', undefined, now, false, LeaseLossReason.Gone],
    ['ack retried, item gone after our lease ended: cannot tell, so lost', 'ack', undefined, now + 10_000, true, LeaseLossReason.Gone],
    ['our token, lease over', 'ack', state({ leaseToken: 'mine', fence: 3, visibleAt: now }), now, false, LeaseLossReason.Expired],
    [
      'someone leased after us',
      'ack',
      state({ leaseToken: 'theirs', fence: 4, visibleAt: now + 5 }),
      now,
      false,
      LeaseLossReason.Superseded,
    ],
    [
      'a token that never was ours',
      'ack',
      state({ leaseToken: 'theirs', fence: 3, visibleAt: now + 5 }),
      now,
      false,
      LeaseLossReason.Forged,
    ],
    ['we nacked it before', 'ack', state({ leaseToken: undefined, fence: 3 }), now, false, LeaseLossReason.Released],
    [
      'nack retried after it applied (Q3)',
      'nack',
      state({ leaseToken: undefined, fence: 3, visibleAt: now + 500 }),
      now,
      true,
      'applied-earlier',
    ],
    [
      'nack repeated by hand',
      'nack',
      state({ leaseToken: undefined, fence: 3, visibleAt: now + 500 }),
      now,
      false,
      LeaseLossReason.Released,
    ],
    ['extend after expiry', 'extend', state({ leaseToken: 'mine', fence: 3, visibleAt: now - 1 }), now, false, LeaseLossReason.Expired],
    ['extend after dead-lettering', 'extend', undefined, now, true, LeaseLossReason.Gone],
  ])('%s', (_, op, current, at, retried, expected) => {
    const verdict = judgeHolderWriteFailure(op, lease, current, at, retried);
    expect(verdict.outcome === 'applied-earlier' ? 'applied-earlier' : verdict.reason).toBe(expected);
  });
});

describe('leaseAppliedEarlier', () => {
  it('recognises our own token on the item', () => {
    expect(leaseAppliedEarlier('mine', state({ leaseToken: 'mine' }))).toBe(true);
    expect(leaseAppliedEarlier('mine', state({ leaseToken: 'theirs' }))).toBe(false);
    expect(leaseAppliedEarlier('mine', undefined)).toBe(false);
  });
});
