import { describe, expect, it } from 'vitest';
import type { StoredFields } from '../../../../functions/core/queue/delivery.js';
import { LeaseLossReason } from '../../../../functions/core/queue/errors.js';
import {
  appendAppliedEarlier,
  deadLetterAppliedEarlier,
  type HolderOp,
  judgeDedup,
  judgeHolderWrite,
  leaseAppliedEarlier,
  type SettlementRecord,
  settlementAppliedEarlier,
  tailAfterFailedAppend,
} from '../../../../functions/core/queue/judge.js';

const now = 5_000_000;
const lease = { token: 'mine', fence: 3, receiveCount: 2, leaseUntil: now + 10_000 };
const within = now;
const after = now + 10_000;
const item = (over: StoredFields): StoredFields => ({ visibleAt: now + 5, fence: 3, receiveCount: 2, ...over });
const ourNack = (outcome: SettlementRecord['outcome']): SettlementRecord => ({ token: 'mine', outcome });
const applied = 'applied-earlier';
const readIt = 'read-settlement';

type Row = [string, HolderOp, StoredFields | undefined, number, SettlementRecord | undefined | 'not-read', string];

const verdictOf = (v: ReturnType<typeof judgeHolderWrite>) => (v.outcome === 'lost' ? v.reason : v.outcome);

describe('judgeHolderWrite: a standard message (Q2, Q3)', () => {
  it.each<Row>([
    // The item is gone from the receipt's key.
    ['ack, gone within our lease: first ask whether our own nack took it', 'ack', undefined, within, 'not-read', readIt],
    ['ack, gone within our lease, no nack of ours: our own earlier ack applied', 'ack', undefined, within, undefined, applied],
    [
      'ack, gone within our lease, our nack moved it: the lease was given up',
      'ack',
      undefined,
      within,
      ourNack('moved'),
      LeaseLossReason.Released,
    ],
    [
      'ack, gone within our lease, our nack dead-lettered it: never reported as an ack',
      'ack',
      undefined,
      within,
      ourNack('dead-lettered'),
      LeaseLossReason.Released,
    ],
    [
      'ack, gone within our lease, another lease nacked it (not ours)',
      'ack',
      undefined,
      within,
      { token: 'theirs', outcome: 'moved' },
      applied,
    ],
    ['ack, gone after our lease ended: someone else may have acked it', 'ack', undefined, after, 'not-read', LeaseLossReason.Gone],
    ['ack, gone one ms before our lease ends (within)', 'ack', undefined, after - 1, undefined, applied],
    ['nack, gone: ask whether it was our own nack', 'nack', undefined, within, 'not-read', readIt],
    ['nack, gone after the lease too: ask (a settlement record outlives the lease)', 'nack', undefined, after, 'not-read', readIt],
    ['nack, gone, our nack moved it: applied earlier', 'nack', undefined, after, ourNack('moved'), applied],
    ['nack, gone, our nack dead-lettered it: applied earlier', 'nack', undefined, within, ourNack('dead-lettered'), applied],
    ['nack, gone, no nack of ours: it was acked', 'nack', undefined, within, undefined, LeaseLossReason.Gone],
    ['nack, gone, a settlement of another lease', 'nack', undefined, within, { token: 'theirs', outcome: 'moved' }, LeaseLossReason.Gone],
    ['extend, gone', 'extend', undefined, within, 'not-read', LeaseLossReason.Gone],
    // The item is there.
    ['ack, our token, lease over', 'ack', item({ leaseToken: 'mine', visibleAt: now }), within, 'not-read', LeaseLossReason.Expired],
    [
      'extend, our token, lease over',
      'extend',
      item({ leaseToken: 'mine', visibleAt: now - 1 }),
      within,
      'not-read',
      LeaseLossReason.Expired,
    ],
    ['nack, our token, lease over', 'nack', item({ leaseToken: 'mine', visibleAt: now - 1 }), within, 'not-read', LeaseLossReason.Expired],
    // Our token, lease still running: a standard message has no hint to correct; only expiry (by another clock) explains it.
    ['ack, our token, lease running', 'ack', item({ leaseToken: 'mine', visibleAt: now + 1 }), within, 'not-read', LeaseLossReason.Expired],
    [
      'nack, our token, lease running',
      'nack',
      item({ leaseToken: 'mine', visibleAt: now + 1 }),
      within,
      'not-read',
      LeaseLossReason.Expired,
    ],
    ['ack, someone leased after us', 'ack', item({ leaseToken: 'theirs', fence: 4 }), within, 'not-read', LeaseLossReason.Superseded],
    ['nack, someone leased after us', 'nack', item({ leaseToken: 'theirs', fence: 4 }), within, 'not-read', LeaseLossReason.Superseded],
    [
      'extend, leased after us and released again',
      'extend',
      item({ leaseToken: undefined, fence: 4 }),
      within,
      'not-read',
      LeaseLossReason.Superseded,
    ],
    [
      'ack, a token that never was ours at our fence',
      'ack',
      item({ leaseToken: 'theirs', fence: 3 }),
      within,
      'not-read',
      LeaseLossReason.Forged,
    ],
    ['ack, a fence above any the message had', 'ack', item({ leaseToken: 'theirs', fence: 2 }), within, 'not-read', LeaseLossReason.Forged],
    ['ack after our own nack in place', 'ack', item({ leaseToken: undefined, fence: 3 }), within, 'not-read', LeaseLossReason.Released],
    // The receipt's fence is above the item's and no lease holds it: no lease of ours ever gave it
    // (a nack in place keeps the fence), so it cannot be a release of ours either.
    [
      'ack, our fence above the unleased item',
      'ack',
      item({ leaseToken: undefined, fence: 2 }),
      within,
      'not-read',
      LeaseLossReason.Forged,
    ],
    [
      'nack, our fence above the unleased item',
      'nack',
      item({ leaseToken: undefined, fence: 2 }),
      within,
      'not-read',
      LeaseLossReason.Forged,
    ],
    [
      'extend, our fence above the unleased item',
      'extend',
      item({ leaseToken: undefined, fence: 2 }),
      within,
      'not-read',
      LeaseLossReason.Forged,
    ],
    [
      'extend after our own nack in place',
      'extend',
      item({ leaseToken: undefined, fence: 3 }),
      within,
      'not-read',
      LeaseLossReason.Released,
    ],
    [
      'nack repeated after our nack in place applied (SDK retry or the caller)',
      'nack',
      item({ leaseToken: undefined, fence: 3 }),
      within,
      'not-read',
      applied,
    ],
    [
      'nack repeated after our nack in place, lease long over',
      'nack',
      item({ leaseToken: undefined, fence: 3 }),
      after,
      'not-read',
      applied,
    ],
  ])('%s', (_, op, found, at, settlement, expected) => {
    expect(verdictOf(judgeHolderWrite({ op, lease, found, now: at, settlement }))).toBe(expected);
  });

  it('a lost verdict for an ack after our nack says what the nack did', () => {
    const verdict = judgeHolderWrite({ op: 'ack', lease, found: undefined, now, settlement: ourNack('dead-lettered') });
    expect(verdict).toEqual({ outcome: 'lost', reason: LeaseLossReason.Released, detail: expect.stringContaining('dead-lettered') });
  });
});

