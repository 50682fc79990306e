import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deleteRequest,
  ExpressionValues,
  renderGuard,
  transactAction,
  updateRequest,
} from '../../functions/adapters/dynamodb/expressions.js';
import { Keys, num, stateAttributes, storedFieldsOf } from '../../functions/adapters/dynamodb/queue/layout.js';
import {
  ackTransition,
  applyEffect,
  deadLetterOnNack,
  deadLetterOnReceive,
  extendTransition,
  type GroupState,
  type Guard,
  guardHolds,
  type HeldLease,
  leaseTransition,
  movedByNack,
  nackTransition,
  releaseTransition,
  type StoredFields,
  sendTransition,
  type Transition,
} from '../../functions/core/queue/delivery.js';
import { advanceTransition, appendTransition, atHead, fifoAckTransition, raiseFenceTransition } from '../../functions/core/queue/fifo.js';
import { createQueueTable, dynamoClient, emulatorName } from '../support/aws.js';

/**
 * The core decides, the adapter renders: for random stored items and random transitions, DynamoDB
 * accepts the conditional write exactly when the core's `guardHolds`, and the item it stores is
 * exactly the core's `applyEffect` (a refused write leaves it as it was). This proves how DynamoDB
 * evaluates what the adapter sends, not just what was sent.
 */
describe(`guards and transitions agree with the core (${emulatorName()})`, () => {
  const dynamodb = dynamoClient();
  let table: string;
  beforeAll(async () => {
    table = await createQueueTable(dynamodb);
  });

  const now = 1_800_000_000_000;
  const tokens = ['tok-a', 'tok-b'] as const;
  const stateArb: fc.Arbitrary<GroupState | undefined> = fc.option(
    fc.record({
      visibleAt: fc.integer({ min: now - 3, max: now + 3 }),
      leaseToken: fc.constantFrom(undefined, ...tokens),
      fence: fc.integer({ min: 0, max: 3 }),
      receiveCount: fc.integer({ min: 0, max: 4 }),
      head: fc.integer({ min: 0, max: 2 }),
      tail: fc.integer({ min: 1, max: 3 }),
    }),
    { nil: undefined, freq: 6 },
  );
  const leaseArb: fc.Arbitrary<HeldLease> = fc.record({
    token: fc.constantFrom(...tokens),
    fence: fc.integer({ min: 0, max: 3 }),
    receiveCount: fc.integer({ min: 1, max: 4 }),
    leaseUntil: fc.constant(now + 30_000),
  });
  const at = fc.integer({ min: now - 2, max: now + 2 });
  const seq = fc.integer({ min: 0, max: 2 });
  const mrc = fc.integer({ min: 1, max: 4 });
  const found: fc.Arbitrary<GroupState> = stateArb.map(
    (s) => s ?? { visibleAt: now, leaseToken: undefined, fence: 0, receiveCount: 0, head: 0, tail: 1 },
  );
  const transitionArb: fc.Arbitrary<Transition<StoredFields>> = fc.oneof(
    fc
      .tuple(found, fc.constantFrom(...tokens), at, mrc)
      .map(([f, token, t, m]) => leaseTransition(f, { token, now: t, visibilityMs: 30_000, maxReceiveCount: m })),
    fc.tuple(leaseArb, at).map(([l, t]) => ackTransition(l, t)),
    fc.tuple(leaseArb, at, fc.integer({ min: 0, max: 5_000 })).map(([l, t, d]) => nackTransition(l, t, d)),
    fc.tuple(leaseArb, at).map(([l, t]) => extendTransition(l, t, 60_000)),
    fc.tuple(leaseArb, at).map(([l, t]) => releaseTransition(l, t)),
    fc.tuple(found, at, mrc).map(([f, t, m]) => deadLetterOnReceive(f, t, m)),
    fc.tuple(leaseArb, at).map(([l, t]) => deadLetterOnNack(l, t)),
    fc.tuple(leaseArb, at).map(([l, t]) => movedByNack(l, t, 1_000).from),
    fc.tuple(leaseArb, at).map(([l, t]) => movedByNack(l, t, 1_000).to),
    at.map((t) => sendTransition(t)),
    fc.tuple(leaseArb, seq, fc.boolean(), at).map(([l, s, last, t]) => fifoAckTransition(l, s, last, t)),
    fc
      .tuple(found, at, mrc, fc.boolean())
      .map(([f, t, m, last]) => advanceTransition({ kind: 'exhausted', now: t, maxReceiveCount: m, fence: f.fence }, f.head, last, t)),
    fc
      .tuple(fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), fc.integer({ min: 1, max: 2 }), at)
      .map(([tail, n, t]) => appendTransition(tail, n, t, 0)),
    fc.tuple(leaseArb, at, seq).map(([l, t, s]) => atHead(nackTransition(l, t, 0), s)),
    fc.tuple(fc.constantFrom(...tokens), fc.integer({ min: 0, max: 4 })).map(([token, floor]) => raiseFenceTransition(token, floor)),
  );

  /** Writes `transition` as the adapter renders it; true when DynamoDB applied it. */
  async function write(key: Record<string, { S: string }>, transition: Transition<StoredFields>): Promise<boolean> {
    try {
      if (transition.effect.kind === 'update') await dynamodb.send(new UpdateItemCommand(updateRequest(table, key, transition)));
      else if (transition.effect.kind === 'delete') await dynamodb.send(new DeleteItemCommand(deleteRequest(table, key, transition)));
      else await dynamodb.send(new PutItemCommand(transactAction(table, key, transition).Put as never));
      return true;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      return false;
    }
  }

  it('on 200 random (stored item, transition) pairs, the write applies iff the guard holds and stores the effect', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(stateArb, transitionArb, async (before, transition) => {
        const key = Keys.key('transitions', `case-${run++}`) as Record<string, { S: string }>;
        if (before) await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...key, ...stateAttributes(before) } }));
        const applied = await write(key, transition);
        expect(applied).toBe(guardHolds(transition.guard, before));
        const { Item: after } = await dynamodb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
        const expected = applied ? applyEffect(before, transition.effect as never) : before;
        expect(storedFieldsOf(after)).toEqual(expected === undefined ? undefined : withoutUndefined(expected));
      }),
      { numRuns: 200 },
    );
  });

  it('on 150 random (state, guard) pairs, a guard alone holds iff the core says so', async () => {
    const guardArb: fc.Arbitrary<Guard> = transitionArb.map((t) => t.guard);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(stateArb, guardArb, async (state, guard) => {
        const key = Keys.key('guards', `case-${run++}`);
        if (state) await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...key, ...stateAttributes(state) } }));
        const values = new ExpressionValues();
        const condition = renderGuard(guard, values);
        let holds: boolean;
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
          holds = true;
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
          holds = false;
        }
        expect(holds).toBe(guardHolds(guard, state));
      }),
      { numRuns: 150 },
    );
  });
});

function withoutUndefined(state: StoredFields): StoredFields {
  return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined)) as StoredFields;
}
