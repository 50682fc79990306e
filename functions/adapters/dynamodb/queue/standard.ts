/**
 * The standard queue protocol: each message is one item that carries its own delivery state.
 *
 * Per delivered message, in the steady state: 1 PutItem (send) + 1 conditional UpdateItem (lease)
 * + 1 conditional DeleteItem (ack) = 3 write requests, plus a share of one Query per receive of up
 * to 10. A send with a dedup id is one transaction (the dedup record and the message).
 */
import { DeleteItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { SendInput } from '../../../core/queue/config.js';
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
} from '../../../core/queue/delivery.js';
import { deadLetterAppliedEarlier, settlementAppliedEarlier } from '../../../core/queue/judge.js';
import type { BatchSendResult, ReceivedMessage, SendResult } from '../../../core/queue/model.js';
import { RetryPolicies } from '../../../core/queue/policies.js';
import { encodeReceipt, type Receipt } from '../../../core/queue/receipt.js';
import { claimCheckKey } from '../../body-store.js';
import { cancellationReasons, type Item, isConditionalCheckFailed } from '../errors.js';
import { deleteRequest, type ExpressionValues, transactAction } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import {
  Attr,
  availableAtFromStandardSk,
  BODY_ATTRIBUTES,
  contentTypeOf,
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
import { StandardSender } from './standard-send.js';
import {
  DeadLetterReason,
  deadLetterPut,
  holderUpdate,
  judgeHolderFailure,
  leaseAndComplete,
  receiptKey,
  settlementFound,
  settlementPut,
  transact,
} from './writes.js';
export class StandardMode implements DeliveryMode {
  readonly readsWithCursor = true;
  readonly statsPrefix = Keys.standardLowest;

  private readonly sender: StandardSender;

  constructor(private readonly ctx: QueueContext) {
    this.sender = new StandardSender(ctx);
  }

  send(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    return this.sender.send(message, loaded);
  }

  sendBatch(inputs: readonly unknown[], loaded: LoadedConfig): Promise<BatchSendResult[]> {
    return this.sender.sendBatch(inputs, loaded);
  }

  outboxActions(
    messages: readonly SendInput[],
    loaded: LoadedConfig,
  ): Promise<{ messageIds: string[]; transactItems: TransactWriteItem[] }> {
    return this.sender.outboxActions(messages, loaded);
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
        ...contentTypeOf(candidate),
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
