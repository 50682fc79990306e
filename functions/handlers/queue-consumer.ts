/**
 * The example app's queue consumer. Woken two ways (README: "How consumers are triggered"):
 *   - a doorbell: the queue table's DynamoDB stream, filtered to new message items of the
 *     consumed queues, invokes it within about a second of a send (stream reads by Lambda are free);
 *   - a schedule, every minute, for what the stream does not announce: expired leases and
 *     messages whose delay has passed.
 * Each invocation drains the consumed queues for a bounded time. It never throws (a failed stream
 * batch would block the shard): a message that fails is nacked and comes back with backoff.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { consume, createQueueService, type ReceivedMessage } from 'concord-aws/queue';
import { list, optional, readEnv, required } from '../config/env.js';
import { EnvVar } from '../config/variables.js';

const env = readEnv({
  [EnvVar.QueueTable]: required,
  [EnvVar.ClaimCheckBucket]: optional,
  [EnvVar.ConsumedQueues]: list,
});

const dynamodb = new DynamoDBClient({});
const bucket = env[EnvVar.ClaimCheckBucket];
const queues = createQueueService({
  dynamodb,
  tableName: env[EnvVar.QueueTable],
  ...(bucket ? { claimCheck: { s3: new S3Client({}), bucket } } : {}),
});
const consumed = env[EnvVar.ConsumedQueues];
const DRAIN_BUDGET_MS = 20_000;

/** The example's processing: count what was consumed, per queue (a stand-in for real work). */
async function handleMessage(queue: string, message: ReceivedMessage): Promise<void> {
  console.log(
    JSON.stringify({ message: 'consumed', queue, messageId: message.messageId, fence: message.fence, body: message.body.slice(0, 200) }),
  );
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: env[EnvVar.QueueTable],
      Key: { pk: { S: 'DEMO#consumed' }, sk: { S: queue } },
      UpdateExpression: 'ADD #consumed :one',
      ExpressionAttributeNames: { '#consumed': 'consumed' }, // a DynamoDB reserved word
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
}

export const handler = async (): Promise<{ consumed: Record<string, number> }> => {
  const deadline = Date.now() + DRAIN_BUDGET_MS;
  const counts: Record<string, number> = {};
  await Promise.all(
    consumed.map(async (name) => {
      try {
        const stats = await consume(
          queues.queue(name),
          (m) =>
            handleMessage(name, m).catch((error: Error) => {
              console.log(JSON.stringify({ message: 'handler failed', queue: name, messageId: m.messageId, error: error.message }));
              throw error;
            }),
          {
            concurrency: 10,
            waitSeconds: 1,
            stopWhenEmpty: true,
            until: () => Date.now() > deadline,
            onLeaseLost: (error) =>
              console.log(JSON.stringify({ message: 'lease lost', queue: name, reason: error.reason, detail: error.message })),
          },
        );
        counts[name] = stats.acked;
        console.log(JSON.stringify({ message: 'drained', queue: name, ...stats }));
      } catch (error) {
        console.log(JSON.stringify({ message: 'consumer failed', queue: name, error: (error as Error).message }));
      }
    }),
  );
  return { consumed: counts };
};
