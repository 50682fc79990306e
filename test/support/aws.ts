import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { CostMeter } from '../../functions/adapters/cost-meter';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

export const endpoint = (): string => inject('endpoint');
export const emulatorName = (): string => inject('emulator');
export const onMoto = (): boolean => inject('emulator') === 'moto';

export function dynamoClient(meter?: CostMeter, extra: { maxAttempts?: number } = {}): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: endpoint(), region, credentials, ...extra });
  meter?.attach(client, 'DynamoDB');
  return client;
}

export function s3Client(meter?: CostMeter): S3Client {
  const client = new S3Client({ endpoint: endpoint(), region, credentials, forcePathStyle: true });
  meter?.attach(client, 'S3');
  return client;
}

export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * The queue table as cdk/constructs creates it: pk/sk strings, on-demand, TTL on `ttl`. TTL is set
 * through the API because MiniStack's CloudFormation drops TimeToLiveSpecification.
 */
export async function createQueueTable(client: DynamoDBClient, name = uniqueName('concord-queue')): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
  return name;
}

export async function createBucket(client: S3Client, name = uniqueName('concord-bodies')): Promise<string> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export { CostMeter };