describe('judgeHolderWrite: a FIFO group head (Q2, Q3, Q4)', () => {
  const fifoLease = { ...lease, seq: 4 };
  const groupItem = (over: StoredFields) => item({ head: 4, tail: 6, ...over });
  it.each<Row>([
    [
      'ack, our lease, head is ours, the last-in-group hint was wrong',
      'ack',
      groupItem({ leaseToken: 'mine', tail: 6 }),
      within,
      'not-read',
      'retry-fifo-ack',
    ],
    [
      'ack, our lease expired at the head',
      'ack',
      groupItem({ leaseToken: 'mine', visibleAt: now }),
      within,
      'not-read',
      LeaseLossReason.Expired,
    ],
    ['ack, group gone within our lease: ask, then ours', 'ack', undefined, within, 'not-read', readIt],
    [
      'ack, head moved past us within our lease, no nack: our ack applied',
      'ack',
      groupItem({ head: 5, leaseToken: undefined }),
      within,
      undefined,
      applied,
    ],
    [
      'ack, head moved past us by our nack to the DLQ',
      'ack',
      groupItem({ head: 5 }),
      within,
      ourNack('dead-lettered'),
      LeaseLossReason.Released,
    ],
    ['ack, head moved past us after our lease', 'ack', groupItem({ head: 5 }), after, 'not-read', LeaseLossReason.Gone],
    [
      'ack, the group was deleted and created again (head back at 0)',
      'ack',
      groupItem({ head: 0, tail: 1, fence: 1 }),
      after,
      'not-read',
      LeaseLossReason.Gone,
    ],
    [
      'ack, a later generation whose head is our seq again, its fence below ours',
      'ack',
      groupItem({ head: 4, fence: 1, leaseToken: 'theirs' }),
      after,
      'not-read',
      LeaseLossReason.Gone,
    ],
    [
      'ack, someone else holds our message now',
      'ack',
      groupItem({ leaseToken: 'theirs', fence: 4 }),
      within,
      'not-read',
      LeaseLossReason.Superseded,
    ],
    [
      'nack, our lease at the head, running: only an ack has a hint to retry',
      'nack',
      groupItem({ leaseToken: 'mine', visibleAt: now + 1 }),
      within,
      'not-read',
      LeaseLossReason.Expired,
    ],
    [
      'extend, our lease at the head, running',
      'extend',
      groupItem({ leaseToken: 'mine', visibleAt: now + 1 }),
      within,
      'not-read',
      LeaseLossReason.Expired,
    ],
    [
      'ack, our lease at the head ends exactly now',
      'ack',
      groupItem({ leaseToken: 'mine', visibleAt: now }),
      now,
      'not-read',
      LeaseLossReason.Expired,
    ],
    [
      'ack, our fence but another token at the head',
      'ack',
      groupItem({ leaseToken: 'theirs', fence: 3 }),
      within,
      'not-read',
      LeaseLossReason.Forged,
    ],
    [
      'nack repeated after our nack in place at the head',
      'nack',
      groupItem({ leaseToken: undefined, fence: 3 }),
      within,
      'not-read',
      applied,
    ],
    ['nack, head moved on, our nack dead-lettered it', 'nack', groupItem({ head: 5 }), within, ourNack('dead-lettered'), applied],
    ['nack, head moved on, it was acked', 'nack', groupItem({ head: 5 }), within, undefined, LeaseLossReason.Gone],
    ['extend, head moved on', 'extend', groupItem({ head: 5 }), within, 'not-read', LeaseLossReason.Gone],
  ])('%s', (_, op, found, at, settlement, expected) => {
    expect(verdictOf(judgeHolderWrite({ op, lease: fifoLease, found, now: at, settlement }))).toBe(expected);
  });

  it('the retried FIFO ack is told which way the hint should go', () => {
    const last = judgeHolderWrite({
      op: 'ack',
      lease: fifoLease,
      found: groupItem({ leaseToken: 'mine', tail: 5 }),
      now,
      settlement: 'not-read',
    });
    const notLast = judgeHolderWrite({
      op: 'ack',
      lease: fifoLease,
      found: groupItem({ leaseToken: 'mine', tail: 7 }),
      now,
      settlement: 'not-read',
    });
    expect([last, notLast]).toEqual([
      { outcome: 'retry-fifo-ack', last: true },
      { outcome: 'retry-fifo-ack', last: false },
    ]);
  });
});

