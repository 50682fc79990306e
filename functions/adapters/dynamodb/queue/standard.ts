/**
 * The standard queue protocol: each message is one item that carries its own delivery state.
 *
 * Per delivered message, in the steady state: 1 PutItem (send) + 1 conditional UpdateItem (lease)
 * + 1 conditional DeleteItem (ack) = 3 write requests, plus a share of one Query per receive of up
 * to 10. A send with a dedup id is one transaction (the dedup record and the message).
 */
import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ThrottledError } from '../../../core/errors.js';
import type { SendInput } from '../../../core/queue/config.js';
import { sendInputSchema } from '../../../core/queue/config.js';
import {
  ackTransition,
  DeliveryDecision,
  deadLetterOnNack,
  deadLetterOnReceive,
  decideDelivery,
  extendTransition,
  movedByNack,
  nackDeadLetters,
  nackTransition,
  redriveTransition,
  sendTransition,
} from '../../../core/queue/delivery.js';
import { SendOutcomeUnknown } from '../../../core/queue/errors.js';
import { deadLetterAppliedEarlier, settlementAppliedEarlier } from '../../../core/queue/judge.js';
import type { BatchSendResult, ReceivedMessage, SendResult } from '../../../core/queue/model.js';
import { RetryPolicies } from '../../../core/queue/policies.js';
import { encodeReceipt, type Receipt } from '../../../core/queue/receipt.js';
import { parseInput } from '../../../core/validation.js';
import { claimCheckKey } from '../../body-store.js';
import { cancellationReasons, type Item, isConditionalCheckFailed } from '../errors.js';
import { deleteRequest, type ExpressionValues, transactAction } from '../expressions.js';
import { WriteOutcomeUnknown, withoutBlindRetries } from '../unretried-writes.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import {
  Attr,
  availableAtFromStandardSk,
  BODY_ATTRIBUTES,
  copyAttributes,
  deliveryStateOf,
  Keys,
  keyOf,
  messageIdFromStandardSk,
  num,
  pkOf,
  readNumber,
  readString,
  STATE_ATTRIBUTES,
  skOf,
  str,
} from './layout.js';
import type { DeliveryMode, DeliveryOutcome, StatsCounts } from './mode.js';
import {
  DeadLetterReason,
  deadLetterPut,
  dedupPut,
  dedupVerdict,
  holderUpdate,
  judgeHolderFailure,
  leaseAndComplete,
  receiptKey,
  settlementFound,
  settlementPut,
  transact,
} from './writes.js';

/** A standard message about to be stored: its fresh id, its whole item, and its S3 body's key if any. */
interface NewMessage {
  readonly id: string;
  /** The put, as a transaction action (its guard: the fresh key is absent). */
  readonly put: TransactWriteItem;
  /** The same item, for a BatchWriteItem (which takes no condition). */
  readonly item: Item;
  readonly objectKey?: string;
}

export class StandardMode implements DeliveryMode {
  readonly readsWithCursor = true;
  readonly statsPrefix = Keys.standardLowest;

  constructor(private readonly ctx: QueueContext) {}

  // ---------------------------------------------------------------------------------------------
  // Send

  private async newMessage(message: SendInput, loaded: LoadedConfig, now: number): Promise<NewMessage> {
    const id = this.ctx.randomId();
    const availableAt = now + (message.delaySeconds ?? 0) * 1000;
    const shard = loaded.ring.ownerOf(message.groupId ?? id);
    const body = await this.ctx.deps.bodies.encode(message.body, this.ctx.name, id);
    const key = Keys.key(Keys.shardPk(this.ctx.name, shard), Keys.standardMessageSk(availableAt, id));
    const own: Item = {
      [Attr.sentAt]: num(now),
      ...(message.groupId !== undefined ? { [Attr.groupId]: str(message.groupId) } : {}),
      ...body.attributes,
    };
    const put = transactAction(this.ctx.deps.tableName, key, sendTransition(availableAt), own);
    const item = (put.Put as NonNullable<TransactWriteItem['Put']>).Item as Item;
    return { id, put, item, ...(body.objectKey !== undefined ? { objectKey: body.objectKey } : {}) };
  }

