import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CostMeter } from 'concord-aws/cost';
import { inject } from 'vitest';
import { createPlainTable, uniqueName } from './tables.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

export const endpoint = (): string => inject('endpoint');
export const emulatorName = (): string => inject('emulator');
export const onMoto = (): boolean => inject('emulator') === 'moto';

export function dynamoClient(meter?: CostMeter, extra: { maxAttempts?: number; cacheMiddleware?: boolean } = {}): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: endpoint(), region, credentials, ...extra });
  meter?.attach(client, 'DynamoDB');
  return client;
}

export function s3Client(meter?: CostMeter): S3Client {
  const client = new S3Client({ endpoint: endpoint(), region, credentials, forcePathStyle: true });
  meter?.attach(client, 'S3');
  return client;
}

/** The queue table as cdk/constructs creates it (test/support/tables.ts). */
export const createQueueTable = (client: DynamoDBClient, name = uniqueName('concord-queue')): Promise<string> =>
  createPlainTable(client, name);

export async function createBucket(client: S3Client, name = uniqueName('concord-bodies')): Promise<string> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export { CostMeter, uniqueName };
