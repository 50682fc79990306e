import { describe, expect, it } from 'vitest';
import {
  ackTransition,
  allOf,
  applyEffect,
  DeliveryDecision,
  type DeliveryState,
  deadLetterOnNack,
  deadLetterOnReceive,
  decideDelivery,
  extendTransition,
  type Guard,
  guardHolds,
  type HeldLease,
  initialDeliveryState,
  leaseTransition,
  movedByNack,
  nackDeadLetters,
  nackTransition,
  redriveTransition,
  releaseTransition,
  type StoredFields,
  sendTransition,
  type Transition,
} from '../../../../functions/core/queue/delivery.js';

const now = 1_000_000;
const state = (over: Partial<DeliveryState> = {}): DeliveryState => ({ ...initialDeliveryState(now - 1), ...over });
const lease: HeldLease = { token: 'mine', fence: 4, receiveCount: 3, leaseUntil: now + 30_000 };
const held = state({ leaseToken: 'mine', fence: 4, receiveCount: 3, visibleAt: now + 30_000 });

/** Applies a transition the way a conditional write does: only where its guard holds. */
function apply<S extends StoredFields>(transition: Transition<S>, stored: S | undefined): S | undefined | 'refused' {
  return guardHolds(transition.guard, stored) ? applyEffect(stored, transition.effect) : 'refused';
}

