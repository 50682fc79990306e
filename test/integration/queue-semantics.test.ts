import { randomBytes } from 'node:crypto';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SlowRequests } from 'concord-aws/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainOutboxCancellation } from '../../functions/adapters/dynamodb/queue/index.js';
import { Keys } from '../../functions/adapters/dynamodb/queue/layout.js';
import { PayloadTooLargeError, ValidationError } from '../../functions/core/errors.js';
import { LeaseLossReason, LeaseLost } from '../../functions/core/queue/errors.js';
import { decodeReceipt, encodeReceipt } from '../../functions/core/queue/receipt.js';
import { uniqueName } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';

type Harness = Awaited<ReturnType<typeof queueHarness>>;

async function leaseLossOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeaseLost) return error.reason;
    throw error;
  }
  throw new Error('expected LeaseLost, but the call succeeded');
}

describe('DurableQueue', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await queueHarness();
  });
  const fresh = (prefix = 'q') => h.service().queue(uniqueName(prefix).replace(/[^A-Za-z0-9_-]/g, ''));
  const claimChecksOf = async (queue: string) => {
    const { Contents = [] } = await h.s3.send(new ListObjectsV2Command({ Bucket: h.bucket }));
    return Contents.map((o) => o.Key).filter((k) => k?.includes(`/${queue}/`));
  };

  describe('send and receive', () => {
    it('returns each message once, with its body, id, receive count and fence', async () => {
      const queue = fresh();
      const sent = await Promise.all(['a', 'b', 'c'].map((body) => queue.send({ body })));
      const received = await queue.receive({ max: 10 });
      expect(received.map((m) => m.body).sort()).toEqual(['a', 'b', 'c']);
      expect(received.map((m) => m.messageId).sort()).toEqual(sent.map((s) => s.messageId).sort());
      for (const m of received) expect(m).toMatchObject({ receiveCount: 1, fence: 1 });
      expect(await queue.receive({ max: 10 })).toEqual([]);
    });

    it('honours max and spreads over shards without losing any message', async () => {
      const queue = fresh();
      await queue.configure({ shards: 8 });
      for (let i = 0; i < 25; i++) await queue.send({ body: `m${i}` });
      const shardsUsed = new Set<number>();
      const bodies: string[] = [];
      for (let round = 0; round < 10 && bodies.length < 25; round++) {
        const batch = await queue.receive({ max: 10 });
        expect(batch.length).toBeLessThanOrEqual(10);
        for (const m of batch) {
          bodies.push(m.body);
          shardsUsed.add(decodeReceipt(m.receipt).shard);
          await queue.ack(m.receipt);
        }
      }
      expect(bodies.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort());
      expect(shardsUsed.size).toBeGreaterThan(3);
    });

    it('keeps old messages receivable after the shard count grows', async () => {
      const queue = fresh();
      await queue.configure({ shards: 2 });
      for (let i = 0; i < 10; i++) await queue.send({ body: `old${i}` });
      await queue.configure({ shards: 5 });
      const reader = h.service().queue(queue.name);
      for (let i = 0; i < 10; i++) await reader.send({ body: `new${i}` });
      const seen: string[] = [];
      for (let round = 0; round < 10 && seen.length < 20; round++) seen.push(...(await reader.receive({ max: 10 })).map((m) => m.body));
      expect(seen).toHaveLength(20);
      await expect(queue.configure({ shards: 3 })).rejects.toThrow(/can only grow/);
    });

    it('finds a ready message behind many in-flight ones, even as a fresh receiver (no cursor)', async () => {
      const queue = fresh();
      await queue.configure({ shards: 1 });
      for (let i = 0; i < 31; i++) await queue.send({ body: `m${i}` });
      const holder = h.service({ headRescanMs: 1_000 }).queue(queue.name);
      let held = 0;
      while (held < 30) held += (await holder.receive({ max: 10, visibilityTimeoutSeconds: 300 })).length;
      const [last] = await h.service({ headRescanMs: 1_000 }).queue(queue.name).receive({ max: 1 });
      expect(last?.body).toBeDefined();
      expect(held).toBe(30);
    });

    it('moves a message nacked with a delay to the end of the ready range', async () => {
      const queue = fresh();
      await queue.configure({ shards: 1 });
      await queue.send({ body: 'backing off' });
      const [m] = await queue.receive();
      const before = h.clock.now();
      await queue.nack(m!.receipt, { delaySeconds: 60 });
      const [item] = (await h.partition(Keys.shardPk(queue.name, 0))).filter((i) => i.sk?.S?.startsWith('M#'));
      const availableAt = Number(item?.sk?.S?.slice(2, 15));
      expect(availableAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(item?.lt).toBeUndefined();
      expect(item?.f?.N).toBe('1');
    });

    it('holds back a delayed message until its delay has passed', async () => {
      const queue = fresh();
      await queue.send({ body: 'later', delaySeconds: 60 });
      expect(await queue.receive({ max: 10 })).toEqual([]);
      expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, delayed: 1 });
      h.clock.advance(61_000);
      const [message] = await queue.receive({ max: 10 });
      expect(message?.body).toBe('later');
    });

    it('long-polls until a message arrives', async () => {
      const queue = fresh();
      const receiving = queue.receive({ max: 1, waitSeconds: 5 });
      setTimeout(() => void queue.send({ body: 'late arrival' }), 300);
      const [message] = await receiving;
      expect(message?.body).toBe('late arrival');
    });

    it('rejects bad input with the field named and stores nothing', async () => {
      const queue = fresh();
      await expect(queue.send({ body: 'x', delaySeconds: 901 })).rejects.toMatchObject({ field: 'delaySeconds' });
      await expect(queue.receive({ max: 11 })).rejects.toMatchObject({ field: 'max' });
      await expect(queue.send({ body: 42 as unknown as string })).rejects.toBeInstanceOf(ValidationError);
      expect(() => h.service().queue('bad name!')).toThrow(/queue: must match/);
      expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, delayed: 0, inFlight: 0 });
    });
  });

  describe('bodies', () => {
    it('compresses a 1 KB JSON body and gives it back unchanged', async () => {
      const queue = fresh();
      const body = JSON.stringify({ items: Array.from({ length: 24 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i, note: 'fragile' })) });
      expect(body.length).toBeGreaterThan(1000);
      await queue.send({ body });
      const stored = (await h.partition(Keys.shardPk(queue.name, 0))).concat(
        ...(await Promise.all([1, 2, 3].map((s) => h.partition(Keys.shardPk(queue.name, s))))),
      );
      expect(stored).toHaveLength(1);
      expect(stored[0]?.z?.B).toBeDefined();
      expect(stored[0]?.b).toBeUndefined();
      expect((await queue.receive())[0]?.body).toBe(body);
    });

    it('offloads large bodies to S3 (claim check) up to 1 MiB, and rejects more', async () => {
      const queue = fresh();
      const random = (n: number) =>
        Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)))
          .toString('base64')
          .slice(0, n);
      const big = random(1_048_576);
      const mid = random(200_000);
      await queue.send({ body: big });
      await queue.send({ body: mid });
      const received = await queue.receive({ max: 10 });
      expect(received.map((m) => m.body.length).sort((a, b) => a - b)).toEqual([200_000, 1_048_576]);
      expect(received.find((m) => m.body.length === 1_048_576)?.body).toBe(big);
      await expect(queue.send({ body: `${big}x` })).rejects.toBeInstanceOf(PayloadTooLargeError);
      for (const m of received) await queue.ack(m.receipt);
      expect(await claimChecksOf(queue.name)).toEqual([]); // acked bodies leave nothing behind
    });

    it('keeps an offloaded body through dead-lettering and redrive, and deletes it after the ack', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 1 });
      const body = randomBytes(110_000).toString('base64'); // incompressible: it must go to S3
      await queue.send({ body });
      expect(await claimChecksOf(queue.name)).toHaveLength(1);
      await queue.receive({ visibilityTimeoutSeconds: 5 });
      h.clock.advance(6_000);
      expect(await queue.receive()).toEqual([]);
      expect((await queue.listDeadLetters({ consistency: 'strong' })).deadLetters[0]?.body).toBe(body);
      await queue.redrive({ perSecond: 100 });
      const [back] = await queue.receive();
      expect(back?.body).toBe(body);
      await queue.ack(back!.receipt);
      expect(await claimChecksOf(queue.name)).toEqual([]);
    });
  });

  describe('fencing (Q2)', () => {
    it('gives a zombie consumer LeaseLost after its lease was taken over, and the fence grows', async () => {
      const queue = fresh();
      await queue.send({ body: 'contested' });
      const zombie = h.service().queue(queue.name);
      const successor = h.service().queue(queue.name);
      const [first] = await zombie.receive({ visibilityTimeoutSeconds: 30 });
      h.clock.advance(31_000);
      const [second] = await successor.receive({ visibilityTimeoutSeconds: 30 });
      expect(second?.messageId).toBe(first?.messageId);
      expect(second?.fence).toBeGreaterThan(first?.fence as number);
      expect(second?.receiveCount).toBe(2);
      expect(await leaseLossOf(zombie.ack(first!.receipt))).toBe(LeaseLossReason.Superseded);
      expect(await leaseLossOf(zombie.nack(first!.receipt))).toBe(LeaseLossReason.Superseded);
      expect(await leaseLossOf(zombie.extend(first!.receipt, 60))).toBe(LeaseLossReason.Superseded);
      await successor.ack(second!.receipt);
      // The holder repeating its ack within its lease (a retry after a lost answer) gets the same answer...
      await successor.ack(second!.receipt);
      // ...and after its lease, LeaseLost: someone else could have acked the message by then.
      h.clock.advance(31_000);
      expect(await leaseLossOf(successor.ack(second!.receipt))).toBe(LeaseLossReason.Gone);
    });

    it('rejects an expired lease even when nobody else took the message', async () => {
      const queue = fresh();
      await queue.send({ body: 'slow' });
      const [m] = await queue.receive({ visibilityTimeoutSeconds: 10 });
      h.clock.advance(10_001);
      expect(await leaseLossOf(queue.ack(m!.receipt))).toBe(LeaseLossReason.Expired);
      expect((await queue.receive())[0]?.messageId).toBe(m?.messageId);
    });

    it('rejects forged receipts and receipts of another queue', async () => {
      const queue = fresh();
      await queue.send({ body: 'x' });
      const [m] = await queue.receive();
      const real = decodeReceipt(m!.receipt);
      const forged = encodeReceipt({ ...real, token: Buffer.alloc(16, 7).toString('base64url') });
      expect(await leaseLossOf(queue.ack(forged))).toBe(LeaseLossReason.Forged);
      const other = fresh();
      expect(await leaseLossOf(other.ack(m!.receipt))).toBe(LeaseLossReason.Forged);
      await expect(queue.ack('not-a-receipt')).rejects.toMatchObject({ field: 'receipt' });
      await queue.ack(m!.receipt);
    });

    it('extends a lease past its original timeout (heartbeat)', async () => {
      const queue = fresh();
      await queue.send({ body: 'long job' });
      const [m] = await queue.receive({ visibilityTimeoutSeconds: 10 });
      h.clock.advance(8_000);
      const { receipt } = await queue.extend(m!.receipt, 60);
      h.clock.advance(30_000);
      expect(await h.service().queue(queue.name).receive()).toEqual([]);
      await queue.ack(receipt);
    });

    it('redelivers a nacked message after the given delay, with a higher fence', async () => {
      const queue = fresh();
      await queue.send({ body: 'retry me' });
      const [m1] = await queue.receive();
      await queue.nack(m1!.receipt, { delaySeconds: 20 });
      expect(await queue.receive()).toEqual([]);
      expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ delayed: 1, inFlight: 0 });
      h.clock.advance(21_000);
      const [m2] = await queue.receive();
      expect(m2).toMatchObject({ messageId: m1?.messageId, receiveCount: 2, fence: 2 });
      // The nack moved the message to a new key and gave up the old lease: an ack with it is refused
      // as released (its settlement record says so), never taken for an ack that applied.
      expect(await leaseLossOf(queue.ack(m1!.receipt))).toBe(LeaseLossReason.Released);
      await queue.ack(m2!.receipt);
    });
  });

  describe('dead-lettering (Q6)', () => {
    it('moves a poison message to the DLQ after exactly maxReceiveCount deliveries', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 3 });
      const { messageId } = await queue.send({ body: 'poison' });
      let deliveries = 0;
      for (let round = 0; round < 6; round++) {
        const got = await queue.receive({ visibilityTimeoutSeconds: 5 });
        deliveries += got.length;
        h.clock.advance(6_000);
      }
      expect(deliveries).toBe(3);
      const { deadLetters } = await queue.listDeadLetters({ consistency: 'strong' });
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0]).toMatchObject({ messageId, body: 'poison', receiveCount: 3 });
      expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
    });

    it('dead-letters exactly once when many receivers race for the same exhausted message', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 1 });
      await queue.send({ body: 'once' });
      await queue.receive({ visibilityTimeoutSeconds: 5 });
      h.clock.advance(6_000);
      const receivers = Array.from({ length: 10 }, () => h.service().queue(queue.name));
      const results = await Promise.all(receivers.map((r) => r.receive({ max: 10 })));
      expect(results.flat()).toEqual([]);
      expect((await queue.listDeadLetters({ consistency: 'strong' })).deadLetters).toHaveLength(1);
    });

    it('sends a message nacked on its last allowed delivery straight to the DLQ', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 2 });
      await queue.send({ body: 'give up' });
      const [m1] = await queue.receive();
      await queue.nack(m1!.receipt, { delaySeconds: 0 });
      const [m2] = await queue.receive();
      expect(m2?.receiveCount).toBe(2);
      await queue.nack(m2!.receipt, { delaySeconds: 0 });
      expect(await queue.receive()).toEqual([]);
      const { deadLetters } = await queue.listDeadLetters({ consistency: 'strong' });
      expect(deadLetters.map((d) => d.reason)).toEqual(['nacked on its last allowed delivery']);
    });

    it('redrives dead letters back with fences that keep growing, rate-limited, time-limited and resumable', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 1 });
      const bodies = Array.from({ length: 6 }, (_, i) => `dl${i}`);
      for (const body of bodies) await queue.send({ body });
      const firstFences = new Map<string, number>();
      for (const m of await queue.receive({ max: 10 })) firstFences.set(m.messageId, m.fence);
      h.clock.advance(31_000);
      expect(await queue.receive({ max: 10 })).toEqual([]);
      expect((await queue.stats({ consistency: 'strong' })).deadLettered).toBe(6);
      const partial = await queue.redrive({ max: 2, perSecond: 100 });
      expect(partial).toEqual({ redriven: 2, remaining: true });
      // Time-limited by the rate: at 10 per second, moves are due at 0 and 100 ms; the third would
      // start after the 0.15 s limit, so the call stops there and says more are waiting.
      const timed = await queue.redrive({ max: 100, perSecond: 10, maxSeconds: 0.15 });
      expect(timed).toEqual({ redriven: 2, remaining: true });
      // Time-limited by slow moves (200 ms each here), which the rate alone (1,000/s) would let run on.
      const slow = new SlowRequests(h.dynamodb, { operation: 'TransactWriteItems' }, 200);
      const slowCall = await queue.redrive({ max: 100, perSecond: 1_000, maxSeconds: 0.1 });
      slow.remove();
      expect(slowCall).toEqual({ redriven: 1, remaining: true });
      const rest = await queue.redrive({ max: 100, perSecond: 100 });
      expect(rest).toEqual({ redriven: 1, remaining: false });
      const back = await queue.receive({ max: 10 });
      expect(back.map((m) => m.body).sort()).toEqual(bodies);
      for (const m of back) expect(m.fence).toBeGreaterThan(firstFences.get(m.messageId) as number);
      expect((await queue.stats({ consistency: 'strong' })).deadLettered).toBe(0);
    });
  });

  describe('dedup (Q5)', () => {
    it('turns the same dedup id within the window into one message, even when sent concurrently', async () => {
      const queue = fresh();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => h.service().queue(queue.name).send({ body: 'pay', dedupId: 'order-1' })),
      );
      const ids = new Set(results.map((r) => r.messageId));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await queue.receive({ max: 10 })).toHaveLength(1);
    });

    it('accepts the dedup id again once the window has passed', async () => {
      const queue = fresh();
      await queue.configure({ dedupWindowSeconds: 60 });
      const first = await queue.send({ body: 'a', dedupId: 'd' });
      expect((await queue.send({ body: 'a', dedupId: 'd' })).duplicate).toBe(true);
      h.clock.advance(61_000);
      const later = await queue.send({ body: 'a', dedupId: 'd' });
      expect(later.duplicate).toBe(false);
      expect(later.messageId).not.toBe(first.messageId);
    });
  });

  describe('transactional outbox (Q7)', () => {
    const accountPut = (table: string, id: string, condition?: string) => ({
      Put: {
        TableName: table,
        Item: { pk: { S: `ACCOUNT#${id}` }, sk: { S: 'state' }, balance: { N: '100' } },
        ...(condition ? { ConditionExpression: condition } : {}),
      },
    });

    it('enqueues the message iff the caller’s transaction commits', async () => {
      const queue = fresh();
      const committed = await queue.prepareOutbox([{ body: 'account opened: a1' }]);
      await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [accountPut(h.tableName, 'a1'), ...committed.transactItems] }));
      const aborted = await queue.prepareOutbox([{ body: 'account opened: a1 again' }]);
      await expect(
        h.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [accountPut(h.tableName, 'a1', 'attribute_not_exists(pk)'), ...aborted.transactItems],
          }),
        ),
      ).rejects.toMatchObject({ name: 'TransactionCanceledException' });
      const received = await queue.receive({ max: 10 });
      expect(received.map((m) => m.messageId)).toEqual(committed.messageIds);
      expect(received.map((m) => m.body)).toEqual(['account opened: a1']);
    });

    it('tells a duplicate dedup id and a FIFO tail conflict apart from the caller’s own failures', async () => {
      const queue = fresh();
      await queue.send({ body: 'first', dedupId: 'evt-1' });
      const batch = await queue.prepareOutbox([{ body: 'again', dedupId: 'evt-1' }]);
      const sent = [accountPut(h.tableName, 'x1'), ...batch.transactItems];
      const error = await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: sent })).catch((e: unknown) => e);
      expect(explainOutboxCancellation(error, sent, batch)).toEqual({ duplicateDedupIds: ['evt-1'], groupConflict: false });

      const fifo = fresh('fifo');
      await fifo.configure({ fifo: true });
      const stale = await fifo.prepareOutbox([{ body: 'late', groupId: 'g' }]);
      await fifo.send({ body: 'meanwhile', groupId: 'g' });
      const sentFifo = [accountPut(h.tableName, 'x2'), ...stale.transactItems];
      const conflict = await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: sentFifo })).catch((e: unknown) => e);
      expect(explainOutboxCancellation(conflict, sentFifo, stale)).toEqual({ duplicateDedupIds: [], groupConflict: true });

      await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [accountPut(h.tableName, 'x3')] }));
      const own = [
        accountPut(h.tableName, 'x3', 'attribute_not_exists(pk)'),
        ...(await queue.prepareOutbox([{ body: 'b' }])).transactItems,
      ];
      const ownError = await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: own })).catch((e: unknown) => e);
      expect(ownError).toMatchObject({ name: 'TransactionCanceledException' });
      expect(explainOutboxCancellation(ownError, own, batch)).toBeUndefined();
    });

    it('works for FIFO groups, keeping their order', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true });
      await queue.send({ body: 'g1-0', groupId: 'g1' });
      const batch = await queue.prepareOutbox([
        { body: 'g1-1', groupId: 'g1' },
        { body: 'g1-2', groupId: 'g1' },
      ]);
      await h.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [accountPut(h.tableName, 'f1'), ...batch.transactItems] }));
      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [m] = await queue.receive();
        order.push(m!.body);
        await queue.ack(m!.receipt);
      }
      expect(order).toEqual(['g1-0', 'g1-1', 'g1-2']);
    });
  });

  describe('FIFO groups (Q4)', () => {
    it('delivers one message per group at a time, in send order', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true, maxReceiveCount: 10 });
      for (let i = 0; i < 3; i++) {
        await queue.send({ body: `a${i}`, groupId: 'A' });
        await queue.send({ body: `b${i}`, groupId: 'B' });
      }
      const first = await queue.receive({ max: 10 });
      expect(first.map((m) => m.body).sort()).toEqual(['a0', 'b0']);
      expect(await queue.receive({ max: 10 })).toEqual([]); // heads in flight block their groups
      const a0 = first.find((m) => m.groupId === 'A')!;
      await queue.nack(a0.receipt, { delaySeconds: 0 });
      const again = await queue.receive({ max: 10 });
      expect(again.map((m) => m.body)).toEqual(['a0']); // a nacked head is redelivered before a1
      await queue.ack(again[0]!.receipt);
      await queue.ack(first.find((m) => m.groupId === 'B')!.receipt);
      const next = await queue.receive({ max: 10 });
      expect(next.map((m) => m.body).sort()).toEqual(['a1', 'b1']);
    });

    it('delivers a group’s next message right after the ack, without waiting for a rescan', async () => {
      const queue = h.service({ headRescanMs: 60_000 }).queue(uniqueName('fifo').replace(/[^A-Za-z0-9_-]/g, ''));
      await queue.configure({ fifo: true, shards: 1 });
      for (let i = 0; i < 5; i++) await queue.send({ body: `g${i}`, groupId: 'G' });
      const order: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [m] = await queue.receive();
        expect(m, `message ${i} was not delivered at once`).toBeDefined();
        order.push(m!.body);
        await queue.ack(m!.receipt);
      }
      expect(order).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
    });

    it('dead-letters a FIFO head nacked on its last delivery and moves on', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true, maxReceiveCount: 1 });
      await queue.send({ body: 'hopeless', groupId: 'g' });
      await queue.send({ body: 'next', groupId: 'g' });
      const [m] = await queue.receive();
      await queue.nack(m!.receipt);
      const [next] = await queue.receive();
      expect(next?.body).toBe('next');
      expect((await queue.listDeadLetters({ consistency: 'strong' })).deadLetters.map((d) => [d.body, d.reason])).toEqual([
        ['hopeless', 'nacked on its last allowed delivery'],
      ]);
    });

    it('redrives a FIFO dead letter to the tail of its group with a higher fence', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true, maxReceiveCount: 1 });
      await queue.send({ body: 'first', groupId: 'g' });
      const [first] = await queue.receive({ visibilityTimeoutSeconds: 5 });
      await queue.send({ body: 'second', groupId: 'g' });
      h.clock.advance(6_000);
      const [second] = await queue.receive();
      expect(second?.body).toBe('second'); // 'first' went to the DLQ on the way
      expect(await queue.redrive({ perSecond: 100 })).toEqual({ redriven: 1, remaining: false });
      await queue.ack(second!.receipt);
      const [again] = await queue.receive();
      expect(again).toMatchObject({ body: 'first', messageId: first?.messageId });
      expect(again!.fence).toBeGreaterThan(first!.fence);
      expect(again!.fence).toBeGreaterThan(second!.fence);
    });

    it('requires a group id and refuses per-message delays', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true });
      await expect(queue.send({ body: 'x' })).rejects.toMatchObject({ field: 'groupId' });
      await expect(queue.send({ body: 'x', groupId: 'g', delaySeconds: 5 })).rejects.toMatchObject({ field: 'delaySeconds' });
      await expect(queue.configure({ fifo: false })).rejects.toThrow(/cannot change/);
    });

    it('deletes a group item once its last message is acknowledged', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true });
      await queue.send({ body: 'only', groupId: 'solo' });
      const [m] = await queue.receive();
      await queue.ack(m!.receipt);
      const shard = decodeReceipt(m!.receipt).shard;
      expect(await h.partition(Keys.shardPk(queue.name, shard))).toEqual([]);
    });

    it('dead-letters a FIFO head and moves on to the next message of its group', async () => {
      const queue = fresh('fifo');
      await queue.configure({ fifo: true, maxReceiveCount: 1 });
      await queue.send({ body: 'bad', groupId: 'g' });
      await queue.send({ body: 'good', groupId: 'g' });
      await queue.receive({ visibilityTimeoutSeconds: 5 });
      h.clock.advance(6_000);
      const [next] = await queue.receive({ max: 10 });
      expect(next?.body).toBe('good');
      expect((await queue.listDeadLetters({ consistency: 'strong' })).deadLetters.map((d) => d.body)).toEqual(['bad']);
    });
  });

  describe('stats', () => {
    it('counts visible, in-flight, delayed and dead-lettered messages', async () => {
      const queue = fresh();
      await queue.configure({ maxReceiveCount: 1 });
      for (let i = 0; i < 4; i++) await queue.send({ body: `v${i}` });
      await queue.send({ body: 'delayed', delaySeconds: 600 });
      const [leased] = await queue.receive({ visibilityTimeoutSeconds: 300 });
      expect(leased).toBeDefined();
      h.clock.advance(5_000);
      expect(await queue.stats({ consistency: 'strong' })).toEqual({
        visible: 3,
        inFlight: 1,
        delayed: 1,
        deadLettered: 0,
        oldestAgeSeconds: 5, // the oldest message not acked and not delayed
        consistency: 'strong',
      });
    });
  });
});
