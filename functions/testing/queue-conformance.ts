/**
 * One behavioural suite for every implementation of the Queue port (BullMQ's pattern): DESIGN.md's
 * queue invariants Q1–Q7 stated as specifications, run against InMemoryQueue in Concord's unit
 * tier and against the DynamoDB queue on MiniStack and on moto. Run it against your own queue
 * wrapper, or against a fixture of your own, with your test runner's functions:
 *
 *   import { describe, expect, it } from 'vitest';
 *   import { describeQueueConformance, FakeClock, InMemoryQueue } from 'concord-aws/testing';
 *   describeQueueConformance({ describe, it, expect }, 'InMemoryQueue', () => {
 *     const clock = new FakeClock();
 *     let n = 0;
 *     return {
 *       queue: async (config) => new InMemoryQueue(`q${n++}`, { clock, ...(config ? { config } : {}) }),
 *       anotherHandle: (queue) => queue,
 *       advance: (ms) => clock.advance(ms),
 *     };
 *   });
 *
 * It takes the test functions as an argument (vitest's and jest's fit), so Concord depends on no
 * test runner.
 */
import type { ListQueuesInput, QueueConfigPatch, SendInput } from '../core/queue/config.js';
import { LeaseLost } from '../core/queue/errors.js';
import type { PeekedMessage, Queue, QueuePage, ReceivedMessage } from '../core/queue/model.js';

/** The parts of a test runner's API the suite uses (vitest's and jest's `expect` fit). */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  expect(actual: unknown): {
    toBe(expected: unknown): void;
    toEqual(expected: unknown): void;
    toMatchObject(expected: object): void;
    toBeGreaterThan(expected: number): void;
  };
}

export interface QueueConformanceFixture {
  /** A new, empty queue with this configuration (a fresh name per call). */
  queue(config?: QueueConfigPatch): Promise<Queue>;
  /** Another handle on the same queue, as another process would have one (no shared caches). */
  anotherHandle(queue: Queue): Queue;
  /** Moves the queues' clock forward: leases expire and delays end. */
  advance(ms: number): void;
  /**
   * Q7, where the implementation has a transactional outbox: enqueues `messages` inside a
   * transaction of the caller's that commits (or, with `commit: false`, is canceled by a business
   * condition of its own), and returns the message ids it was given.
   */
  readonly outbox?: (queue: Queue, messages: readonly SendInput[], commit: boolean) => Promise<readonly string[]>;
  /** The listing of the Queues the fixture's queues come from (`Queues.list`). Absent: the listing specs are left out. */
  readonly listQueues?: (input: ListQueuesInput) => Promise<QueuePage>;
}

/** Every page of a peek, followed by its cursors. */
async function peekAll(queue: Queue, state: PeekedMessage['state'], limit?: number): Promise<PeekedMessage[]> {
  const all: PeekedMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await queue.peek({ state, consistency: 'strong', ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) });
    all.push(...page.messages);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** The reason of the LeaseLost a call ends with, or 'succeeded'. */
async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'succeeded';
  } catch (error) {
    if (error instanceof LeaseLost) return `LeaseLost(${error.reason})`;
    throw error;
  }
}

/** The field named by a ValidationError the call ends with. */
async function refusedField(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'accepted';
  } catch (error) {
    const e = error as { name?: string; field?: string };
    if (e.name === 'ValidationError') return e.field ?? '';
    throw error;
  }
}

async function receiveAll(queue: Queue, max = 10): Promise<ReceivedMessage[]> {
  return queue.receive({ max });
}