describe('delivery transitions', () => {
  it('a send creates a message never delivered, visible at its availability, only where nothing is', () => {
    expect(apply(sendTransition(now + 5_000), undefined)).toEqual({
      visibleAt: now + 5_000,
      leaseToken: undefined,
      fence: 0,
      receiveCount: 0,
    });
    expect(apply(sendTransition(now), state())).toBe('refused');
  });

  it('a lease raises the fence and the receive count and hides the message until it expires', () => {
    const found = state({ fence: 4, receiveCount: 2 });
    const t = leaseTransition(found, { token: 'tok', now, visibilityMs: 30_000, maxReceiveCount: 5 });
    expect(apply(t, found)).toEqual({ visibleAt: now + 30_000, leaseToken: 'tok', fence: 5, receiveCount: 3 });
  });

  it('a lease is refused once the message changed since it was read (its fence moved on), and once it is exhausted or hidden', () => {
    const found = state({ fence: 4, receiveCount: 2 });
    const t = leaseTransition(found, { token: 'tok', now, visibilityMs: 30_000, maxReceiveCount: 5 });
    expect(apply(t, { ...found, fence: 5 })).toBe('refused');
    expect(apply(t, { ...found, visibleAt: now + 1 })).toBe('refused');
    const exhausted = state({ fence: 4, receiveCount: 5 });
    expect(apply(leaseTransition(exhausted, { token: 'tok', now, visibilityMs: 1, maxReceiveCount: 5 }), exhausted)).toBe('refused');
    expect(apply(t, undefined)).toBe('refused');
  });

  it('an ack deletes the message, and only under its unexpired lease', () => {
    expect(apply(ackTransition(lease, now), held)).toBeUndefined();
    expect(apply(ackTransition(lease, now + 30_000), held)).toBe('refused'); // expired exactly now
    expect(apply(ackTransition({ ...lease, token: 'other' }, now), held)).toBe('refused');
  });

  it('a nack drops the token and keeps the fence and the count (so a later lease still raises the fence)', () => {
    expect(apply(nackTransition(lease, now + 5, 1_000), held)).toEqual({
      visibleAt: now + 1_005,
      leaseToken: undefined,
      fence: 4,
      receiveCount: 3,
    });
  });

  it('a delayed nack moves the message: gone at its key, created at the new one with the same fence and count', () => {
    const move = movedByNack(lease, now, 60_000);
    expect(apply(move.from, held)).toBeUndefined();
    expect(apply(move.to, undefined)).toEqual({ visibleAt: now + 60_000, leaseToken: undefined, fence: 4, receiveCount: 3 });
    expect(apply(move.to, state())).toBe('refused');
  });

  it('an extend moves only the expiry', () => {
    expect(apply(extendTransition(lease, now + 10_000, 60_000), held)).toEqual({ ...held, visibleAt: now + 70_000 });
  });

  it('a release gives the lease back uncounted and visible at once, fence kept, even after the lease expired', () => {
    const expired = { ...held, visibleAt: now - 1 };
    expect(apply(releaseTransition(lease, now), expired)).toEqual({ visibleAt: now, leaseToken: undefined, fence: 4, receiveCount: 2 });
    expect(apply(releaseTransition({ ...lease, token: 'other' }, now), held)).toBe('refused');
  });

  it('a receive dead-letters an exhausted message only as it read it (same fence, visible)', () => {
    const exhausted = state({ fence: 5, receiveCount: 5 });
    const t = deadLetterOnReceive(exhausted, now, 5);
    expect(apply(t, exhausted)).toBeUndefined();
    expect(apply(t, { ...exhausted, fence: 6 })).toBe('refused');
    expect(apply(t, { ...exhausted, visibleAt: now + 1 })).toBe('refused');
    expect(apply(t, { ...exhausted, receiveCount: 4 })).toBe('refused');
  });

  it('a nack on the last allowed delivery dead-letters, under the holder guard', () => {
    expect(nackDeadLetters({ ...lease, receiveCount: 5 }, 5)).toBe(true);
    expect(nackDeadLetters({ ...lease, receiveCount: 4 }, 5)).toBe(false);
    expect(apply(deadLetterOnNack(lease, now), held)).toBeUndefined();
    expect(apply(deadLetterOnNack(lease, now), { ...held, leaseToken: 'other' })).toBe('refused');
  });

  it('a redriven message starts its receive count over and carries its fence on', () => {
    expect(apply(redriveTransition({ fence: 7 }, now), undefined)).toEqual({
      visibleAt: now,
      leaseToken: undefined,
      fence: 7,
      receiveCount: 0,
    });
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
  const canLease = (fence: number): Guard => ({ kind: 'can-lease', now, maxReceiveCount: 5, fence });
  const exhausted = (fence: number): Guard => ({ kind: 'exhausted', now, maxReceiveCount: 5, fence });
  const holds: Guard = { kind: 'holds-lease', token: 'mine', now };
  it.each<[string, Guard, StoredFields | undefined, boolean]>([
    ['can-lease: visible, under the limit, as read', canLease(0), state({ receiveCount: 4 }), true],
    ['can-lease: visible exactly now', canLease(0), state({ visibleAt: now }), true],
    ['can-lease: visible a moment later', canLease(0), state({ visibleAt: now + 1 }), false],
    ['can-lease: missing item', canLease(0), undefined, false],
    ['can-lease: in flight', canLease(0), state({ visibleAt: now + 1, leaseToken: 'x' }), false],
    ['can-lease: at the limit', canLease(0), state({ receiveCount: 5 }), false],
    ['can-lease: one under the limit', canLease(0), state({ receiveCount: 4 }), true],
    ['can-lease: changed since read', canLease(0), state({ fence: 1 }), false],
    ['exhausted: at the limit, same fence', exhausted(5), state({ receiveCount: 5, fence: 5 }), true],
    ['exhausted: over the limit', exhausted(5), state({ receiveCount: 6, fence: 5 }), true],
    ['exhausted: visible exactly now', exhausted(5), state({ receiveCount: 5, fence: 5, visibleAt: now }), true],
    ['exhausted: fence moved on', exhausted(5), state({ receiveCount: 5, fence: 6 }), false],
    ['exhausted: under the limit', exhausted(4), state({ receiveCount: 4, fence: 4 }), false],
    ['exhausted: not visible', exhausted(5), state({ receiveCount: 5, fence: 5, visibleAt: now + 1 }), false],
    ['holds-lease: our unexpired lease', holds, state({ leaseToken: 'mine', visibleAt: now + 1 }), true],
    ['holds-lease: expired exactly now', holds, state({ leaseToken: 'mine', visibleAt: now }), false],
    ['holds-lease: another token', holds, state({ leaseToken: 'theirs', visibleAt: now + 1 }), false],
    ['holds-lease: nacked', holds, state({ leaseToken: undefined, visibleAt: now + 1 }), false],
    ['holds-lease: gone', holds, undefined, false],
    ['leased-by: ours, expired', { kind: 'leased-by', token: 'mine' }, state({ leaseToken: 'mine', visibleAt: 0 }), true],
    ['leased-by: another', { kind: 'leased-by', token: 'mine' }, state({ leaseToken: 'theirs' }), false],
    ['absent: nothing there', { kind: 'absent' }, undefined, true],
    ['absent: an item there', { kind: 'absent' }, state(), false],
    ['head-is: the head', { kind: 'head-is', seq: 3 }, { ...state(), head: 3 }, true],
    ['head-is: another', { kind: 'head-is', seq: 3 }, { ...state(), head: 4 }, false],
    ['tail-is: the tail', { kind: 'tail-is', tail: 9 }, { ...state(), tail: 9 }, true],
    ['tail-is: moved on', { kind: 'tail-is', tail: 9 }, { ...state(), tail: 10 }, false],
    [
      'all: every one holds',
      allOf(holds, { kind: 'head-is', seq: 1 }),
      { ...state({ leaseToken: 'mine', visibleAt: now + 1 }), head: 1 },
      true,
    ],
    ['all: one fails', allOf(holds, { kind: 'head-is', seq: 1 }), { ...state({ leaseToken: 'mine', visibleAt: now + 1 }), head: 2 }, false],
  ])('%s', (_, guard, s, expected) => {
    expect(guardHolds(guard, s)).toBe(expected);
  });
});

describe('every transition as data: the guard and the effect the adapter renders, whole', () => {
  const holder: Guard = { kind: 'holds-lease', token: 'mine', now };
  it.each<[string, () => Transition, Transition]>([
    [
      'send',
      () => sendTransition(now + 5),
      { guard: { kind: 'absent' }, effect: { kind: 'create', state: initialDeliveryState(now + 5) } },
    ],
    [
      'redrive',
      () => redriveTransition({ fence: 7 }, now),
      {
        guard: { kind: 'absent' },
        effect: { kind: 'create', state: { visibleAt: now, leaseToken: undefined, fence: 7, receiveCount: 0 } },
      },
    ],
    [
      'lease',
      () => leaseTransition(state({ fence: 4, receiveCount: 2 }), { token: 'tok', now, visibilityMs: 30_000, maxReceiveCount: 5 }),
      {
        guard: { kind: 'can-lease', now, maxReceiveCount: 5, fence: 4 },
        effect: { kind: 'update', set: { visibleAt: now + 30_000, leaseToken: 'tok', fence: 5, receiveCount: 3 }, remove: [] },
      },
    ],
    ['ack', () => ackTransition(lease, now), { guard: holder, effect: { kind: 'delete' } }],
    [
      'nack in place',
      () => nackTransition(lease, now, 1_000),
      { guard: holder, effect: { kind: 'update', set: { visibleAt: now + 1_000 }, remove: ['leaseToken'] } },
    ],
    [
      'extend',
      () => extendTransition(lease, now, 60_000),
      { guard: holder, effect: { kind: 'update', set: { visibleAt: now + 60_000 }, remove: [] } },
    ],
    [
      'release',
      () => releaseTransition(lease, now),
      {
        guard: { kind: 'leased-by', token: 'mine' },
        effect: { kind: 'update', set: { visibleAt: now, receiveCount: 2 }, remove: ['leaseToken'] },
      },
    ],
    [
      'dead-letter on receive',
      () => deadLetterOnReceive(state({ fence: 5, receiveCount: 5 }), now, 5),
      { guard: { kind: 'exhausted', now, maxReceiveCount: 5, fence: 5 }, effect: { kind: 'delete' } },
    ],
    ['dead-letter on nack', () => deadLetterOnNack(lease, now), { guard: holder, effect: { kind: 'delete' } }],
  ])('%s', (_, transition, expected) => {
    // Built inside the test (not while the table is collected), so the test covers the code it checks.
    expect(transition()).toEqual(expected);
  });

  it('a delayed nack: a delete under the holder guard, a create where nothing is', () => {
    expect(movedByNack(lease, now, 60_000)).toEqual({
      from: { guard: holder, effect: { kind: 'delete' } },
      to: {
        guard: { kind: 'absent' },
        effect: { kind: 'create', state: { visibleAt: now + 60_000, leaseToken: undefined, fence: 4, receiveCount: 3 } },
      },
    });
  });

  it('allOf keeps its guards in order', () => {
    expect(allOf(holder, { kind: 'head-is', seq: 1 })).toEqual({ kind: 'all', guards: [holder, { kind: 'head-is', seq: 1 }] });
  });
});
