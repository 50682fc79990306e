import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbQueue } from 'concord-aws/queue';
import { describeQueueConformance } from 'concord-aws/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulatorName, uniqueName } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';

/**
 * The same suite InMemoryQueue passes in the unit tier, against the DynamoDB queue on the emulator
 * (MiniStack, and moto by `npm run test:moto`), with the production receive settings (cursors and
 * shard backoffs on: an empty answer while a message is ready would fail the liveness spec).
 */
let h: Awaited<ReturnType<typeof queueHarness>>;
beforeAll(async () => {
  h = await queueHarness({ headRescanMs: 1_000 });
});

describeQueueConformance({ describe, it, expect }, `DynamoDbQueue (${emulatorName()})`, () => ({
  queue: async (config) => {
    const queue = h.service().queue(uniqueName('conformance'));
    if (config) await queue.configure(config);
    return queue;
  },
  anotherHandle: (queue) => h.service().queue(queue.name),
  advance: (ms) => h.clock.advance(ms),
  listQueues: (input) => h.service().list(input),
  outbox: async (queue, messages, commit) => {
    const batch = await (queue as DynamoDbQueue).prepareOutbox(messages);
    const business = { Put: { TableName: h.tableName, Item: { pk: { S: uniqueName('order') }, sk: { S: 'order' } } } };
    // A business condition of the caller's own that fails: the whole transaction is canceled.
    const refused = {
      ConditionCheck: {
        TableName: h.tableName,
        Key: { pk: { S: 'no-such-item' }, sk: { S: 'x' } },
        ConditionExpression: 'attribute_exists(pk)',
      },
    };
    try {
      await h.dynamodb.send(
        new TransactWriteItemsCommand({ TransactItems: [business, ...batch.transactItems, ...(commit ? [] : [refused])] }),
      );
    } catch (error) {
      if (commit || (error as Error).name !== 'TransactionCanceledException') throw error;
    }
    return batch.messageIds;
  },
}));
