import { beforeAll, describe, expect, it } from 'vitest';
import { createQueueService, type QueueService } from '../../functions/adapters/dynamodb/queue/index.js';
import { CostMeter, createQueueTable, dynamoClient } from '../support/aws.js';

describe('DurableQueue basics', () => {
  let service: QueueService;
  const meter = new CostMeter();

  beforeAll(async () => {
    const dynamodb = dynamoClient(meter);
    const tableName = await createQueueTable(dynamodb);
    service = createQueueService({ dynamodb, tableName });
  });

  it('delivers a sent message once and deletes it on ack', async () => {
    const queue = service.queue('basics');
    const { messageId, duplicate } = await queue.send({ body: 'hello' });
    expect(duplicate).toBe(false);
    const [message, ...rest] = await queue.receive({ max: 10 });
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ messageId, body: 'hello', receiveCount: 1, fence: 1 });
    await queue.ack(message!.receipt);
    // Repeated within its lease (a retry after a lost answer): the same success, nothing delivered twice.
    await queue.ack(message!.receipt);
    expect(await queue.receive({ max: 10 })).toEqual([]);
    expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
  });

  it('stores a batch in one request, an entry with a dedup id in its own transaction, and fails a bad entry alone', async () => {
    const queue = service.queue('batch');
    await queue.configure({ shards: 2 }); // the queue exists: the batch creates no configuration
    const before = meter.snapshot();
    const results = await queue.sendBatch([{ body: 'a' }, { body: 'b', dedupId: 'd-1' }, { body: 'c', delaySeconds: -1 }, { body: 'd' }]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(results[2]).toMatchObject({ ok: false, error: { name: 'ValidationError', field: 'messages.2.delaySeconds' } });
    const cost = CostMeter.diff(meter.snapshot(), before);
    const writes = Object.entries(cost.requests).filter(([operation]) => !/GetItem|Query/.test(operation)); // reads: the configuration
    expect(Object.fromEntries(writes)).toEqual({ 'DynamoDB.BatchWriteItem': 1, 'DynamoDB.TransactWriteItems': 1 });
    expect(cost.dynamoWriteRequests).toBe(4); // 2 puts in the batch; dedup record + put in the transaction
    const received = await queue.receive({ max: 10 });
    expect(received.map((m) => m.body).sort()).toEqual(['a', 'b', 'd']);
    expect(received.map((m) => m.messageId).sort()).toEqual(results.flatMap((r) => (r.ok ? [r.messageId] : [])).sort());
  });
});
