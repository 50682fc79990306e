import { randomBytes } from 'node:crypto';
import { ConflictOnce, DeniedRequests, FailFirstAttempt, LostResponses, PartlyUnprocessed } from 'concord-aws/testing';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../functions/adapters/dynamodb/queue/layout.js';
import type { SendOutcomeUnknown } from '../../functions/core/queue/errors.js';
import { dynamoClient, emulatorName } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';

/**
 * Q3: a write that applied but whose response was lost is retried by the SDK. The retry must not
 * duplicate a message, an ack or a dead letter, and must not be reported as a lost lease.
 */
describe(`Ambiguous writes (Q3, ${emulatorName()})`, () => {
  async function setup(fifo = false) {
    const h = await queueHarness();
    const queue = h.service().queue(fifo ? 'fifo' : 'std');
    await queue.configure({ fifo, shards: 1, maxReceiveCount: 2 });
    const pk = Keys.shardPk(queue.name, 0);
    return { h, queue, pk };
  }

  it('a send whose response is lost stores the message once', async () => {
    const { h, queue, pk } = await setup();
    await queue.stats(); // loads the queue's configuration, so that every read below is the send's
    const fault = new LostResponses(h.dynamodb, {
      operation: 'PutItem',
      when: (i) => String(i.TableName) === h.tableName && !!(i.Item as object),
    });
    const before = h.meter.snapshot().requests;
    const { messageId } = await queue.send({ body: 'once' });
    fault.remove();
    expect(fault.injected).toBe(1);
    const after = h.meter.snapshot().requests;
    const sent = (operation: string) => (after[`DynamoDB.${operation}`] ?? 0) - (before[`DynamoDB.${operation}`] ?? 0);
    // Not put again: a read finds the message the lost attempt stored.
    expect({ puts: sent('PutItem'), gets: sent('GetItem') }).toEqual({ puts: 1, gets: 1 });
    const items = (await h.partition(pk)).filter((i) => i.sk?.S?.startsWith('M#'));
    expect(items).toHaveLength(1);
    expect(items[0]?.sk?.S?.endsWith(messageId)).toBe(true);
  });

  it('a send whose response is lost while a consumer takes and acks the message is not delivered again (Q1)', async () => {
    const { h, queue, pk } = await setup();
    const consumer = h.service().queue(queue.name);
    const acked: string[] = [];
    const fault = new LostResponses(
      h.dynamodb,
      { operation: 'PutItem', when: (i) => String(i.TableName) === h.tableName && !!(i.Item as object) },
      async () => {
        // The put applied; before its response arrives, a consumer receives and acks the message.
        for (const message of await consumer.receive({ max: 10 })) {
          await consumer.ack(message.receipt);
          acked.push(message.messageId);
        }
      },
    );
    const outcome = await queue.send({ body: 'once' }).then(
      (sent) => ({ sent }),
      (error: unknown) => ({ error }),
    );
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(acked).toHaveLength(1);
    // The sender cannot tell a put that never applied from one already consumed: it says so
    // instead of putting the message again.
    expect(outcome).toMatchObject({ error: { name: 'SendOutcomeUnknown', messageId: acked[0] } });
    expect(await h.partition(pk)).toEqual([]);
    expect(await consumer.receive({ max: 10 })).toEqual([]);
  });

  it('a plain send is not retried blindly on a client that caches its middleware handlers either', async () => {
    const { h } = await setup();
    // cacheMiddleware: the client resolves one handler per command class and reuses it. The first
    // PutItem it sees is the queue configuration's, without the send's no-blind-retry middleware.
    const cached = dynamoClient(undefined, { cacheMiddleware: true });
    const queue = h.service({ dynamodb: cached }).queue('cached');
    await queue.configure({ shards: 1 });
    await queue.send({ body: 'first' }); // also resolves the PutItem handler
    const [first] = await queue.receive();
    await queue.ack(first!.receipt);
    const consumer = h.service({ dynamodb: cached }).queue('cached');
    const fault = new LostResponses(cached, { operation: 'PutItem', when: (i) => !!(i.Item as object) }, async () => {
      for (const message of await consumer.receive({ max: 10 })) await consumer.ack(message.receipt);
    });
    const outcome = await queue.send({ body: 'once' }).catch((error: unknown) => error);
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(outcome).toMatchObject({ name: 'SendOutcomeUnknown' });
    expect(await consumer.receive({ max: 10 })).toEqual([]);
  });

  it('a send whose response is lost and whose read-back fails too is SendOutcomeUnknown, never a retryable error', async () => {
    const { h, queue } = await setup();
    await queue.stats(); // the configuration is loaded: the only read below is the read-back
    const lost = new LostResponses(h.dynamodb, { operation: 'PutItem', when: (i) => String(i.TableName) === h.tableName });
    const denied = new DeniedRequests(h.dynamodb, { operation: 'GetItem' });
    const outcome = await queue.send({ body: 'x' }).catch((error: unknown) => error);
    lost.remove();
    denied.remove();
    expect(outcome).toMatchObject({ name: 'SendOutcomeUnknown', code: 'Unavailable' });
    expect((outcome as Error).message).toMatch(/reading it back failed too/);
  });

  it('a receive that fails in its second shard returns what it leased in the first, instead of stranding it', async () => {
    const h = await queueHarness();
    // Shard order is drawn from entropy: 0 makes this receiver visit shard 0, then shard 1.
    const firstShardFirst = { bytes: (n: number) => new Uint8Array(randomBytes(n)), unit: () => 0 };
    const queue = h.service({ entropy: firstShardFirst }).queue('two-shards');
    await queue.configure({ shards: 2 });
    const inShard = async (shard: number) => (await h.partition(Keys.shardPk(queue.name, shard))).length;
    while ((await inShard(0)) === 0 || (await inShard(1)) === 0) await queue.send({ body: 'm' });
    const inFirst = await inShard(0);
    const denied = new DeniedRequests(h.dynamodb, {
      operation: 'Query',
      when: (i) => JSON.stringify(i.ExpressionAttributeValues).includes(Keys.shardPk(queue.name, 1)),
    });
    const outcome = await queue.receive({ max: 10 }).catch((error: unknown) => error);
    denied.remove();
    expect(denied.injected).toBe(1);
    expect(outcome).toHaveLength(inFirst);
  });

  describe('a batch send (one BatchWriteItem)', () => {
    const bodies = Array.from({ length: 10 }, (_, i) => ({ body: `m-${i}` }));
    const messageItems = async (h: Awaited<ReturnType<typeof setup>>['h'], pk: string) =>
      (await h.partition(pk)).filter((i) => i.sk?.S?.startsWith('M#'));

    it('whose response is lost stores each message once and reports each as sent', async () => {
      const { h, queue, pk } = await setup();
      await queue.stats();
      const before = h.meter.snapshot().requests;
      const fault = new LostResponses(h.dynamodb, { operation: 'BatchWriteItem' });
      const results = await queue.sendBatch(bodies);
      fault.remove();
      expect(fault.injected).toBe(1);
      expect(results.map((r) => r.ok)).toEqual(bodies.map(() => true));
      const after = h.meter.snapshot().requests;
      expect((after['DynamoDB.BatchWriteItem'] ?? 0) - (before['DynamoDB.BatchWriteItem'] ?? 0)).toBe(1); // not sent again
      expect((await messageItems(h, pk)).map((i) => i.b?.S).sort()).toEqual(bodies.map((b) => b.body).sort());
    });

    it('whose response is lost while a consumer acks some of it delivers none twice, and says which outcomes are unknown', async () => {
      const { h, queue, pk } = await setup();
      const consumer = h.service().queue(queue.name);
      const acked: string[] = [];
      const fault = new LostResponses(h.dynamodb, { operation: 'BatchWriteItem' }, async () => {
        for (const message of await consumer.receive({ max: 4 })) {
          await consumer.ack(message.receipt);
          acked.push(message.messageId);
        }
      });
      const results = await queue.sendBatch(bodies);
      fault.remove();
      expect(acked).toHaveLength(4);
      const unknown = results.flatMap((r) => (r.ok ? [] : [r.error]));
      expect(unknown.map((e) => e.name)).toEqual(['SendOutcomeUnknown', 'SendOutcomeUnknown', 'SendOutcomeUnknown', 'SendOutcomeUnknown']);
      expect(unknown.map((e) => (e as SendOutcomeUnknown).messageId).sort()).toEqual([...acked].sort());
      const stored = await messageItems(h, pk);
      expect(stored).toHaveLength(6);
      const delivered = await consumer.receive({ max: 10 });
      expect(delivered.map((m) => m.messageId).sort()).toEqual(results.flatMap((r) => (r.ok ? [r.messageId] : [])).sort());
    });

    it('sends unprocessed items again, storing every message once', async () => {
      const { h, queue, pk } = await setup();
      const fault = new PartlyUnprocessed(h.dynamodb, 3);
      const results = await queue.sendBatch(bodies);
      fault.remove();
      expect(fault.injected).toBe(1);
      expect(results.every((r) => r.ok)).toBe(true);
      const stored = await messageItems(h, pk);
      expect(stored.map((i) => i.b?.S).sort()).toEqual(bodies.map((b) => b.body).sort());
      expect(h.meter.snapshot().requests['DynamoDB.BatchWriteItem']).toBe(2);
    });
  });

  it('a dedup send whose transaction response is lost is not reported as a duplicate', async () => {
    const { h, queue } = await setup();
    const fault = new LostResponses(h.dynamodb, { operation: 'TransactWriteItems' });
    const first = await queue.send({ body: 'x', dedupId: 'd-1' });
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(first.duplicate).toBe(false);
    expect(await queue.receive({ max: 10 })).toHaveLength(1);
  });

  it('a lease whose response is lost is still delivered (not stranded in flight)', async () => {
    const { h, queue } = await setup();
    await queue.send({ body: 'lease me' });
    const fault = new LostResponses(h.dynamodb, { operation: 'UpdateItem' });
    const [message] = await queue.receive();
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(message).toMatchObject({ body: 'lease me', receiveCount: 1, fence: 1 });
    await queue.ack(message!.receipt);
  });

  it('an ack whose response is lost succeeds on retry instead of reporting LeaseLost', async () => {
    const { h, queue, pk } = await setup();
    await queue.send({ body: 'ack me' });
    const [message] = await queue.receive();
    const fault = new LostResponses(h.dynamodb, { operation: 'DeleteItem' });
    await queue.ack(message!.receipt);
    fault.remove();
    expect(fault.injected).toBe(1);
    expect((await h.partition(pk)).filter((i) => i.sk?.S?.startsWith('M#'))).toEqual([]);
    // The caller repeating it (its HTTP client timed out, say) gets the same answer, within the lease.
    await queue.ack(message!.receipt);
    h.clock.advance(31_000);
    await expect(queue.ack(message!.receipt)).rejects.toMatchObject({ name: 'LeaseLost', reason: 'gone' });
  });

  it('an ack whose first attempt failed, retried after the lease expired and a successor acked, gets LeaseLost', async () => {
    const { h, queue } = await setup();
    await queue.send({ body: 'slow ack' });
    const [mine] = await queue.receive({ visibilityTimeoutSeconds: 30 });
    const successor = h.service().queue(queue.name);
    const fault = new FailFirstAttempt(h.dynamodb, 'DeleteItem', async () => {
      // While our ack is stuck in the network: the lease runs out, another consumer takes the
      // message and acks it.
      h.clock.advance(31_000);
      const [theirs] = await successor.receive();
      expect(theirs?.messageId).toBe(mine?.messageId);
      fault.remove();
      await successor.ack(theirs!.receipt);
    });
    await expect(queue.ack(mine!.receipt)).rejects.toMatchObject({ name: 'LeaseLost', reason: 'gone' });
    expect(fault.injected).toBe(1);
  });

  it('a nack whose response is lost succeeds on retry', async () => {
    const { h, queue } = await setup();
    await queue.send({ body: 'nack me' });
    const [message] = await queue.receive();
    const fault = new LostResponses(h.dynamodb, { operation: 'UpdateItem' });
    await queue.nack(message!.receipt, { delaySeconds: 0 });
    fault.remove();
    expect(fault.injected).toBe(1);
    const [again] = await queue.receive();
    expect(again).toMatchObject({ messageId: message?.messageId, receiveCount: 2 });
  });

  it('a dead-letter transaction whose response is lost leaves exactly one dead letter', async () => {
    const { h, queue } = await setup();
    await queue.send({ body: 'poison' });
    for (let i = 0; i < 2; i++) {
      await queue.receive({ visibilityTimeoutSeconds: 5 });
      h.clock.advance(6_000);
    }
    const fault = new LostResponses(h.dynamodb, { operation: 'TransactWriteItems' });
    expect(await queue.receive({ max: 10 })).toEqual([]);
    fault.remove();
    expect(fault.injected).toBe(1);
    const { deadLetters } = await queue.listDeadLetters({ consistency: 'strong' });
    expect(deadLetters.map((d) => d.body)).toEqual(['poison']);
  });

  it('FIFO: a send and an ack whose responses are lost keep the group consistent', async () => {
    const { h, queue, pk } = await setup(true);
    const sendFault = new LostResponses(h.dynamodb, { operation: 'TransactWriteItems' });
    await queue.send({ body: 'first', groupId: 'g' });
    sendFault.remove();
    await queue.send({ body: 'second', groupId: 'g' });
    expect(sendFault.injected).toBe(1);
    const group = await h.item(pk, Keys.groupSk('g'));
    expect(group?.tl?.N).toBe('2');
    const [first] = await queue.receive();
    expect(first?.body).toBe('first');
    const ackFault = new LostResponses(h.dynamodb, { operation: 'TransactWriteItems' });
    await queue.ack(first!.receipt);
    ackFault.remove();
    expect(ackFault.injected).toBe(1);
    const [second] = await queue.receive();
    expect(second?.body).toBe('second');
    await queue.ack(second!.receipt);
    expect(await h.partition(pk)).toEqual([]);
  });

  it('FIFO: a redrive whose response is lost is counted once and moves the message once', async () => {
    const { h, queue, pk } = await setup(true);
    await queue.send({ body: 'poison', groupId: 'g' });
    for (let i = 0; i < 2; i++) {
      await queue.receive({ visibilityTimeoutSeconds: 5 });
      h.clock.advance(6_000);
    }
    expect(await queue.receive()).toEqual([]); // dead-lettered on the way
    const fault = new LostResponses(h.dynamodb, {
      operation: 'TransactWriteItems',
      when: (i) => JSON.stringify(i.TransactItems).includes(Keys.deadLetterPk(queue.name)),
    });
    expect(await queue.redrive({ perSecond: 100 })).toEqual({ redriven: 1, remaining: false });
    fault.remove();
    expect(fault.injected).toBe(1);
    expect((await h.partition(pk)).filter((i) => i.sk?.S?.startsWith('F#')).map((i) => i.id?.S)).toHaveLength(1);
    const [again] = await queue.receive();
    expect(again?.body).toBe('poison');
    await queue.ack(again!.receipt);
    expect(await queue.listDeadLetters({ consistency: 'strong' })).toEqual({ deadLetters: [] });
  });
});

