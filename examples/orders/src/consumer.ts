/**
 * Confirms orders from the order queue. Woken by the queue table's stream (new messages) and on a
 * schedule (DurableQueue.addConsumer); drains the queue and returns, never throwing for a stream batch.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createQueueService } from 'concord-aws/queue';
import { confirmOrders } from './confirm.js';
import { Env, ORDER_QUEUE, orderKey, required } from './orders.js';

const dynamodb = new DynamoDBClient({});
const queues = createQueueService({ dynamodb, tableName: required('CONCORD_QUEUE_TABLE') });
const ordersTable = required(Env.OrdersTable);

export const handler = async () => {
  const deadline = Date.now() + 20_000;
  try {
    const stats = await confirmOrders(
      queues.queue(ORDER_QUEUE),
      async (orderId, fence) => {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: ordersTable,
            Key: orderKey(orderId),
            UpdateExpression: 'SET #status = :confirmed, fence = :fence',
            // Fenced: a later delivery's confirmation is never overwritten by an earlier one's.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(fence) OR fence < :fence)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':confirmed': { S: 'CONFIRMED' }, ':fence': { N: String(fence) } },
          }),
        );
      },
      { until: () => Date.now() > deadline },
    );
    console.log(JSON.stringify({ message: 'drained', ...stats }));
    return stats;
  } catch (error) {
    console.log(JSON.stringify({ message: 'consumer failed', error: (error as Error).message }));
    return { failed: true };
  }
};
