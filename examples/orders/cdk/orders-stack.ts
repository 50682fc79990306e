import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { DurableQueue, TransactionCoordinator } from 'concord-aws/cdk';
import type { Construct } from 'constructs';
import { Env, ORDER_QUEUE, RESERVE_STOCK } from '../src/orders.js';

/**
 * The orders app: Concord's queue (a DurableQueue) with a producer that writes an order and
 * enqueues its confirmation in one transaction, a consumer, and Concord's coordinator
 * (TransactionCoordinator) with the inventory service as a participant.
 */
export class OrdersStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const queue = new DurableQueue(this, 'Queue', { removalPolicy: RemovalPolicy.DESTROY, claimCheckBucket: false });
    const coordinator = new TransactionCoordinator(this, 'Coordinator', {
      definitions: [RESERVE_STOCK],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const table = (name: string) =>
      new dynamodb.Table(this, name, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const orders = table('Orders');
    const inventory = table('Inventory');
    const fn = (name: string, file: string, environment: Record<string, string>) =>
      new nodejs.NodejsFunction(this, name, {
        entry: fileURLToPath(new URL(`../src/${file}`, import.meta.url)),
        runtime: lambda.Runtime.NODEJS_22_X,
        timeout: Duration.seconds(30),
        environment,
        // The AWS SDK inside the bundle (the emulator's runtime copy is a stub); node20 runs locally too.
        bundling: { externalModules: [], target: 'node20' },
      });

    const inventoryFn = fn('InventoryFunction', 'inventory.ts', { [Env.InventoryTable]: inventory.tableName, ...coordinator.environment });
    inventory.grantReadWriteData(inventoryFn);
    const service = coordinator.addParticipantService('inventory', inventoryFn);
    // reserve-stock runs on the standard engine: its participant is reached through a queue.
    if (!service.queue) throw new Error('reserve-stock is a standard-engine transaction: its participant needs a queue');
    const inventoryQueue = service.queue;

    const producer = fn('Producer', 'producer.ts', {
      ...queue.environment,
      ...coordinator.environment,
      [Env.OrdersTable]: orders.tableName,
      [Env.InventoryQueueUrl]: inventoryQueue.queueUrl,
    });
    orders.grantReadWriteData(producer);
    queue.grantProduce(producer);
    coordinator.grantStart(producer);

    const consumer = fn('Consumer', 'consumer.ts', { ...queue.environment, [Env.OrdersTable]: orders.tableName });
    orders.grantReadWriteData(consumer);
    queue.addConsumer(consumer, { queues: [ORDER_QUEUE] });

    new CfnOutput(this, 'ProducerFunction', { value: producer.functionName });
    new CfnOutput(this, 'ConsumerFunction', { value: consumer.functionName });
    new CfnOutput(this, 'OrdersTable', { value: orders.tableName });
    new CfnOutput(this, 'InventoryTable', { value: inventory.tableName });
    new CfnOutput(this, 'CoordinatorTable', { value: coordinator.table.tableName });
  }
}