describe('the other verdicts', () => {
  it.each([
    ['a lease finds its own token: an earlier attempt applied', leaseAppliedEarlier('mine', item({ leaseToken: 'mine' })), true],
    ['a lease finds another token', leaseAppliedEarlier('mine', item({ leaseToken: 'theirs' })), false],
    ['a lease finds nothing', leaseAppliedEarlier('mine', undefined), false],
    ['an append finds our message at its sequence number', appendAppliedEarlier('m1', 'm1'), true],
    ['an append finds another message there', appendAppliedEarlier('m1', 'm2'), false],
    ['an append finds nothing there', appendAppliedEarlier('m1', undefined), false],
    ['a dead-lettering finds our dead letter', deadLetterAppliedEarlier('m1', 'm1'), true],
    ['a dead-lettering finds another', deadLetterAppliedEarlier('m1', undefined), false],
    ['a nack finds its own settlement', settlementAppliedEarlier('mine', ourNack('moved')), true],
    ['a nack finds another lease’s settlement', settlementAppliedEarlier('mine', { token: 'x', outcome: 'moved' }), false],
  ])('%s', (_, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('dedup: our own record (Q3), another message’s (Q5), or not the dedup record at all', () => {
    expect(judgeDedup('m1', 'm1')).toEqual({ outcome: 'applied-earlier' });
    expect(judgeDedup('m1', 'm0')).toEqual({ outcome: 'duplicate', messageId: 'm0' });
    expect(judgeDedup('m1', undefined)).toEqual({ outcome: 'not-the-dedup-record' });
  });

  it('a failed append learns the tail from the group it found (none: create it)', () => {
    expect(tailAfterFailedAppend({ tail: 8 })).toBe(8);
    expect(tailAfterFailedAppend(undefined)).toBeUndefined();
  });
});