/**
 * A single-item write that meets a transaction in progress on its item fails with a
 * TransactionConflictException (not applied, not retried by the SDK): the queue retries it itself,
 * and each retry must be a request DynamoDB accepts.
 */
describe(`Writes that meet a transaction in progress (${emulatorName()})`, () => {
  async function leasedMessage() {
    const h = await queueHarness();
    const queue = h.service().queue('conflicts');
    await queue.configure({ shards: 1 });
    await queue.send({ body: 'contended' });
    const [message] = await queue.receive({ visibilityTimeoutSeconds: 30 });
    return { h, queue, message: message! };
  }

  /** Every value a request carries is used by one of its expressions (DynamoDB rejects it otherwise). */
  function expectOnlyUsedValues(input: Record<string, unknown>) {
    const expressions = [input.ConditionExpression, input.UpdateExpression, input.KeyConditionExpression].join(' ');
    const unused = Object.keys((input.ExpressionAttributeValues as object | undefined) ?? {}).filter(
      (placeholder) => !new RegExp(`${placeholder}(?![0-9])`).test(expressions),
    );
    expect(unused).toEqual([]);
  }

  it('an ack is retried after a TransactionConflictException', async () => {
    const { h, queue, message } = await leasedMessage();
    const fault = new ConflictOnce(h.dynamodb, { operation: 'DeleteItem' });
    await queue.ack(message.receipt);
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(fault.sentAfterConflict).toHaveLength(1);
    for (const input of fault.sentAfterConflict) expectOnlyUsedValues(input);
    expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('a nack is retried after a TransactionConflictException', async () => {
    const { h, queue, message } = await leasedMessage();
    const fault = new ConflictOnce(h.dynamodb, { operation: 'UpdateItem' });
    await queue.nack(message.receipt, { delaySeconds: 0 });
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(fault.sentAfterConflict).toHaveLength(1);
    for (const input of fault.sentAfterConflict) expectOnlyUsedValues(input);
    const [again] = await queue.receive();
    expect(again).toMatchObject({ messageId: message.messageId, receiveCount: 2 });
  });

  it('an extend is retried after a TransactionConflictException', async () => {
    const { h, queue, message } = await leasedMessage();
    const fault = new ConflictOnce(h.dynamodb, { operation: 'UpdateItem' });
    const extended = await queue.extend(message.receipt, 120);
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(fault.sentAfterConflict).toHaveLength(1);
    for (const input of fault.sentAfterConflict) expectOnlyUsedValues(input);
    h.clock.advance(60_000); // past the first lease, within the extended one
    await queue.ack(extended.receipt);
  });
});
