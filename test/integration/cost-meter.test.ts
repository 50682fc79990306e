import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PartlyUnprocessed } from 'concord-aws/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CostMeter, createQueueTable, dynamoClient, emulatorName } from '../support/aws.js';

/** The meter bills by AWS's rules whatever the emulator reports in ConsumedCapacity. */
describe(`CostMeter (${emulatorName()})`, () => {
  const meter = new CostMeter();
  const dynamodb = dynamoClient(meter);
  let table: string;
  beforeAll(async () => {
    table = await createQueueTable(dynamodb);
  });
  const measure = async (fn: () => Promise<unknown>) => {
    const before = meter.snapshot();
    await fn().catch(() => undefined);
    return CostMeter.diff(meter.snapshot(), before);
  };
  const item = (sk: string, bytes: number) => ({ pk: { S: 'p' }, sk: { S: sk }, data: { S: 'x'.repeat(bytes) } });

  it('bills a 3 KB put 3 WRU, its update and delete on the item size, and a failed condition too', async () => {
    expect((await measure(() => dynamodb.send(new PutItemCommand({ TableName: table, Item: item('a', 3_000) })))).writeUnits).toBe(3);
    const update = await measure(() =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'p' }, sk: { S: 'a' } },
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '1' } },
        }),
      ),
    );
    expect(update.writeUnits).toBe(3);
    const failed = await measure(() =>
      dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: item('a', 10),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(failed).toMatchObject({ writeUnits: 3, failedConditionalWrites: 1 });
    expect(
      (await measure(() => dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { S: 'a' } } })))).writeUnits,
    ).toBe(3);
  });

  it('bills transactions twice', async () => {
    const txn = await measure(() =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: table, Item: item('t1', 1_500) } }, { Put: { TableName: table, Item: item('t2', 100) } }],
        }),
      ),
    );
    expect(txn.writeUnits).toBe(2 * (2 + 1));
  });

  it('bills the puts of a BatchWriteItem that were applied, not those it returned unprocessed', async () => {
    const fault = new PartlyUnprocessed(dynamodb, 1); // the first, 5 KB put comes back unprocessed
    const batch = await measure(() =>
      dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: { [table]: [{ PutRequest: { Item: item('b1', 5_000) } }, { PutRequest: { Item: item('b2', 100) } }] },
        }),
      ),
    );
    fault.remove();
    expect(fault.injected).toBe(1);
    expect(batch).toMatchObject({ writeUnits: 1, dynamoWriteRequests: 1 });
  });

  it('bills a query on the total size read, rounded up to 4 KB, halved when eventually consistent', async () => {
    for (let i = 0; i < 5; i++)
      await dynamodb.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: 'q' }, sk: { S: `${i}` }, data: { S: 'y'.repeat(2_000) } } }),
      );
    const strong = await measure(() =>
      dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'q' } },
          ConsistentRead: true,
        }),
      ),
    );
    expect(strong.readUnits).toBe(3); // ~10 KB -> 12 KB -> 3 RRU
    const eventual = await measure(() =>
      dynamodb.send(
        new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'q' } } }),
      ),
    );
    expect(eventual.readUnits).toBe(1.5);
  });
});
