import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExpressionValues, guardCondition } from '../../functions/adapters/dynamodb/expressions.js';
import { Attr, Keys, num, str } from '../../functions/adapters/dynamodb/queue-items.js';
import { type DeliveryState, type Guard, guardHolds } from '../../functions/core/queue/lease.js';
import { createQueueTable, dynamoClient, emulatorName } from '../support/aws.js';

/**
 * The core's guards and the adapter's ConditionExpressions must say the same thing: for random
 * stored states and guards, DynamoDB accepts the conditional write exactly when `guardHolds`.
 */
describe(`guard conditions agree with the core (${emulatorName()})`, () => {
  const dynamodb = dynamoClient();
  let table: string;
  beforeAll(async () => {
    table = await createQueueTable(dynamodb);
  });

  const now = 1_800_000_000_000;
  const stateArb: fc.Arbitrary<DeliveryState | undefined> = fc.option(
    fc.record({
      visibleAt: fc.integer({ min: now - 3, max: now + 3 }),
      leaseToken: fc.constantFrom(undefined, 'tok-a', 'tok-b'),
      fence: fc.integer({ min: 0, max: 3 }),
      receiveCount: fc.integer({ min: 0, max: 4 }),
    }),
    { nil: undefined, freq: 6 },
  );
  const guardArb: fc.Arbitrary<Guard> = fc.oneof(
    fc.record({ kind: fc.constant('can-lease' as const), now: fc.constant(now), maxReceiveCount: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      kind: fc.constant('exhausted' as const),
      now: fc.constant(now),
      maxReceiveCount: fc.integer({ min: 1, max: 4 }),
      fence: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ kind: fc.constant('holds-lease' as const), token: fc.constantFrom('tok-a', 'tok-b'), now: fc.constant(now) }),
  );

  it('on 150 random (state, guard) pairs', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(stateArb, guardArb, async (state, guard) => {
        const key = Keys.key('guards', `case-${run++}`);
        if (state) {
          await dynamodb.send(
            new PutItemCommand({
              TableName: table,
              Item: {
                ...key,
                [Attr.visibleAt]: num(state.visibleAt),
                [Attr.fence]: num(state.fence),
                [Attr.receiveCount]: num(state.receiveCount),
                ...(state.leaseToken ? { [Attr.leaseToken]: str(state.leaseToken) } : {}),
              },
            }),
          );
        }
        const values = new ExpressionValues();
        const condition = guardCondition(guard, values);
        let applied: boolean;
        try {
          await dynamodb.send(
            new UpdateItemCommand({
              TableName: table,
              Key: key,
              UpdateExpression: 'SET probe = :probe',
              ConditionExpression: condition,
              ExpressionAttributeValues: { ...values.attributeValues, ':probe': num(1) },
            }),
          );
          applied = true;
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
          applied = false;
        }
        expect(applied).toBe(guardHolds(guard, state));
      }),
      { numRuns: 150 },
    );
  });
});
