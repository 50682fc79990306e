/**
 * Takes an order: the order item and the message that will confirm it are written in ONE
 * DynamoDB transaction (the transactional outbox: the message exists iff the order does), then a
 * two-phase commit reserves the stock in the inventory service.
 */
import { DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createQueueService, explainOutboxCancellation } from 'concord-aws/queue';
import { Coordinator, registerStateMachines } from 'concord-aws/tx';
import { Env, ORDER_QUEUE, type Order, orderKey, RESERVE_STOCK, required } from './orders.js';

const dynamodb = new DynamoDBClient({});
const queues = createQueueService({ dynamodb, tableName: required('CONCORD_QUEUE_TABLE') });
const coordinator = new Coordinator({
  dynamodb,
  sfn: new SFNClient({}),
  tableName: required('CONCORD_COORDINATOR_TABLE'),
  stateMachines: registerStateMachines([RESERVE_STOCK], JSON.parse(required('CONCORD_STATE_MACHINES')) as Record<string, string>),
});
const ordersTable = required(Env.OrdersTable);
const inventoryQueueUrl = required(Env.InventoryQueueUrl);

export const handler = async (order: Order): Promise<{ orderId: string; messageId?: string; duplicate: boolean; transaction?: string }> => {
  const batch = await queues
    .queue(ORDER_QUEUE)
    .prepareOutbox([{ body: JSON.stringify({ orderId: order.orderId }), dedupId: order.orderId }]);
  const items: TransactWriteItem[] = [
    {
      Put: {
        TableName: ordersTable,
        Item: {
          ...orderKey(order.orderId),
          status: { S: 'PLACED' },
          item: { S: order.item },
          quantity: { N: String(order.quantity) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    ...batch.transactItems,
  ];
  try {
    await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items }));
  } catch (error) {
    // The same order again: its dedup id was used, or its item exists. Nothing was written.
    if (explainOutboxCancellation(error, items, batch)?.duplicateDedupIds.length) return { orderId: order.orderId, duplicate: true };
    throw error;
  }
  const transaction = await coordinator.start(RESERVE_STOCK.name, order.orderId, [
    { name: 'reserve', queueUrl: inventoryQueueUrl, payload: { item: order.item, quantity: order.quantity } },
  ]);
  return {
    orderId: order.orderId,
    ...(batch.messageIds[0] ? { messageId: batch.messageIds[0] } : {}),
    duplicate: false,
    transaction: transaction.status,
  };
};
