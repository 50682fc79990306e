/** The participant phase designs of `npm run bench:tx` (bench/tx.ts), measured on its emulator. */
import { type DynamoDBClient, GetItemCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CostMeter, itemSize } from 'concord-aws/cost';
import { createPlainTable } from '../test/support/tables.js';

export interface PhaseDesign {
  design: string;
  wruPerPhase: number;
  requestsPerPhase: number;
  /** The account item's size after 0, 100 and 1000 transactions on it. */
  itemBytesAfter: number[];
  wruPerWriteAfter1000: number;
}

/**
 * The two designs of a participant phase, measured on the same emulator:
 *  - two-item: the participant record is an item of its own, written in one TransactWriteItems with
 *    the business write (what the library does: 2 items, billed 2x);
 *  - on-item: the hold and the record live on the account item itself, keyed by transaction and
 *    epoch, and a phase is one conditional UpdateItem (condition: the record's state and epoch).
 * Both keep a final record per transaction (the tombstone that refuses a late prepare, T4): the
 * two-item design in items of their own, the on-item design on the account, which grows.
 */
export async function measurePhaseDesigns({
  dynamodb,
  meter,
  suffix,
}: {
  dynamodb: DynamoDBClient;
  meter: CostMeter;
  suffix: string;
}): Promise<PhaseDesign[]> {
  const table = await createPlainTable(dynamodb, `phase-designs-${suffix}`);
  const key = (id: string) => ({ pk: { S: `ACCOUNT#${id}` }, sk: { S: 'account' } });
  const open = async (id: string) =>
    dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(id),
        UpdateExpression: 'SET balance = :b, held = :z, available = :b, txs = :empty',
        ExpressionAttributeValues: { ':b': { N: '1000000' }, ':z': { N: '0' }, ':empty': { M: {} } },
      }),
    );
  const twoItem = async (account: string, txId: string) => {
    for (const [phase, expression] of [
      ['PREPARED', 'SET held = held + :a, available = available - :a'],
      ['COMMITTED', 'SET balance = balance - :a, held = held - :a'],
    ] as const) {
      await dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: table,
                Key: key(account),
                UpdateExpression: expression,
                ConditionExpression: 'available >= :a',
                ExpressionAttributeValues: { ':a': { N: '1' } },
              },
            },
            {
              Put: {
                TableName: table,
                Item: {
                  pk: { S: 'TXP#0' },
                  sk: { S: `${txId}#debit` },
                  txId: { S: txId },
                  participant: { S: 'debit' },
                  state: { S: phase },
                  epoch: { N: '1' },
                  payload: { S: JSON.stringify({ kind: 'debit', accountId: account, amount: 1 }) },
                  updatedAt: { N: String(Date.now()) },
                },
              },
            },
          ],
        }),
      );
    }
  };
  const onItem = async (account: string, txId: string) => {
    const names = { '#tx': `${txId}#debit` };
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(account),
        UpdateExpression: 'SET held = held + :a, available = available - :a, txs.#tx = :rec',
        ConditionExpression: 'available >= :a AND attribute_not_exists(txs.#tx)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':a': { N: '1' }, ':rec': { S: 'P:1' } },
      }),
    );
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(account),
        UpdateExpression: 'SET balance = balance - :a, held = held - :a, txs.#tx = :rec',
        ConditionExpression: 'txs.#tx = :was',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':a': { N: '1' }, ':rec': { S: 'C:1' }, ':was': { S: 'P:1' } },
      }),
    );
  };
  const results: PhaseDesign[] = [];
  for (const [design, run] of [
    ['two-item transaction (kept)', twoItem],
    ['one conditional update of the account item', onItem],
  ] as const) {
    // Fresh accounts: the cost of a phase on an account without history.
    const before = meter.snapshot();
    for (let t = 0; t < 20; t++) {
      await open(`${design[0]}-fresh-${t}-${suffix}`);
    }
    const afterOpen = meter.snapshot();
    for (let t = 0; t < 20; t++) await run(`${design[0]}-fresh-${t}-${suffix}`, `fresh-${t}-${suffix}`);
    const fresh = CostMeter.diff(meter.snapshot(), afterOpen);
    void before;
    // One account with history: how its item grows, and what a write on it then costs.
    const hot = `${design[0]}-hot-${suffix}`;
    await open(hot);
    const sizes: number[] = [];
    const sizeOf = async () =>
      itemSize((await dynamodb.send(new GetItemCommand({ TableName: table, Key: key(hot), ConsistentRead: true }))).Item ?? {});
    sizes.push(await sizeOf());
    for (let t = 0; t < 1000; t++) {
      await run(hot, `tx-${String(t).padStart(4, '0')}-0123456789abcdef-${suffix}`);
      if (t === 99) sizes.push(await sizeOf());
    }
    sizes.push(await sizeOf());
    const lastBefore = meter.snapshot();
    await run(hot, `last-${suffix}`);
    const last = CostMeter.diff(meter.snapshot(), lastBefore);
    results.push({
      design,
      wruPerPhase: fresh.writeUnits / 40,
      requestsPerPhase: fresh.dynamoWriteRequests / 40,
      itemBytesAfter: sizes,
      wruPerWriteAfter1000: last.writeUnits / last.dynamoWriteRequests,
    });
  }
  return results;
}
