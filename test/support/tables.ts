/**
 * Tables as the CDK constructs define them (pk/sk strings, on demand), created through the API for
 * tests and benchmarks. TTL is set through the API because MiniStack's CloudFormation drops it.
 */
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { OPEN_INDEX, STATUS_INDEX } from 'concord-aws/tx';

export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const keySchema = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
} satisfies Omit<CreateTableCommandInput, 'TableName'>;

/** A queue or bank table: pk/sk, with TTL on `ttl`. */
export async function createPlainTable(dynamodb: DynamoDBClient, name: string): Promise<string> {
  await dynamodb.send(new CreateTableCommand({ TableName: name, ...keySchema }));
  await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
  return name;
}

/** The coordinator's table: pk/sk, the sparse `open` index (ob, dl) the sweeper queries, and `by-status` (ls, createdAt). */
export async function createCoordinatorTable(dynamodb: DynamoDBClient, name = uniqueName('concord-tx')): Promise<string> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      ...keySchema,
      AttributeDefinitions: [
        ...keySchema.AttributeDefinitions,
        { AttributeName: 'ob', AttributeType: 'S' },
        { AttributeName: 'dl', AttributeType: 'N' },
        { AttributeName: 'ls', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: OPEN_INDEX,
          KeySchema: [
            { AttributeName: 'ob', KeyType: 'HASH' },
            { AttributeName: 'dl', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: STATUS_INDEX,
          KeySchema: [
            { AttributeName: 'ls', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  return name;
}
