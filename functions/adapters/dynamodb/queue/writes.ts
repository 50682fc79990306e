/**
 * The conditional writes both modes make the same way: a lease and its release, the judgement of
 * a lease holder's failed write (with the settlement record read when the verdict needs it), the
 * dead-letter put, the settlement put, and the dedup record.
 */
import { type TransactWriteItem, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ContentionError, quote } from '../../../core/errors.js';
import type { QueueConfig } from '../../../core/queue/config.js';
import { leaseTransition, releaseTransition, type StoredFields, type Transition } from '../../../core/queue/delivery.js';
import { LeaseLost } from '../../../core/queue/errors.js';
import {
  type DedupVerdict,
  type HolderOp,
  judgeDedup,
  judgeHolderWrite,
  leaseAppliedEarlier,
  type SettlementRecord,
  type Verdict,
} from '../../../core/queue/judge.js';
import type { ReceivedMessage } from '../../../core/queue/model.js';
import { RetryPolicies, type RetryPolicy } from '../../../core/queue/policies.js';
import { LEASE_TOKEN_BYTES, newLeaseToken, type Receipt } from '../../../core/queue/receipt.js';
import {
  cancellationReasons,
  type Item,
  isConditionalCheckFailed,
  isTransactionCanceled,
  isTransactionConflict,
  isTransactionConflictException,
} from '../errors.js';
import { updateRequest } from '../expressions.js';
import type { QueueContext } from './context.js';
import {
  Attr,
  BODY_ATTRIBUTES,
  copyAttributes,
  deliveryStateOf,
  Keys,
  keyOf,
  num,
  readString,
  settlementOf,
  storedFieldsOf,
  str,
} from './layout.js';

/** The key of the item that holds a receipt's lease: the message (standard) or its group (FIFO). */
export const receiptKey = (ctx: QueueContext, receipt: Receipt): Item => Keys.key(Keys.shardPk(ctx.name, receipt.shard), receipt.leaseKey);

/**
 * One conditional UpdateItem: the lease of what a receiver found. Returns the item after the lease
 * (ALL_NEW), or undefined when another receiver (or a concurrent transaction) won.
 */
export async function conditionalLease(
  ctx: QueueContext,
  candidate: Item,
  lease: { readonly token: string; readonly now: number; readonly visibilityMs: number },
  config: QueueConfig,
): Promise<Item | undefined> {
  const found = deliveryStateOf(candidate);
  if (!found) return undefined;
  const transition = leaseTransition(found, { ...lease, maxReceiveCount: config.maxReceiveCount });
  try {
    const { Attributes } = await ctx.deps.dynamodb.send(
      new UpdateItemCommand({ ...updateRequest(ctx.deps.tableName, keyOf(candidate), transition), ReturnValues: 'ALL_NEW' }),
    );
    return Attributes;
  } catch (error) {
    // A concurrent transaction on the item (a FIFO append, a dead-lettering) won: not applied.
    if (isTransactionConflictException(error)) return undefined;
    if (!isConditionalCheckFailed(error)) throw error;
    // Q3: a retried lease whose first attempt applied finds its own token.
    return leaseAppliedEarlier(lease.token, storedFieldsOf(error.Item)) ? error.Item : undefined;
  }
}

/** Gives back a lease this receiver took but could not deliver (uncounted, visible at once). */
export async function releaseLease(
  ctx: QueueContext,
  key: Item,
  lease: { token: string; fence: number; receiveCount: number },
): Promise<void> {
  const transition = releaseTransition({ ...lease, leaseUntil: 0 }, ctx.now());
  await ctx.deps.dynamodb.send(new UpdateItemCommand(updateRequest(ctx.deps.tableName, key, transition)));
}

/**
 * A lease holder's conditional write failed with `found` (the item at the receipt's key, ALL_OLD):
 * returns when an earlier attempt of ours applied (Q3), throws LeaseLost otherwise (Q2). The
 * settlement record is read only when the verdict depends on it (the message left the key).
 */
export async function judgeHolderFailure(
  ctx: QueueContext,
  op: HolderOp,
  receipt: Receipt,
  found: Item | undefined,
): Promise<Exclude<Verdict, { outcome: 'lost' | 'read-settlement' }>> {
  const lease = { ...receipt, seq: receipt.seq };
  const judge = (settlement: SettlementRecord | undefined | 'not-read') =>
    judgeHolderWrite({ op, lease, found: storedFieldsOf(found), now: ctx.now() + ctx.deps.clockSkewToleranceMs, settlement });
  let verdict = judge('not-read');
  if (verdict.outcome === 'read-settlement') {
    verdict = judge(settlementOf(await ctx.getConsistent(Keys.settlement(ctx.name, receipt.messageId, receipt.fence))));
  }
  if (verdict.outcome === 'lost') throw new LeaseLost(verdict.reason, receipt.messageId, verdict.detail);
  if (verdict.outcome === 'read-settlement') throw new Error('invariant broken: the settlement record was read and still asked for');
  return verdict;
}

/**
 * One conditional UpdateItem by the lease holder (a nack in place, an extend), retried after a
 * transaction conflict, its failure judged. `transition` is built per attempt (its guard reads the clock).
 */
