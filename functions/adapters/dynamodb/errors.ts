import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Item;
}

export function isConditionalCheckFailed(error: unknown): error is Error & { Item?: Item } {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export function isTransactionCanceled(error: unknown): error is Error & { CancellationReasons?: CancellationReason[] } {
  return (error as { name?: string })?.name === 'TransactionCanceledException';
}

/** Reasons of a canceled transaction, by action index (absent entries mean "None"). */
export function cancellationReasons(error: unknown): CancellationReason[] {
  return isTransactionCanceled(error) ? (error.CancellationReasons ?? []) : [];
}

/** True when a canceled transaction lost only to a concurrent transaction (safe to retry). */
export function isTransactionConflict(error: unknown): boolean {
  const reasons = cancellationReasons(error);
  return reasons.some((r) => r.Code === 'TransactionConflict') && !reasons.some((r) => r.Code === 'ConditionalCheckFailed');
}

/** How many times the SDK sent the request that ended in `error` (Q3: >1 means an earlier attempt may have applied). */
export function attemptsOf(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
}

/**
 * A single-item write that collided with a transaction in progress on the same item. It was not
 * applied; the SDK does not retry it.
 */
export function isTransactionConflictException(error: unknown): boolean {
  return (error as { name?: string })?.name === 'TransactionConflictException';
}
