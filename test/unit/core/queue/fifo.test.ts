import { describe, expect, it } from 'vitest';
import {
  applyEffect,
  type GroupState,
  guardHolds,
  type HeldLease,
  nackTransition,
  type Transition,
} from '../../../../functions/core/queue/delivery.js';
import {
  appendedSequence,
  appendTransition,
  atHead,
  fifoAckTransition,
  fifoDeadLetterOnReceive,
  needsFenceRaise,
  raiseFenceTransition,
} from '../../../../functions/core/queue/fifo.js';

const now = 2_000_000;
const group = (over: Partial<GroupState> = {}): GroupState => ({
  head: 2,
  tail: 5,
  visibleAt: now + 10_000,
  leaseToken: 'mine',
  fence: 7,
  receiveCount: 1,
  ...over,
});
const lease: HeldLease = { token: 'mine', fence: 7, receiveCount: 1, leaseUntil: now + 10_000 };
const apply = (t: Transition<GroupState>, stored: GroupState | undefined) =>
  guardHolds(t.guard, stored) ? applyEffect(stored, t.effect) : 'refused';

describe('FIFO group transitions (Q4)', () => {
  it('the first append creates the group with its messages numbered from 0, fences from the floor', () => {
    const t = appendTransition(undefined, 3, now, 0);
    expect(apply(t, undefined)).toEqual({ head: 0, tail: 3, visibleAt: now, leaseToken: undefined, fence: 0, receiveCount: 0 });
    expect(appendedSequence(undefined, 3)).toEqual([0, 1, 2]);
    expect(apply(t, group())).toBe('refused'); // someone created it first
  });

  it('an append moves the tail it saw, and only that tail: a stale view is refused, never a gap or a reuse', () => {
    const t = appendTransition(5, 2, now, 0);
    expect(apply(t, group())).toEqual({ ...group(), tail: 7 });
    expect(appendedSequence(5, 2)).toEqual([5, 6]);
    expect(apply(t, group({ tail: 6 }))).toBe('refused');
  });

  it('a redriven message starts a new group at its fence floor (its next lease goes above it, Q2)', () => {
    expect(apply(appendTransition(undefined, 1, now, 9), undefined)).toMatchObject({ fence: 9 });
    expect(needsFenceRaise(9, 9)).toBe(true);
    expect(needsFenceRaise(10, 9)).toBe(false);
    expect(apply(raiseFenceTransition('mine', 9), group())).toEqual({ ...group(), fence: 10 });
    expect(apply(raiseFenceTransition('other', 9), group())).toBe('refused');
  });

  it('an ack advances the head past its message, lease given up, count reset, fence kept', () => {
    expect(apply(fifoAckTransition(lease, 2, false, now), group())).toEqual({
      head: 3,
      tail: 5,
      visibleAt: now,
      fence: 7,
      receiveCount: 0,
    });
  });

  it('the ack of the last message deletes the group, and only while it is the last', () => {
    const last = group({ tail: 3 });
    expect(apply(fifoAckTransition(lease, 2, true, now), last)).toBeUndefined();
    expect(apply(fifoAckTransition(lease, 2, true, now), group())).toBe('refused'); // a send joined: the hint was wrong
    expect(apply(fifoAckTransition(lease, 2, false, now), last)).toEqual({ head: 3, tail: 3, visibleAt: now, fence: 7, receiveCount: 0 });
  });

  it("an ack is refused unless its message is the head and its lease the group's", () => {
    expect(apply(fifoAckTransition(lease, 1, false, now), group())).toBe('refused');
    expect(apply(fifoAckTransition({ ...lease, token: 'other' }, 2, false, now), group())).toBe('refused');
    expect(apply(fifoAckTransition(lease, 2, false, now + 10_000), group())).toBe('refused');
  });

  it('a receive dead-letters an exhausted head as read, the group advancing (or going when it was the last)', () => {
    const exhausted = group({ leaseToken: undefined, visibleAt: now, receiveCount: 5 });
    expect(apply(fifoDeadLetterOnReceive(exhausted, now, 5), exhausted)).toMatchObject({ head: 3, receiveCount: 0 });
    const lastOne = { ...exhausted, tail: 3 };
    expect(apply(fifoDeadLetterOnReceive(lastOne, now, 5), lastOne)).toBeUndefined();
    expect(apply(fifoDeadLetterOnReceive(exhausted, now, 5), { ...exhausted, fence: 8 })).toBe('refused');
  });

  it('a nack or extend of the head holds only while its message is still the head', () => {
    const t = atHead(nackTransition(lease, now, 0), 2);
    expect(apply(t as Transition<GroupState>, group())).toEqual({ ...group(), visibleAt: now, leaseToken: undefined });
    expect(apply(t as Transition<GroupState>, group({ head: 3 }))).toBe('refused');
  });
});

describe('every FIFO transition as data, whole', () => {
  const holder = { kind: 'holds-lease', token: 'mine', now } as const;
  it.each<[string, () => Transition<GroupState>, Transition<GroupState>]>([
    [
      'the first append creates the group',
      () => appendTransition(undefined, 2, now, 5),
      {
        guard: { kind: 'absent' },
        effect: { kind: 'create', state: { head: 0, tail: 2, visibleAt: now, leaseToken: undefined, fence: 5, receiveCount: 0 } },
      },
    ],
    [
      'an append moves the tail it saw',
      () => appendTransition(5, 3, now, 0),
      { guard: { kind: 'tail-is', tail: 5 }, effect: { kind: 'update', set: { tail: 8 }, remove: [] } },
    ],
    [
      'an ack of a message that is not the last advances the head',
      () => fifoAckTransition(lease, 2, false, now),
      {
        guard: { kind: 'all', guards: [holder, { kind: 'head-is', seq: 2 }] },
        effect: { kind: 'update', set: { head: 3, visibleAt: now, receiveCount: 0 }, remove: ['leaseToken'] },
      },
    ],
    [
      'the ack of the last message deletes the group',
      () => fifoAckTransition(lease, 4, true, now),
      { guard: { kind: 'all', guards: [holder, { kind: 'head-is', seq: 4 }, { kind: 'tail-is', tail: 5 }] }, effect: { kind: 'delete' } },
    ],
    [
      'a fence raise by the new holder',
      () => raiseFenceTransition('mine', 9),
      { guard: { kind: 'leased-by', token: 'mine' }, effect: { kind: 'update', set: { fence: 10 }, remove: [] } },
    ],
  ])('%s', (_, transition, expected) => {
    // Built inside the test (not while the table is collected), so the test covers the code it checks.
    expect(transition()).toEqual(expected);
  });
});