export function describeQueueConformance(t: ConformanceTestApi, name: string, setup: () => QueueConformanceFixture): void {
  const { describe, it, expect } = t;
  const f = setup();
  const only = async (queue: Queue, input: Parameters<Queue['receive']>[0] = {}) => {
    const received = await queue.receive({ max: 10, ...input });
    expect(received.length).toBe(1);
    return received[0] as ReceivedMessage;
  };

  describe(`${name} conforms to the Queue port`, () => {
    describe('Q1: no acknowledged message is delivered again; none is lost', () => {
      it('delivers a sent message with its body, and never again once acked', async () => {
        const queue = await f.queue();
        const { messageId } = await queue.send({ body: 'hello' });
        const m = await only(queue);
        expect(m).toMatchObject({ messageId, body: 'hello', receiveCount: 1, fence: 1 });
        await queue.ack(m.receipt);
        f.advance(60_000);
        expect(await receiveAll(queue)).toEqual([]);
      });

      it('loses nothing: every message of several batches is delivered once and acked once', async () => {
        const queue = await f.queue();
        const sent = new Set<string>();
        for (let batch = 0; batch < 3; batch++) {
          for (const r of await queue.sendBatch(Array.from({ length: 8 }, (_, i) => ({ body: `m-${batch}-${i}` })))) {
            expect(r.ok).toBe(true);
            if (r.ok) sent.add(r.messageId);
          }
        }
        const acked = new Set<string>();
        for (let round = 0; round < 20 && acked.size < sent.size; round++) {
          for (const m of await receiveAll(queue)) {
            expect(acked.has(m.messageId)).toBe(false);
            await queue.ack(m.receipt);
            acked.add(m.messageId);
          }
        }
        expect([...acked].sort()).toEqual([...sent].sort());
      });

      it('delivers again a message whose lease expired without an ack, one delivery more, a higher fence', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'abandoned' });
        const first = await only(queue, { visibilityTimeoutSeconds: 5 });
        expect(await receiveAll(queue)).toEqual([]);
        f.advance(6_000);
        const second = await only(queue);
        expect(second.messageId).toBe(first.messageId);
        expect(second.receiveCount).toBe(2);
        expect(second.fence).toBeGreaterThan(first.fence);
        await queue.ack(second.receipt);
      });
    });

    describe('Q2: only the current lease holder may ack, nack or extend (LeaseLost, never a silent no-op)', () => {
      it('a zombie whose lease was taken over gets LeaseLost(superseded) on ack, nack and extend', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'contested' });
        const zombie = await only(queue, { visibilityTimeoutSeconds: 5 });
        f.advance(6_000);
        const successor = await only(f.anotherHandle(queue));
        expect(await outcomeOf(queue.ack(zombie.receipt))).toBe('LeaseLost(superseded)');
        expect(await outcomeOf(queue.nack(zombie.receipt))).toBe('LeaseLost(superseded)');
        expect(await outcomeOf(queue.extend(zombie.receipt, 30))).toBe('LeaseLost(superseded)');
        expect(await outcomeOf(queue.ack(successor.receipt))).toBe('succeeded');
      });

      it('an expired lease is refused even when nobody else took the message', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'slow' });
        const m = await only(queue, { visibilityTimeoutSeconds: 5 });
        f.advance(5_001);
        expect(await outcomeOf(queue.ack(m.receipt))).toBe('LeaseLost(expired)');
        expect(await outcomeOf(queue.extend(m.receipt, 30))).toBe('LeaseLost(expired)');
      });

      it("an ack after the holder's own nack is refused as released", async () => {
        const queue = await f.queue();
        await queue.send({ body: 'given back' });
        const m = await only(queue);
        await queue.nack(m.receipt, { delaySeconds: 0 });
        expect(await outcomeOf(queue.ack(m.receipt))).toBe('LeaseLost(released)');
      });

      it('a receipt of another queue is refused (forged); anything else is a ValidationError naming the receipt', async () => {
        const queue = await f.queue();
        const other = await f.queue();
        await queue.send({ body: 'x' });
        const m = await only(queue);
        expect(await outcomeOf(other.ack(m.receipt))).toBe('LeaseLost(forged)');
        expect(await refusedField(queue.ack('not a receipt'))).toBe('receipt');
        await queue.ack(m.receipt);
      });

      it('extends a lease past its first timeout (a heartbeat), and the new receipt acks', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'long job' });
        const m = await only(queue, { visibilityTimeoutSeconds: 10 });
        f.advance(8_000);
        const extended = await queue.extend(m.receipt, 60);
        f.advance(30_000);
        expect(await receiveAll(f.anotherHandle(queue))).toEqual([]);
        expect(await outcomeOf(queue.ack(extended.receipt))).toBe('succeeded');
      });
    });

    describe('Q3: a repeated ack, nack or extend (a retry after a lost answer) gets the same answer', () => {
      it('the same ack repeated within its lease succeeds again; after its lease it is LeaseLost(gone)', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'ack twice' });
        const m = await only(queue, { visibilityTimeoutSeconds: 30 });
        await queue.ack(m.receipt);
        expect(await outcomeOf(queue.ack(m.receipt))).toBe('succeeded');
        f.advance(31_000);
        expect(await outcomeOf(queue.ack(m.receipt))).toBe('LeaseLost(gone)');
      });

      it('the same nack repeated succeeds again, in place and delayed, and the message comes back once', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'in place' });
        await queue.send({ body: 'delayed' });
        const [a, b] = await queue.receive({ max: 2 });
        await queue.nack((a as ReceivedMessage).receipt, { delaySeconds: 0 });
        expect(await outcomeOf(queue.nack((a as ReceivedMessage).receipt, { delaySeconds: 0 }))).toBe('succeeded');
        await queue.nack((b as ReceivedMessage).receipt, { delaySeconds: 10 });
        expect(await outcomeOf(queue.nack((b as ReceivedMessage).receipt, { delaySeconds: 10 }))).toBe('succeeded');
        f.advance(11_000);
        const back = await queue.receive({ max: 10 });
        expect(back.map((m) => m.messageId).sort()).toEqual([(a as ReceivedMessage).messageId, (b as ReceivedMessage).messageId].sort());
      });

      it('a nack that dead-lettered the message is not then reported as an ack', async () => {
        const queue = await f.queue({ maxReceiveCount: 1 });
        await queue.send({ body: 'poison' });
        const m = await only(queue);
        await queue.nack(m.receipt);
        expect(await outcomeOf(queue.nack(m.receipt))).toBe('succeeded');
        expect(await outcomeOf(queue.ack(m.receipt))).toBe('LeaseLost(released)');
        expect((await queue.stats({ consistency: 'strong' })).deadLettered).toBe(1);
      });
    });

    describe('Q4: FIFO groups: at most one message of a group in flight, in send order', () => {
      it('delivers a group one message at a time in send order, the next right after the ack', async () => {
        const queue = await f.queue({ fifo: true });
        for (const body of ['a1', 'a2', 'a3']) await queue.send({ body, groupId: 'a' });
        await queue.send({ body: 'b1', groupId: 'b' });
        const order: string[] = [];
        for (let round = 0; round < 10 && order.length < 4; round++) {
          const batch = await queue.receive({ max: 10 });
          const groups = batch.map((m) => m.groupId);
          expect(new Set(groups).size).toBe(groups.length); // never two of a group in hand
          for (const m of batch) {
            order.push(m.body);
            await queue.ack(m.receipt);
          }
        }
        expect(order.filter((b) => b.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
        expect(order.includes('b1')).toBe(true);
      });

      it('holds the rest of a group while its head is in flight, and refuses a FIFO message without a group', async () => {
        const queue = await f.queue({ fifo: true });
        await queue.send({ body: 'first', groupId: 'g' });
        await queue.send({ body: 'second', groupId: 'g' });
        const head = await only(queue);
        expect(await receiveAll(queue)).toEqual([]);
        await queue.nack(head.receipt, { delaySeconds: 0 });
        expect((await only(queue)).body).toBe('first');
        expect(await refusedField(queue.send({ body: 'x' }))).toBe('groupId');
      });
    });

    describe('Q5: the same dedup id within the window yields one message', () => {
      it('returns the first message for a repeat, marked duplicate, and delivers one', async () => {
        const queue = await f.queue();
        const first = await queue.send({ body: 'pay 10', dedupId: 'order-1' });
        const again = await queue.send({ body: 'pay 10', dedupId: 'order-1' });
        expect(again).toEqual({ messageId: first.messageId, duplicate: true });
        expect((await receiveAll(queue)).map((m) => m.messageId)).toEqual([first.messageId]);
      });
    });

    describe('Q6: dead-lettering is atomic: after maxReceiveCount failed deliveries, in the DLQ once and not in the queue', () => {
      it('dead-letters a message a receive finds exhausted, and redrives it with a higher fence', async () => {
        const queue = await f.queue({ maxReceiveCount: 2 });
        const { messageId } = await queue.send({ body: 'poison' });
        let fence = 0;
        for (let delivery = 1; delivery <= 2; delivery++) {
          const m = await only(queue, { visibilityTimeoutSeconds: 5 });
          expect(m.receiveCount).toBe(delivery);
          fence = m.fence;
          f.advance(6_000);
        }
        expect(await receiveAll(queue)).toEqual([]);
        const { deadLetters } = await queue.listDeadLetters({ consistency: 'strong' });
        expect(deadLetters.map((d) => [d.messageId, d.body, d.receiveCount])).toEqual([[messageId, 'poison', 2]]);
        expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
        expect(await queue.redrive()).toEqual({ redriven: 1, remaining: false });
        const back = await only(queue);
        expect(back).toMatchObject({ messageId, receiveCount: 1 });
        expect(back.fence).toBeGreaterThan(fence);
        await queue.ack(back.receipt);
      });

      it('a nack on the last allowed delivery sends the message straight to the dead letters (FIFO: the group moves on)', async () => {
        const queue = await f.queue({ fifo: true, maxReceiveCount: 1 });
        await queue.send({ body: 'bad', groupId: 'g' });
        await queue.send({ body: 'good', groupId: 'g' });
        const bad = await only(queue);
        await queue.nack(bad.receipt);
        const good = await only(queue);
        expect(good.body).toBe('good');
        await queue.ack(good.receipt);
        expect((await queue.listDeadLetters({ consistency: 'strong' })).deadLetters.map((d) => d.body)).toEqual(['bad']);
      });
    });

    describe('Liveness: a receive returns a ready message when one exists', () => {
      it('a message nacked without a delay is received again at once, and the poison flow dead-letters it', async () => {
        const queue = await f.queue({ maxReceiveCount: 2 });
        await queue.send({ body: 'retry me' });
        const first = await only(queue);
        await queue.nack(first.receipt, { delaySeconds: 0 });
        const second = await only(queue); // at once: no wait for a rescan
        expect(second).toMatchObject({ messageId: first.messageId, receiveCount: 2 });
        await queue.nack(second.receipt, { delaySeconds: 0 });
        expect(await receiveAll(queue)).toEqual([]);
        expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, deadLettered: 1 });
      });
    });

    if (f.outbox) {
      const outbox = f.outbox;
      describe('Q7: a message enqueued inside a transaction exists iff the transaction committed', () => {
        it('delivers what a committed transaction enqueued, and nothing of a canceled one', async () => {
          const queue = await f.queue();
          const [committed] = await outbox(queue, [{ body: 'committed' }], true);
          await outbox(queue, [{ body: 'rolled back' }], false);
          expect((await receiveAll(queue)).map((m) => [m.messageId, m.body])).toEqual([[committed, 'committed']]);
        });
      });
    }

    describe('bad input is refused, naming the field, and stores nothing', () => {
      it('refuses a bad send, receive, nack and configuration', async () => {
        const queue = await f.queue();
        expect(await refusedField(queue.send({ body: 'x', delaySeconds: -1 }))).toBe('delaySeconds');
        expect(await refusedField(queue.send({ body: 'x', groupId: '' }))).toBe('groupId');
        expect(await refusedField(queue.receive({ max: 11 }))).toBe('max');
        expect(await refusedField(queue.receive({ waitSeconds: 21 }))).toBe('waitSeconds');
        expect(await refusedField(queue.configure({ maxReceiveCount: 0 }))).toBe('maxReceiveCount');
        expect(await refusedField(queue.sendBatch([]))).toBe('messages');
        expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
      });

      it('keeps fifo fixed once a queue exists', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'standard' });
        let refused = false;
        try {
          await queue.configure({ fifo: true });
        } catch (error) {
          refused = (error as { code?: string }).code === 'Conflict';
        }
        expect(refused).toBe(true);
      });
    });

    describe('bodies: JSON text is marked as such, plain text is not', () => {
      it('hands back the contentType a sender gave, through receive, peek and the dead letters', async () => {
        const queue = await f.queue({ maxReceiveCount: 1 });
        const json = await queue.send({ body: '{"orderId":42}', contentType: 'application/json' });
        const text = await queue.send({ body: 'plain text' });
        const peeked = await peekAll(queue, 'visible');
        expect(Object.fromEntries(peeked.map((m) => [m.messageId, [m.body, m.contentType]]))).toEqual({
          [json.messageId]: ['{"orderId":42}', 'application/json'],
          [text.messageId]: ['plain text', undefined],
        });
        const received = await queue.receive({ max: 10 });
        expect(Object.fromEntries(received.map((m) => [m.messageId, m.contentType]))).toEqual({
          [json.messageId]: 'application/json',
          [text.messageId]: undefined,
        });
        for (const m of received) await queue.nack(m.receipt);
        const dead = await queue.getDeadLetter(json.messageId);
        expect(dead).toMatchObject({ messageId: json.messageId, body: '{"orderId":42}', contentType: 'application/json' });
        expect(await queue.redriveDeadLetter(json.messageId)).toBe(true);
        expect((await only(queue)).contentType).toBe('application/json');
      });

      it('refuses JSON-marked text that is not JSON, naming the body', async () => {
        const queue = await f.queue();
        expect(await refusedField(queue.send({ body: '{not json', contentType: 'application/json' }))).toBe('body');
        expect(await refusedField(queue.send({ body: 'x', contentType: 'text/html' as 'text/plain' }))).toBe('contentType');
      });
    });

    describe('peek: the stored messages by state, leasing nothing', () => {
      it('shows visible, in-flight (with lease expiry and fence, never a receipt) and delayed messages, and leases none', async () => {
        const queue = await f.queue();
        const leased = await queue.send({ body: 'leased' });
        const first = await only(queue, { visibilityTimeoutSeconds: 30 });
        const waiting = await queue.send({ body: 'waiting' });
        const later = await queue.send({ body: 'later', delaySeconds: 60 });
        const inFlight = await peekAll(queue, 'in-flight');
        expect(inFlight.length).toBe(1);
        expect(inFlight[0]).toMatchObject({
          messageId: leased.messageId,
          state: 'in-flight',
          body: 'leased',
          receiveCount: 1,
          fence: first.fence,
          leaseUntil: first.leaseUntil,
        });
        expect('receipt' in (inFlight[0] as object)).toBe(false);
        const visible = await peekAll(queue, 'visible');
        expect(visible.map((m) => [m.messageId, m.state, m.receiveCount, m.fence])).toEqual([[waiting.messageId, 'visible', 0, undefined]]);
        const delayed = await peekAll(queue, 'delayed');
        expect(delayed.map((m) => [m.messageId, m.state])).toEqual([[later.messageId, 'delayed']]);
        expect((delayed[0] as PeekedMessage).visibleAt).toBeGreaterThan((delayed[0] as PeekedMessage).sentAt);
        // Nothing was leased by looking: the visible message is received as a first delivery.
        expect(await only(queue)).toMatchObject({ messageId: waiting.messageId, receiveCount: 1, fence: 1 });
        await queue.ack(first.receipt);
      });

      it('pages with a cursor, showing each message once', async () => {
        const queue = await f.queue();
        const sent = new Set<string>();
        for (const r of await queue.sendBatch(Array.from({ length: 7 }, (_, i) => ({ body: `m${i}` })))) if (r.ok) sent.add(r.messageId);
        const seen = (await peekAll(queue, 'visible', 2)).map((m) => m.messageId);
        expect(seen.length).toBe(7);
        expect(new Set(seen)).toEqual(sent);
      });

      it('on a FIFO queue shows the head in flight and the rest of its group waiting, never received', async () => {
        const queue = await f.queue({ fifo: true });
        const head = await queue.send({ body: 'first', groupId: 'g' });
        const next = await queue.send({ body: 'second', groupId: 'g' });
        const m = await only(queue);
        expect((await peekAll(queue, 'in-flight')).map((p) => [p.messageId, p.groupId, p.fence])).toEqual([[head.messageId, 'g', m.fence]]);
        expect((await peekAll(queue, 'visible')).map((p) => [p.messageId, p.receiveCount])).toEqual([[next.messageId, 0]]);
        await queue.ack(m.receipt);
      });

      it('refuses a cursor it did not hand out, naming it', async () => {
        const queue = await f.queue();
        expect(await refusedField(queue.peek({ state: 'visible', cursor: 'not-a-cursor' }))).toBe('cursor');
        expect(await refusedField(queue.peek({ state: 'leased' as 'visible' }))).toBe('state');
      });
    });

    describe('one dead letter: get, redrive and delete by id', () => {
      it('finds one dead letter, redrives it with a higher fence, deletes another for good', async () => {
        const queue = await f.queue({ maxReceiveCount: 1 });
        const a = await queue.send({ body: 'a' });
        const b = await queue.send({ body: 'b' });
        const fences = new Map<string, number>();
        for (const m of await queue.receive({ max: 10 })) {
          fences.set(m.messageId, m.fence);
          await queue.nack(m.receipt);
        }
        expect(await queue.getDeadLetter(a.messageId)).toMatchObject({ messageId: a.messageId, body: 'a', receiveCount: 1 });
        expect(await queue.getDeadLetter('no-such-message')).toBe(undefined);
        expect(await queue.redriveDeadLetter(a.messageId)).toBe(true);
        expect(await queue.redriveDeadLetter(a.messageId)).toBe(false);
        const back = await only(queue);
        expect(back.messageId).toBe(a.messageId);
        expect(back.fence).toBeGreaterThan(fences.get(a.messageId) ?? 0);
        await queue.ack(back.receipt);
        expect(await queue.deleteDeadLetter(b.messageId)).toBe(true);
        expect(await queue.deleteDeadLetter(b.messageId)).toBe(false);
        expect(await queue.getDeadLetter(b.messageId)).toBe(undefined);
        expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, deadLettered: 0 });
      });

      it('refuses a message id that no queue hands out, naming it', async () => {
        const queue = await f.queue();
        expect(await refusedField(queue.getDeadLetter('has space'))).toBe('messageId');
        expect(await refusedField(queue.deleteDeadLetter(''))).toBe('messageId');
      });
    });

    if (f.listQueues) {
      const listQueues = f.listQueues;
      describe('listing queues', () => {
        it('lists a queue once used, configured or not, and pages through every queue once', async () => {
          const used = await f.queue();
          await used.send({ body: 'x' });
          const configured = await f.queue({ maxReceiveCount: 3 });
          const names: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await listQueues({ limit: 50, consistency: 'strong', ...(cursor ? { cursor } : {}) });
            names.push(...page.queues);
            cursor = page.nextCursor;
          } while (cursor);
          expect(names.includes(used.name)).toBe(true);
          expect(names.includes(configured.name)).toBe(true);
          expect(new Set(names).size).toBe(names.length);
          expect([...names].sort()).toEqual(names);
        });
      });
    }

    describe('stats', () => {
      it('count visible, in flight, delayed and dead-lettered messages', async () => {
        const queue = await f.queue();
        await queue.send({ body: 'visible' });
        await queue.send({ body: 'in flight' });
        await queue.send({ body: 'delayed', delaySeconds: 60 });
        await queue.receive({ max: 1 });
        expect(await queue.stats({ consistency: 'strong' })).toMatchObject({
          visible: 1,
          inFlight: 1,
          delayed: 1,
          deadLettered: 0,
          consistency: 'strong',
        });
      });
    });
  });
}
