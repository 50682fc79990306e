import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderElectionTransition } from '../../functions/adapters/tx/sweeper.js';
import { acquisition, applyElection, type ElectionTransition, type LeaderLease, renewal } from '../../functions/core/tx/election.js';
import { createQueueTable, dynamoClient, emulatorName } from '../support/aws.js';

/**
 * The election's transitions (core/tx/election.ts) and the Sweeper's rendering of them must say
 * the same thing: for random stored leases and transitions, DynamoDB applies the write exactly
 * when the core's guard holds, and leaves behind exactly the lease the core computes.
 */
describe(`election transitions agree with the core (${emulatorName()})`, () => {
  const dynamodb = dynamoClient();
  let table: string;
  beforeAll(async () => {
    table = await createQueueTable(dynamodb);
  });

  const now = 1_800_000_000_000;
  const leaseArb: fc.Arbitrary<LeaderLease | undefined> = fc.option(
    fc.record({
      holder: fc.constantFrom('a', 'b'),
      until: fc.integer({ min: now - 2, max: now + 2 }),
      fence: fc.integer({ min: 1, max: 3 }),
    }),
    { nil: undefined, freq: 5 },
  );
  const transitionArb: fc.Arbitrary<ElectionTransition> = fc.oneof(
    fc
      .record({ holder: fc.constantFrom('a', 'b'), at: fc.integer({ min: now - 2, max: now + 2 }) })
      .map(({ holder, at }) => acquisition(holder, at, 1_000)),
    fc
      .record({ holder: fc.constantFrom('a', 'b'), fence: fc.integer({ min: 1, max: 3 }), at: fc.integer({ min: now - 2, max: now + 2 }) })
      .map(({ holder, fence, at }) => renewal({ holder, fence, until: at + 1 }, at, 1_000)),
  );

  it('on 120 random (lease, transition) pairs', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(leaseArb, transitionArb, async (lease, transition) => {
        const key = { pk: { S: `LEASE#guards-${run++}` }, sk: { S: 'lease' } };
        if (lease) {
          await dynamodb.send(
            new PutItemCommand({
              TableName: table,
              Item: { ...key, holder: { S: lease.holder }, until: { N: String(lease.until) }, fence: { N: String(lease.fence) } },
            }),
          );
        }
        let applied: boolean;
        try {
          await dynamodb.send(new UpdateItemCommand({ TableName: table, Key: key, ...renderElectionTransition(transition) }));
          applied = true;
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
          applied = false;
        }
        const expected = applyElection(lease, transition);
        expect(applied).toBe(expected !== undefined);
        const { Item } = await dynamodb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
        const stored = Item ? { holder: Item.holder?.S, until: Number(Item.until?.N), fence: Number(Item.fence?.N) } : undefined;
        expect(stored).toEqual(expected ?? lease);
      }),
      { numRuns: 120 },
    );
  });
});
