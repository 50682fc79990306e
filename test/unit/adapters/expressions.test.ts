import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  deleteRequest,
  ExpressionValues,
  renderGuard,
  renderUpdate,
  transactAction,
  updateRequest,
} from '../../../functions/adapters/dynamodb/expressions.js';
import { stateAttributes, storedFieldsOf } from '../../../functions/adapters/dynamodb/queue/layout.js';
import {
  allOf,
  applyEffect,
  type Effect,
  type GroupState,
  type Guard,
  guardHolds,
  type StoredFields,
  type Transition,
} from '../../../functions/core/queue/delivery.js';
import { applyUpdate, conditionHolds } from '../../support/dynamodb-expressions.js';

type Item = Record<string, AttributeValue>;
const key: Item = { pk: { S: 'q#orders' }, sk: { S: 'm#1' } };
const now = 1_000_000;
const asItem = (fields: StoredFields | undefined): Item | undefined => (fields ? { ...key, ...stateAttributes(fields) } : undefined);

/** Every combination of the stored values around each guard's boundaries (one below, at, one above). */
function statesAround(): (StoredFields | undefined)[] {
  const states: (StoredFields | undefined)[] = [undefined];
  for (const visibleAt of [now - 1, now, now + 1])
    for (const receiveCount of [4, 5, 6])
      for (const fence of [6, 7, 8])
        for (const leaseToken of [undefined, 'mine', 'theirs'])
          for (const [head, tail] of [
            [2, 3],
            [3, 4],
            [3, 5],
          ] as const)
            states.push({ visibleAt, receiveCount, fence, leaseToken, head, tail });
  return states;
}

const guards: [string, Guard][] = [
  ['absent', { kind: 'absent' }],
  ['can-lease', { kind: 'can-lease', now, maxReceiveCount: 5, fence: 7 }],
  ['exhausted', { kind: 'exhausted', now, maxReceiveCount: 5, fence: 7 }],
  ['holds-lease', { kind: 'holds-lease', token: 'mine', now }],
  ['leased-by', { kind: 'leased-by', token: 'mine' }],
  ['head-is', { kind: 'head-is', seq: 3 }],
  ['tail-is', { kind: 'tail-is', tail: 4 }],
  [
    'all: a FIFO ack of the last message',
    allOf({ kind: 'holds-lease', token: 'mine', now }, { kind: 'head-is', seq: 3 }, { kind: 'tail-is', tail: 4 }),
  ],
  ['all: a FIFO dead-letter on receive', allOf({ kind: 'exhausted', now, maxReceiveCount: 5, fence: 7 }, { kind: 'head-is', seq: 3 })],
];

describe('renderGuard says exactly what guardHolds says (every guard, every boundary)', () => {
  it.each(guards)('%s', (_, guard) => {
    const values = new ExpressionValues();
    const condition = renderGuard(guard, values);
    const states = statesAround();
    const disagreements = states.filter(
      (state) => conditionHolds(condition, values.attributeValues, asItem(state)) !== guardHolds(guard, state),
    );
    expect(disagreements).toEqual([]);
    // The table reaches both answers, so agreement is not agreement on a constant.
    expect(new Set(states.map((state) => guardHolds(guard, state)))).toEqual(new Set([true, false]));
  });

  it('visible exactly now may be leased or dead-lettered; a lease ending exactly now is no longer held', () => {
    const at = (visibleAt: number) => asItem({ visibleAt, receiveCount: 5, fence: 7, leaseToken: 'mine', head: 3, tail: 4 });
    const holds = (guard: Guard, item: Item | undefined) => {
      const values = new ExpressionValues();
      return conditionHolds(renderGuard(guard, values), values.attributeValues, item);
    };
    expect(holds({ kind: 'can-lease', now, maxReceiveCount: 6, fence: 7 }, at(now))).toBe(true);
    expect(holds({ kind: 'exhausted', now, maxReceiveCount: 5, fence: 7 }, at(now))).toBe(true);
    expect(holds({ kind: 'holds-lease', token: 'mine', now }, at(now))).toBe(false);
    expect(holds({ kind: 'holds-lease', token: 'mine', now }, at(now + 1))).toBe(true);
  });

  it('clauses rendered into one request share its values without a clash', () => {
    const values = new ExpressionValues();
    expect(values.attributeValues).toBeUndefined();
    const first = values.add({ N: '1' });
    const second = values.add({ S: 'x' });
    expect(first).not.toBe(second);
    expect(values.attributeValues).toEqual({ [first]: { N: '1' }, [second]: { S: 'x' } });
  });
});