  async send(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    const now = this.ctx.now();
    const created = await this.newMessage(message, loaded, now);
    if (message.dedupId === undefined) {
      try {
        // Q3: never repeated blindly. Between an attempt that applied and its retry, a consumer
        // could lease and ack the message, and the retried put would store it again (Q1).
        const put = created.put.Put as NonNullable<TransactWriteItem['Put']>;
        await this.ctx.deps.dynamodb.send(withoutBlindRetries(new PutItemCommand(put)), {});
      } catch (error) {
        return this.settleUnsurePut(created, error);
      }
      return { messageId: created.id, duplicate: false };
    }
    const items = [dedupPut(this.ctx, message.dedupId, created.id, now, loaded.config), created.put];
    const failure = await transact(this.ctx, items, 'a send with a dedup id', RetryPolicies.dedupConflict);
    if (!failure) return { messageId: created.id, duplicate: false };
    const verdict = dedupVerdict(failure, 0, created.id);
    if (verdict.outcome === 'applied-earlier') return { messageId: created.id, duplicate: false };
    if (verdict.outcome === 'duplicate') {
      await this.ctx.deps.bodies.releaseKey(created.objectKey);
      return { messageId: verdict.messageId, duplicate: true };
    }
    throw failure;
  }

  /**
   * Sends up to 10 messages; those without a dedup id are stored by one BatchWriteItem (the same
   * write units, a tenth of the requests).
   */
  async sendBatch(inputs: readonly unknown[], loaded: LoadedConfig): Promise<BatchSendResult[]> {
    const results: BatchSendResult[] = new Array(inputs.length);
    const plain: Array<{ readonly index: number; readonly message: NewMessage }> = [];
    const now = this.ctx.now();
    await Promise.all(
      inputs.map(async (input, index) => {
        try {
          const message = parseInput(sendInputSchema, input, `messages.${index}`);
          if (message.dedupId !== undefined) results[index] = { ok: true, ...(await this.send(message, loaded)) };
          else plain.push({ index, message: await this.newMessage(message, loaded, now) });
        } catch (error) {
          results[index] = { ok: false, error: error as Error };
        }
      }),
    );
    if (plain.length > 0) {
      const stored = await this.putNewMessages(plain.map((p) => p.message));
      plain.forEach((p, i) => {
        results[p.index] = stored[i] as BatchSendResult;
      });
    }
    return results;
  }

