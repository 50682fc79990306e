import { beforeAll, describe, expect, it } from 'vitest';
import { QueueService } from '../../functions/adapters/dynamodb/durable-queue';
import { LeaseLost } from '../../functions/core/queue/errors';
import { CostMeter, createQueueTable, dynamoClient } from '../support/aws';

describe('DurableQueue basics', () => {
  let service: QueueService;
  const meter = new CostMeter();

  beforeAll(async () => {
    const dynamodb = dynamoClient(meter);
    const tableName = await createQueueTable(dynamodb);
    service = new QueueService({ dynamodb, tableName });
  });

  it('delivers a sent message once and deletes it on ack', async () => {
    const queue = service.queue('basics');
    const { messageId, duplicate } = await queue.send({ body: 'hello' });
    expect(duplicate).toBe(false);
    const [message, ...rest] = await queue.receive({ max: 10 });
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ messageId, body: 'hello', receiveCount: 1, fence: 1 });
    await queue.ack(message!.receipt);
    await expect(queue.ack(message!.receipt)).rejects.toBeInstanceOf(LeaseLost);
    expect(await queue.receive({ max: 10 })).toEqual([]);
    expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
  });
});