type Update = Extract<Effect<StoredFields>, { kind: 'update' }>;

describe('renderUpdate leaves exactly the item applyEffect says', () => {
  const before: GroupState = { visibleAt: now + 30_000, leaseToken: 'mine', fence: 7, receiveCount: 2, head: 3, tail: 5 };
  it.each<[string, Update]>([
    ['a lease', { kind: 'update', set: { visibleAt: now + 30_000, leaseToken: 'next', fence: 8, receiveCount: 3 }, remove: [] }],
    ['a nack in place', { kind: 'update', set: { visibleAt: now + 500 }, remove: ['leaseToken'] }],
    ['a FIFO advance', { kind: 'update', set: { head: 4, visibleAt: now, receiveCount: 0 }, remove: ['leaseToken'] }],
    ['an append', { kind: 'update', set: { tail: 9 }, remove: [] }],
    ['a release', { kind: 'update', set: { visibleAt: now, receiveCount: 1 }, remove: ['leaseToken'] }],
    ['only removals', { kind: 'update', set: {}, remove: ['leaseToken', 'head'] }],
    ['an unset field is not written', { kind: 'update', set: { visibleAt: now, leaseToken: undefined }, remove: [] }],
  ])('%s', (_, effect) => {
    const values = new ExpressionValues();
    const update = renderUpdate(effect, values);
    const after = applyUpdate(update, values.attributeValues, asItem(before));
    expect(storedFieldsOf(after)).toEqual(storedFieldsOf(asItem(applyEffect<StoredFields>(before, effect))));
    expect(after.pk).toEqual(key.pk);
  });
});

describe('a transition as one request', () => {
  const guard: Guard = { kind: 'holds-lease', token: 'mine', now };
  const update: Transition<StoredFields> = { guard, effect: { kind: 'update', set: { visibleAt: now + 5 }, remove: ['leaseToken'] } };
  const remove: Transition<StoredFields> = { guard, effect: { kind: 'delete' } };
  const create: Transition<StoredFields> = {
    guard: { kind: 'absent' },
    effect: { kind: 'create', state: { visibleAt: now, leaseToken: undefined, fence: 3, receiveCount: 0 } },
  };

  it('an update: the guard as its condition, the effect as its update, the old item back on failure', () => {
    expect(updateRequest('t', key, update)).toEqual({
      TableName: 't',
      Key: key,
      ConditionExpression: 'lt = :v0 AND v > :v1',
      UpdateExpression: 'SET v = :v2 REMOVE lt',
      ExpressionAttributeValues: { ':v0': { S: 'mine' }, ':v1': { N: String(now) }, ':v2': { N: String(now + 5) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('a delete: the guard as its condition', () => {
    expect(deleteRequest('t', key, remove)).toEqual({
      TableName: 't',
      Key: key,
      ConditionExpression: 'lt = :v0 AND v > :v1',
      ExpressionAttributeValues: { ':v0': { S: 'mine' }, ':v1': { N: String(now) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('asking for the wrong request for an effect is a broken invariant, not a write', () => {
    expect(() => updateRequest('t', key, remove)).toThrow(/invariant broken: updateRequest for a delete effect/);
    expect(() => deleteRequest('t', key, update)).toThrow(/invariant broken: deleteRequest for a update effect/);
  });

  it('as transaction actions: a Put of the created state with its own attributes, a Delete, an Update', () => {
    expect(transactAction('t', key, create, { b: { S: 'body' } })).toEqual({
      Put: {
        TableName: 't',
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        Item: { ...key, b: { S: 'body' }, v: { N: String(now) }, f: { N: '3' }, rc: { N: '0' } },
        ExpressionAttributeValues: undefined,
      },
    });
    expect(transactAction('t', key, remove)).toEqual({ Delete: { ...deleteRequest('t', key, remove) } });
    const { TableName, Key, ConditionExpression, UpdateExpression, ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure } =
      updateRequest('t', key, update);
    expect(transactAction('t', key, update)).toEqual({
      Update: { TableName, Key, ConditionExpression, UpdateExpression, ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure },
    });
  });
});