  /**
   * A put in a batch carries no condition, so Q3 rests on two facts: every key holds a fresh random
   * id, so a put can only ever meet itself; and no attempt that may have applied is repeated
   * (withoutBlindRetries). Unprocessed items were not applied (DynamoDB says so): they are sent
   * again after a backoff, and past the policy's attempts fail with a retryable ThrottledError.
   */
  private async putNewMessages(messages: readonly NewMessage[]): Promise<BatchSendResult[]> {
    const table = this.ctx.deps.tableName;
    const outcomes = new Map<NewMessage, BatchSendResult>();
    let pending = messages;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        const { UnprocessedItems } = await this.ctx.deps.dynamodb.send(
          withoutBlindRetries(
            new BatchWriteItemCommand({ RequestItems: { [table]: pending.map((m) => ({ PutRequest: { Item: m.item } })) } }),
          ),
          {}, // options: never the cached handler (see withoutBlindRetries)
        );
        const unprocessed = new Set((UnprocessedItems?.[table] ?? []).map((r) => skOf(r.PutRequest?.Item ?? {})));
        for (const m of pending) if (!unprocessed.has(skOf(m.item))) outcomes.set(m, { ok: true, messageId: m.id, duplicate: false });
        pending = pending.filter((m) => unprocessed.has(skOf(m.item)));
        if (pending.length === 0) break;
        if (attempt >= RetryPolicies.unprocessed.attempts) {
          const error = new ThrottledError(`DynamoDB left the message unprocessed ${attempt} times (throttled); it was not stored`);
          for (const m of pending) outcomes.set(m, { ok: false, error });
          break;
        }
        await this.ctx.backoff(attempt, RetryPolicies.unprocessed);
      } catch (error) {
        await Promise.all(pending.map(async (m) => outcomes.set(m, await settled(() => this.settleUnsurePut(m, error)))));
        break;
      }
    }
    return messages.map((m) => outcomes.get(m) as BatchSendResult);
  }

  /**
   * After a put of a new message failed: if the attempt may have applied, reads the key. Still
   * stored: it applied. Absent: it never applied, or the message was delivered and acked (or
   * dead-lettered) meanwhile, or the put is still on its way; no one can tell, so SendOutcomeUnknown.
   * The S3 body, if any, stays: a dead letter may point to it (at worst an orphan).
   */
  private async settleUnsurePut(message: NewMessage, error: unknown): Promise<SendResult> {
    if (!(error instanceof WriteOutcomeUnknown)) throw error;
    const failure = (error.failure as Error)?.message ?? String(error.failure);
    let stored: boolean;
    try {
      stored = (await this.ctx.getConsistent(keyOf(message.item), Attr.pk)) !== undefined;
    } catch (readError) {
      // Still unknown. Reported as a throttle or a fault, it would invite a resend: a duplicate.
      throw new SendOutcomeUnknown(
        message.id,
        `${failure}; reading it back failed too: ${(readError as Error)?.message ?? String(readError)}`,
        {
          cause: readError,
        },
      );
    }
    if (stored) return { messageId: message.id, duplicate: false };
    throw new SendOutcomeUnknown(message.id, failure, { cause: error.failure });
  }

  async outboxActions(
    messages: readonly SendInput[],
    loaded: LoadedConfig,
  ): Promise<{ messageIds: string[]; transactItems: TransactWriteItem[] }> {
    const now = this.ctx.now();
    const messageIds: string[] = [];
    const transactItems: TransactWriteItem[] = [];
    for (const m of messages) {
      const created = await this.newMessage(m, loaded, now);
      messageIds.push(created.id);
      if (m.dedupId !== undefined) transactItems.push(dedupPut(this.ctx, m.dedupId, created.id, now, loaded.config));
      transactItems.push(created.put);
    }
    return { messageIds, transactItems };
  }

  // ---------------------------------------------------------------------------------------------
  // Receive

  readyQuery(shardPk: string, now: number, values: ExpressionValues): { keyCondition: string; filter: string } {
    const pk = values.add(str(shardPk));
    return {
      keyCondition: `pk = ${pk} AND sk BETWEEN ${values.add(str(Keys.standardLowest))} AND ${values.add(str(Keys.standardAvailableUpTo(now)))}`,
      filter: `${Attr.visibleAt} <= ${values.add(num(now))}`,
    };
  }

  async deliver(shard: number, candidate: Item, now: number, visibilityMs: number, loaded: LoadedConfig): Promise<DeliveryOutcome> {
    const state = deliveryStateOf(candidate);
    if (!state) return 'skipped';
    const decision = decideDelivery(state, now, loaded.config.maxReceiveCount);
    if (decision === DeliveryDecision.NotVisible) return 'skipped';
    if (decision === DeliveryDecision.DeadLetter) {
      const transition = deadLetterOnReceive(state, now, loaded.config.maxReceiveCount);
      const messageId = messageIdFromStandardSk(skOf(candidate));
      const moved = await this.moveToDeadLetters(
        [
          transactAction(this.ctx.deps.tableName, keyOf(candidate), transition),
          deadLetterPut(this.ctx, candidate, messageId, state, now, DeadLetterReason.MaxReceiveCount),
        ],
        messageId,
      );
      return moved ? 'dead-lettered' : 'lost';
    }
    return leaseAndComplete(this.ctx, candidate, now, visibilityMs, loaded.config, async (leased, token, leaseUntil) => {
      const sk = skOf(candidate);
      const messageId = messageIdFromStandardSk(sk);
      const fence = readNumber(leased, Attr.fence) as number;
      const receiveCount = readNumber(leased, Attr.receiveCount) as number;
      const groupId = readString(candidate, Attr.groupId);
      const message: ReceivedMessage = {
        messageId,
        body: await this.ctx.deps.bodies.decode(candidate),
        receipt: encodeReceipt({
          queue: this.ctx.name,
          messageId,
          shard,
          leaseKey: sk,
          seq: undefined,
          token,
          fence,
          leaseUntil,
          lastInGroup: false,
          receiveCount,
          offloaded: candidate[Attr.bodyObject] !== undefined,
        }),
        receiveCount,
        ...(groupId !== undefined ? { groupId } : {}),
        fence,
        sentAt: readNumber(candidate, Attr.sentAt) ?? availableAtFromStandardSk(sk),
        leaseUntil,
      };
      return message;
    });
  }

  /** Q6: the removal and the DLQ put commit together; false when another actor got there first. */
  private async moveToDeadLetters(items: TransactWriteItem[], messageId: string): Promise<boolean> {
    const failure = await transact(this.ctx, items, 'a dead-lettering');
    if (!failure) return true;
    // Q3 (emulators that ignore ClientRequestToken): our own earlier attempt left our DLQ item.
    return deadLetterAppliedEarlier(messageId, readString(cancellationReasons(failure).at(-1)?.Item, Attr.messageId));
  }

  // ---------------------------------------------------------------------------------------------
  // Ack, nack, extend: only the current lease holder (Q2)

  async ack(receipt: Receipt): Promise<void> {
    try {
      await this.ctx.retryingConflicts(RetryPolicies.conflict, () =>
        this.ctx.deps.dynamodb.send(
          new DeleteItemCommand(
            deleteRequest(this.ctx.deps.tableName, receiptKey(this.ctx, receipt), ackTransition(receipt, this.ctx.now())),
          ),
        ),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      await judgeHolderFailure(this.ctx, 'ack', receipt, error.Item);
    }
    await releaseBody(this.ctx, receipt);
  }

  async nack(receipt: Receipt, delayMs: number, loaded: LoadedConfig): Promise<void> {
    if (nackDeadLetters(receipt, loaded.config.maxReceiveCount)) return this.nackToDeadLetters(receipt);
    if (delayMs > 0) return this.nackByMoving(receipt, delayMs);
    await holderUpdate(this.ctx, 'nack', receipt, () => nackTransition(receipt, this.ctx.now(), 0));
  }

  /**
   * A delayed nack moves the message to the sort key of the instant it is visible again, so that
   * backed-off messages never pile up at the head of the ready range where every receive would
   * read past them. One transaction: delete here, put there, and the settlement record.
   */
  private async nackByMoving(receipt: Receipt, delayMs: number): Promise<void> {
    const key = receiptKey(this.ctx, receipt);
    const item = await this.ctx.getConsistent(key);
    const now = this.ctx.now();
    if (!item || deliveryStateOf(item)?.leaseToken !== receipt.token) {
      await judgeHolderFailure(this.ctx, 'nack', receipt, item);
      return;
    }
    const move = movedByNack(receipt, now, delayMs);
    const to = Keys.key(pkOf(item), Keys.standardMessageSk(now + delayMs, receipt.messageId));
    const ownAttributes = copyAttributes(
      item,
      Object.keys(item).filter((name) => name !== Attr.pk && name !== Attr.sk && !Object.values(STATE_ATTRIBUTES).includes(name)),
    );
    const table = this.ctx.deps.tableName;
    const failure = await transact(
      this.ctx,
      [transactAction(table, key, move.from), transactAction(table, to, move.to, ownAttributes), settlementPut(this.ctx, receipt, 'moved')],
      'a delayed nack',
    );
    if (!failure || settlementAppliedEarlier(receipt.token, settlementFound(failure, 2))) return;
    await judgeHolderFailure(this.ctx, 'nack', receipt, cancellationReasons(failure)[0]?.Item);
  }

  /** Q6: a nack on the last allowed delivery dead-letters the message, atomically, with a settlement record. */
  private async nackToDeadLetters(receipt: Receipt): Promise<void> {
    const key = receiptKey(this.ctx, receipt);
    const item = await this.ctx.getConsistent(key);
    const state = deliveryStateOf(item);
    if (!item || !state || state.leaseToken !== receipt.token) {
      await judgeHolderFailure(this.ctx, 'nack', receipt, item);
      return;
    }
    const now = this.ctx.now();
    const failure = await transact(
      this.ctx,
      [
        transactAction(this.ctx.deps.tableName, key, deadLetterOnNack(receipt, now)),
        deadLetterPut(this.ctx, item, receipt.messageId, state, now, DeadLetterReason.NackedOnLastDelivery),
        settlementPut(this.ctx, receipt, 'dead-lettered'),
      ],
      'a nack to the dead letters',
    );
    if (!failure || settlementAppliedEarlier(receipt.token, settlementFound(failure, 2))) return;
    await judgeHolderFailure(this.ctx, 'nack', receipt, cancellationReasons(failure)[0]?.Item);
  }

  async extend(receipt: Receipt, leaseUntil: number): Promise<void> {
    await holderUpdate(this.ctx, 'extend', receipt, () => {
      const now = this.ctx.now();
      return extendTransition(receipt, now, leaseUntil - now);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Stats and redrive

  countInto(counts: StatsCounts, item: Item, now: number): void {
    const state = deliveryStateOf(item);
    if (!state) return;
    const leased = state.leaseToken !== undefined && state.visibleAt > now;
    const waiting = !leased && state.visibleAt > now;
    if (leased) counts.inFlight++;
    else if (waiting) counts.delayed++;
    else counts.visible++;
    if (!waiting) counts.oldestSentAt = Math.min(counts.oldestSentAt, readNumber(item, Attr.sentAt) ?? now);
  }

  async redriveOne(deadLetter: Item, loaded: LoadedConfig): Promise<boolean> {
    const messageId = readString(deadLetter, Attr.messageId) as string;
    const groupId = readString(deadLetter, Attr.groupId);
    const now = this.ctx.now();
    const shard = loaded.ring.ownerOf(groupId ?? messageId);
    const back = redriveTransition({ fence: readNumber(deadLetter, Attr.fence) ?? 0 }, now);
    const table = this.ctx.deps.tableName;
    const failure = await transact(
      this.ctx,
      [
        { Delete: { TableName: table, Key: keyOf(deadLetter), ConditionExpression: 'attribute_exists(pk)' } },
        transactAction(table, Keys.key(Keys.shardPk(this.ctx.name, shard), Keys.standardMessageSk(now, messageId)), back, {
          [Attr.sentAt]: deadLetter[Attr.sentAt] ?? num(now),
          ...(groupId !== undefined ? { [Attr.groupId]: str(groupId) } : {}),
          ...copyAttributes(deadLetter, BODY_ATTRIBUTES),
        }),
      ],
      'a redrive',
    );
    return failure === undefined; // canceled: another redrive moved it first
  }
}

/**
 * Deletes the claim-check object of an acked message (its key follows from the message id). A
 * failure here must not turn an applied ack into an error: the object is left as an orphan
 * (docs/queue.md).
 */
export async function releaseBody(ctx: QueueContext, receipt: Receipt): Promise<void> {
  if (receipt.offloaded) await ctx.deps.bodies.releaseKey(claimCheckKey(ctx.name, receipt.messageId)).catch(() => undefined);
}

export async function settled(fn: () => Promise<SendResult>): Promise<BatchSendResult> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}
