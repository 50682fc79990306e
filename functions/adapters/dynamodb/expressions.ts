import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Guard } from '../../core/queue/lease.js';
import { Attr, num, str } from './queue-items.js';

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
export function guardCondition(guard: Guard, values: ExpressionValues): string {
  const exists = `attribute_exists(${Attr.pk})`;
  switch (guard.kind) {
    case 'can-lease':
      return `${exists} AND ${Attr.visibleAt} <= ${values.add(num(guard.now))} AND ${Attr.receiveCount} < ${values.add(num(guard.maxReceiveCount))}`;
    case 'exhausted':
      return `${exists} AND ${Attr.visibleAt} <= ${values.add(num(guard.now))} AND ${Attr.receiveCount} >= ${values.add(num(guard.maxReceiveCount))} AND ${Attr.fence} = ${values.add(num(guard.fence))}`;
    case 'holds-lease':
      return `${Attr.leaseToken} = ${values.add(str(guard.token))} AND ${Attr.visibleAt} > ${values.add(num(guard.now))}`;
  }
}