export async function holderUpdate(
  ctx: QueueContext,
  op: HolderOp,
  receipt: Receipt,
  transition: () => Transition<StoredFields>,
): Promise<void> {
  try {
    await ctx.retryingConflicts(RetryPolicies.conflict, () =>
      ctx.deps.dynamodb.send(new UpdateItemCommand(updateRequest(ctx.deps.tableName, receiptKey(ctx, receipt), transition()))),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    await judgeHolderFailure(ctx, op, receipt, error.Item);
  }
}

/**
 * Left in the same transaction as a nack that takes the message away from the receipt's key (a
 * move, a dead-lettering): lets a repeated ack or nack with that receipt tell what happened
 * (judge.ts). Outside every ready range; TTL removes it a day after the lease would have ended.
 */
export function settlementPut(ctx: QueueContext, receipt: Receipt, outcome: SettlementRecord['outcome']): TransactWriteItem {
  return {
    Put: {
      TableName: ctx.deps.tableName,
      Item: {
        ...Keys.settlement(ctx.name, receipt.messageId, receipt.fence),
        [Attr.leaseToken]: str(receipt.token),
        [Attr.settlement]: str(outcome),
        [Attr.ttl]: num(Math.ceil(receipt.leaseUntil / 1000) + 86_400),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The settlement record a canceled transaction found at `index`: ours when an earlier attempt applied. */
export function settlementFound(error: unknown, index: number): SettlementRecord | undefined {
  const reason = cancellationReasons(error)[index];
  return reason?.Code === 'ConditionalCheckFailed' ? settlementOf(reason.Item) : undefined;
}

export const DeadLetterReason = {
  MaxReceiveCount: 'maxReceiveCount exceeded',
  NackedOnLastDelivery: 'nacked on its last allowed delivery',
} as const;

/** The attributes a dead letter keeps of its message: the body, the group, when it was sent. */
const DEAD_LETTER_COPIES = [...BODY_ATTRIBUTES, Attr.groupId, Attr.sentAt];

/** Q6: the put into the DLQ that commits with the message's removal from the queue. */
export function deadLetterPut(
  ctx: QueueContext,
  source: Item,
  messageId: string,
  delivery: { readonly receiveCount: number; readonly fence: number },
  now: number,
  reason: string,
): TransactWriteItem {
  return {
    Put: {
      TableName: ctx.deps.tableName,
      Item: {
        ...Keys.key(Keys.deadLetterPk(ctx.name), Keys.deadLetterSk(now, messageId)),
        ...copyAttributes(source, DEAD_LETTER_COPIES),
        [Attr.messageId]: str(messageId),
        [Attr.receiveCount]: num(delivery.receiveCount),
        [Attr.fence]: num(delivery.fence),
        [Attr.deadLetteredAt]: num(now),
        [Attr.deadLetterReason]: str(reason),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Runs a transaction with a fresh ClientRequestToken (resent unchanged by the SDK's retries, so a
 * replay is a no-op on AWS for 10 minutes), again after a conflict with another transaction (which
 * never applies), and past `policy` throws a retryable ContentionError naming `what`. Returns the
 * cancellation of a failed condition for the caller's verdict; other errors throw.
 */
export async function transact(
  ctx: QueueContext,
  items: TransactWriteItem[],
  what: string,
  policy: RetryPolicy = RetryPolicies.conflict,
): Promise<undefined | Error> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.deps.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: ctx.randomId() }));
      return undefined;
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      if (!isTransactionConflict(error)) return error;
      if (attempt >= policy.attempts) {
        throw new ContentionError(
          `${what} of queue ${quote(ctx.name)} lost to concurrent transactions ${attempt} times; nothing was applied`,
          {
            cause: error,
          },
        );
      }
      await ctx.backoff(attempt, policy);
    }
  }
}

/**
 * Q5: the dedup record of a send, in the send's transaction. It may be overwritten once the window
 * has passed (`exp` < now); DynamoDB TTL only cleans up, within days.
 */
export function dedupPut(ctx: QueueContext, dedupId: string, messageId: string, now: number, config: QueueConfig): TransactWriteItem {
  const expiresAt = now + config.dedupWindowSeconds * 1000;
  return {
    Put: {
      TableName: ctx.deps.tableName,
      Item: {
        ...Keys.dedup(ctx.name, dedupId),
        [Attr.messageId]: str(messageId),
        [Attr.dedupExpiresAt]: num(expiresAt),
        [Attr.ttl]: num(Math.ceil(expiresAt / 1000) + 3600),
      },
      ConditionExpression: `attribute_not_exists(pk) OR ${Attr.dedupExpiresAt} < :now`,
      ExpressionAttributeValues: { ':now': num(now) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** What a canceled send's dedup action (at `index`) says: a duplicate, our own earlier attempt, or nothing. */
export function dedupVerdict(error: unknown, index: number, messageId: string): DedupVerdict {
  const reason = cancellationReasons(error)[index];
  return judgeDedup(messageId, reason?.Code === 'ConditionalCheckFailed' ? readString(reason.Item, Attr.messageId) : undefined);
}

/**
 * Leases `candidate` and hands it to `complete` (which reads the body and builds the receipt). A
 * lease that cannot be completed is given back uncounted, so that a passing failure does not push
 * the message toward the DLQ, and the failure is thrown for the receive to weigh.
 */
export async function leaseAndComplete(
  ctx: QueueContext,
  candidate: Item,
  now: number,
  visibilityMs: number,
  config: QueueConfig,
  complete: (leased: Item, token: string, leaseUntil: number) => Promise<ReceivedMessage>,
): Promise<ReceivedMessage | 'lost'> {
  const token = newLeaseToken(ctx.deps.entropy.bytes(LEASE_TOKEN_BYTES));
  const leased = await conditionalLease(ctx, candidate, { token, now, visibilityMs }, config);
  if (!leased) return 'lost';
  try {
    return await complete(leased, token, now + visibilityMs);
  } catch (error) {
    const state = deliveryStateOf(leased);
    if (state)
      await releaseLease(ctx, keyOf(candidate), { token, fence: state.fence, receiveCount: state.receiveCount }).catch(() => undefined);
    throw error;
  }
}
