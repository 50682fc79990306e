/**
 * The transactional outbox (Q7), a DynamoDB extension outside the Queue port: the write actions
 * that enqueue messages when included in the caller's own TransactWriteItems, so the messages
 * exist iff that transaction commits.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type SendInput, sendInputSchema } from '../../../core/queue/config.js';
import { parseInput } from '../../../core/validation.js';
import { cancellationReasons, type Item } from '../errors.js';
import { isGroupKey, parseDedupKey } from './layout.js';

export interface OutboxBatch {
  readonly messageIds: readonly string[];
  /** Put these into your own TransactWriteItems next to your business writes (Q7). */
  readonly transactItems: readonly TransactWriteItem[];
}

export interface OutboxCancellation {
  /** Dedup ids already used within the window: the transaction would have enqueued duplicates. */
  readonly duplicateDedupIds: readonly string[];
  /** A FIFO group's tail moved after `prepareOutbox`: prepare a fresh batch and retry. */
  readonly groupConflict: boolean;
}

/** Validates an outbox batch's messages, each field named by its index. */
export function parseOutboxMessages(messages: readonly unknown[]): SendInput[] {
  return messages.map((m, i) => parseInput(sendInputSchema, m, `messages.${i}`));
}

/**
 * Which of the outbox's own actions canceled a caller's transaction. `sent` is the TransactItems
 * array the caller sent (business writes and the batch's actions, in any order). Undefined when
 * the cancellation was not caused by the outbox's actions.
 */
export function explainOutboxCancellation(
  error: unknown,
  sent: readonly TransactWriteItem[],
  batch: OutboxBatch,
): OutboxCancellation | undefined {
  const reasons = cancellationReasons(error);
  const duplicateDedupIds: string[] = [];
  let groupConflict = false;
  for (const action of batch.transactItems) {
    const reason = reasons[sent.indexOf(action)];
    if (reason?.Code !== 'ConditionalCheckFailed') continue;
    const key = (action.Put?.Item ?? action.Update?.Key) as Item;
    const dedupId = parseDedupKey(key);
    if (dedupId !== undefined) duplicateDedupIds.push(dedupId);
    else if (isGroupKey(key)) groupConflict = true;
  }
  return duplicateDedupIds.length > 0 || groupConflict ? { duplicateDedupIds, groupConflict } : undefined;
}
