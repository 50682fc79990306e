import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { createQueueService, type QueueServiceOptions } from 'concord-aws/queue';
import { FakeClock } from 'concord-aws/testing';
import { CostMeter, createBucket, createQueueTable, dynamoClient, s3Client } from './aws.js';

/** A fresh table and bucket, and a factory for QueueService instances (one per simulated process). */
export async function queueHarness(defaults: Partial<QueueServiceOptions> = {}) {
  const meter = new CostMeter();
  const dynamodb = dynamoClient(meter);
  const s3 = s3Client(meter);
  const tableName = await createQueueTable(dynamodb);
  const bucket = await createBucket(s3);
  const clock = FakeClock.followingSystemTime();
  const service = (options: Partial<QueueServiceOptions> = {}) =>
    createQueueService({ dynamodb, tableName, claimCheck: { s3, bucket }, clock, headRescanMs: 0, ...defaults, ...options });
  return {
    meter,
    dynamodb,
    s3,
    tableName,
    bucket,
    clock,
    service,
    /** Every item stored under a partition key (test inspection only). */
    async partition(pk: string) {
      const { Items } = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ConsistentRead: true,
        }),
      );
      return Items ?? [];
    },
    async item(pk: string, sk: string) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
      );
      return Item;
    },
  };
}
