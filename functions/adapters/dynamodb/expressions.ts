/**
 * The core's transitions rendered for DynamoDB: a guard becomes a ConditionExpression, an effect
 * an UpdateExpression (or a Put, or a Delete), and a transition one conditional write or one
 * action of a transaction. Nothing here decides what a transition does; core/queue/delivery.ts
 * and fifo.ts do. test/integration/guards.test.ts checks on the emulator that DynamoDB accepts a
 * write exactly when `guardHolds`, and that the item afterwards is exactly `applyEffect`'s.
 */
import type { AttributeValue, DeleteItemCommandInput, TransactWriteItem, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { Effect, GroupState, Guard, StoredFields, Transition } from '../../core/queue/delivery.js';
import type { Item } from './errors.js';
import { Attr, num, STATE_ATTRIBUTES, stateAttributes, str } from './queue/layout.js';

/**
 * Collects ExpressionAttributeValues for one request so that clauses built separately (a guard,
 * an update) can share them without placeholder clashes.
 */
export class ExpressionValues {
  private readonly values: Record<string, AttributeValue> = {};
  private next = 0;

  /** Registers `value` and returns its placeholder. */
  add(value: AttributeValue): string {
    const placeholder = `:v${this.next++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  get attributeValues(): Record<string, AttributeValue> | undefined {
    return this.next === 0 ? undefined : this.values;
  }
}

/**
 * The ConditionExpression that says exactly what `guardHolds` says in the core. Attribute names
 * used here are not DynamoDB reserved words, so no ExpressionAttributeNames are needed.
 */
export function renderGuard(guard: Guard, values: ExpressionValues): string {
  const exists = `attribute_exists(${Attr.pk})`;
  switch (guard.kind) {
    case 'absent':
      return `attribute_not_exists(${Attr.pk})`;
    case 'can-lease':
      return `${exists} AND ${Attr.visibleAt} <= ${values.add(num(guard.now))} AND ${Attr.receiveCount} < ${values.add(num(guard.maxReceiveCount))} AND ${Attr.fence} = ${values.add(num(guard.fence))}`;
    case 'exhausted':
      return `${exists} AND ${Attr.visibleAt} <= ${values.add(num(guard.now))} AND ${Attr.receiveCount} >= ${values.add(num(guard.maxReceiveCount))} AND ${Attr.fence} = ${values.add(num(guard.fence))}`;
    case 'holds-lease':
      return `${Attr.leaseToken} = ${values.add(str(guard.token))} AND ${Attr.visibleAt} > ${values.add(num(guard.now))}`;
    case 'leased-by':
      return `${Attr.leaseToken} = ${values.add(str(guard.token))}`;
    case 'head-is':
      return `${Attr.head} = ${values.add(num(guard.seq))}`;
    case 'tail-is':
      return `${Attr.tail} = ${values.add(num(guard.tail))}`;
    case 'all':
      return guard.guards.map((g) => `(${renderGuard(g, values)})`).join(' AND ');
  }
}

/** The UpdateExpression of an `update` effect (plus extra attributes to set, e.g. a moved message's own). */
export function renderUpdate(effect: Extract<Effect<StoredFields>, { kind: 'update' }>, values: ExpressionValues): string {
  const sets = Object.entries(effect.set)
    .filter(([, value]) => value !== undefined)
    .map(
      ([field, value]) =>
        `${STATE_ATTRIBUTES[field as keyof GroupState]} = ${values.add(typeof value === 'string' ? str(value) : num(value as number))}`,
    );
  const removes = effect.remove.map((field) => STATE_ATTRIBUTES[field]);
  return [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
}

/** A transition whose effect updates the item, as an UpdateItem request. */
export function updateRequest(tableName: string, key: Item, transition: Transition<StoredFields>): UpdateItemCommandInput {
  const { effect } = transition;
  if (effect.kind !== 'update') throw new Error(`invariant broken: updateRequest for a ${effect.kind} effect`);
  const values = new ExpressionValues();
  const condition = renderGuard(transition.guard, values);
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression: renderUpdate(effect, values),
    ConditionExpression: condition,
    ExpressionAttributeValues: values.attributeValues,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/** A transition whose effect deletes the item, as a DeleteItem request. */
export function deleteRequest(tableName: string, key: Item, transition: Transition<StoredFields>): DeleteItemCommandInput {
  if (transition.effect.kind !== 'delete') throw new Error(`invariant broken: deleteRequest for a ${transition.effect.kind} effect`);
  const values = new ExpressionValues();
  return {
    TableName: tableName,
    Key: key,
    ConditionExpression: renderGuard(transition.guard, values),
    ExpressionAttributeValues: values.attributeValues,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * A transition as one action of a TransactWriteItems: an Update, a Delete, or a Put of the created
 * state with `attributes` (keys aside: the message's own, e.g. its body). A failure returns the
 * item as it was (ALL_OLD), for the verdict.
 */
export function transactAction(
  tableName: string,
  key: Item,
  transition: Transition<StoredFields>,
  attributes: Item = {},
): TransactWriteItem {
  const values = new ExpressionValues();
  const condition = renderGuard(transition.guard, values);
  const { effect } = transition;
  const common = { TableName: tableName, ConditionExpression: condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  switch (effect.kind) {
    case 'create':
      return {
        Put: {
          ...common,
          Item: { ...key, ...attributes, ...stateAttributes(effect.state) },
          ExpressionAttributeValues: values.attributeValues,
        },
      };
    case 'delete':
      return { Delete: { ...common, Key: key, ExpressionAttributeValues: values.attributeValues } };
    case 'update': {
      const update = renderUpdate(effect, values);
      return { Update: { ...common, Key: key, UpdateExpression: update, ExpressionAttributeValues: values.attributeValues } };
    }
  }
}
