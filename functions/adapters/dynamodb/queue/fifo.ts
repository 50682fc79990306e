/**
 * The FIFO queue protocol (Q4; core/queue/fifo.ts): a group item in front of its message items.
 * The group item carries the delivery state of its head message, so leasing the group leases the
 * head, and nothing else of the group can be in flight. Sends, outbox batches and redrives all
 * append through the same tail protocol.
 *
 * Per delivered message: a 2-action transaction (append: tail + message), a lease of the group, a
 * read of the head message, and a 2-action transaction (advance: head + delete message).
 */
import { type TransactWriteItem, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ContentionError, quote } from '../../../core/errors.js';
import type { SendInput } from '../../../core/queue/config.js';
import {
  DeliveryDecision,
  deadLetterOnNack,
  decideDelivery,
  extendTransition,
  type GroupState,
  nackDeadLetters,
  nackTransition,
  type Transition,
} from '../../../core/queue/delivery.js';
import {
  advanceTransition,
  atHead,
  fifoAckTransition,
  fifoDeadLetterOnReceive,
  needsFenceRaise,
  raiseFenceTransition,
} from '../../../core/queue/fifo.js';
import { deadLetterAppliedEarlier, settlementAppliedEarlier } from '../../../core/queue/judge.js';
import type { BatchSendResult, SendResult } from '../../../core/queue/model.js';
import { encodeReceipt, type Receipt } from '../../../core/queue/receipt.js';
import { cancellationReasons, type Item } from '../errors.js';
import { type ExpressionValues, transactAction, updateRequest } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { FifoAppender } from './fifo-append.js';
import {
  Attr,
  BODY_ATTRIBUTES,
  contentTypeOf,
  copyAttributes,
  groupIdFromGroupSk,
  groupStateOf,
  Keys,
  keyOf,
  num,
  pkOf,
  readNumber,
  readString,
  skOf,
  str,
} from './layout.js';
import type { DeliveryMode, DeliveryOutcome, StatsCounts } from './mode.js';
import { releaseBody } from './standard.js';
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
export class FifoMode implements DeliveryMode {
  readonly readsWithCursor = false;
  readonly statsPrefix = Keys.groupPrefix;
  private readonly appender: FifoAppender;

  constructor(private readonly ctx: QueueContext) {
    this.appender = new FifoAppender(ctx);
  }

  send(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    return this.appender.send(message, loaded);
  }

  sendBatch(inputs: readonly unknown[], loaded: LoadedConfig): Promise<BatchSendResult[]> {
    return this.appender.sendBatch(inputs, loaded);
  }

  outboxActions(
    messages: readonly SendInput[],
    loaded: LoadedConfig,
  ): Promise<{ messageIds: string[]; transactItems: TransactWriteItem[] }> {
    return this.appender.outboxActions(messages, loaded);
  }

  // ---------------------------------------------------------------------------------------------
  // Receive

  readyQuery(shardPk: string, now: number, values: ExpressionValues): { keyCondition: string; filter: string } {
    const pk = values.add(str(shardPk));
    return {
      keyCondition: `pk = ${pk} AND begins_with(sk, ${values.add(str(Keys.groupPrefix))})`,
      filter: `${Attr.visibleAt} <= ${values.add(num(now))} AND ${Attr.head} < ${Attr.tail}`,
    };
  }

  private headMessageKey(group: Item, seq: number): Item {
    return Keys.key(pkOf(group), Keys.fifoMessageSk(groupIdFromGroupSk(skOf(group)), seq));
  }

  async deliver(shard: number, group: Item, now: number, visibilityMs: number, loaded: LoadedConfig): Promise<DeliveryOutcome> {
    const state = groupStateOf(group);
    if (!state) return 'skipped';
    const decision = decideDelivery(state, now, loaded.config.maxReceiveCount);
    if (decision === DeliveryDecision.NotVisible) return 'skipped';
    if (decision === DeliveryDecision.DeadLetter) {
      const advance = fifoDeadLetterOnReceive(state, now, loaded.config.maxReceiveCount);
      return (await this.deadLetterHead(group, advance, state.head, state, now)) === undefined ? 'dead-lettered' : 'lost';
    }
    return leaseAndComplete(this.ctx, group, now, visibilityMs, loaded.config, async (leased, token, leaseUntil) => {
      const groupSk = skOf(group);
      const groupId = groupIdFromGroupSk(groupSk);
      const seq = readNumber(leased, Attr.head) as number;
      const message = await this.ctx.getConsistent(this.headMessageKey(group, seq));
      if (!message) throw new Error(`invariant broken: FIFO group ${quote(groupId)} points at missing message ${seq}`);
      let fence = readNumber(leased, Attr.fence) as number;
      const floor = readNumber(message, Attr.fenceFloor) ?? 0;
      if (needsFenceRaise(fence, floor)) {
        await this.ctx.deps.dynamodb.send(
          new UpdateItemCommand(updateRequest(this.ctx.deps.tableName, keyOf(group), raiseFenceTransition(token, floor))),
        );
        fence = floor + 1;
      }
      const messageId = readString(message, Attr.messageId) as string;
      const receiveCount = readNumber(leased, Attr.receiveCount) as number;
      return {
        messageId,
        body: await this.ctx.deps.bodies.decode(message),
        ...contentTypeOf(message),
        receipt: encodeReceipt({
          queue: this.ctx.name,
          messageId,
          shard,
          leaseKey: groupSk,
          seq,
          token,
          fence,
          leaseUntil,
          lastInGroup: readNumber(leased, Attr.tail) === seq + 1,
          receiveCount,
          offloaded: message[Attr.bodyObject] !== undefined,
        }),
        receiveCount,
        groupId,
        fence,
        sentAt: readNumber(message, Attr.sentAt) ?? 0,
        leaseUntil,
      };
    });
  }

  /**
   * Q6: the group advances past message `seq`, the message item goes and its dead letter is put, in
   * one transaction; for a nack (`byHolder`) with the settlement record. Undefined when it applied
   * (now or, where ClientRequestToken is ignored, by our own earlier attempt); else the cancellation.
   */
  private async deadLetterHead(
    group: Item,
    advance: Transition<GroupState>,
    seq: number,
    delivery: { readonly receiveCount: number; readonly fence: number },
    now: number,
    byHolder?: Receipt,
  ): Promise<undefined | Error | 'no-message'> {
    const messageKey = this.headMessageKey(group, seq);
    const message = await this.ctx.getConsistent(messageKey);
    if (!message) return 'no-message';
    const messageId = readString(message, Attr.messageId) as string;
    const table = this.ctx.deps.tableName;
    const reason = byHolder ? DeadLetterReason.NackedOnLastDelivery : DeadLetterReason.MaxReceiveCount;
    const failure = await transact(
      this.ctx,
      [
        transactAction(table, keyOf(group), advance),
        { Delete: { TableName: table, Key: messageKey } },
        deadLetterPut(this.ctx, message, messageId, delivery, now, reason),
        ...(byHolder ? [settlementPut(this.ctx, byHolder, 'dead-lettered')] : []),
      ],
      'a dead-lettering',
    );
    if (!failure) return undefined;
    const appliedEarlier = byHolder
      ? settlementAppliedEarlier(byHolder.token, settlementFound(failure, 3))
      : deadLetterAppliedEarlier(messageId, readString(cancellationReasons(failure)[2]?.Item, Attr.messageId));
    return appliedEarlier ? undefined : failure;
  }

  // ---------------------------------------------------------------------------------------------
  // Ack, nack, extend: only the current lease holder (Q2), and only while its message is the head

  async ack(receipt: Receipt): Promise<void> {
    const seq = receipt.seq as number;
    const groupId = groupIdFromGroupSk(receipt.leaseKey);
    const group = receiptKey(this.ctx, receipt);
    const messageKey = Keys.key(pkOf(group), Keys.fifoMessageSk(groupId, seq));
    let last = receipt.lastInGroup;
    // The hint may be wrong once (a send joined the group after the lease): one more try, the other way.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const table = this.ctx.deps.tableName;
      const failure = await transact(
        this.ctx,
        [
          transactAction(table, group, fifoAckTransition(receipt, seq, last, this.ctx.now())),
          {
            Delete: {
              TableName: table,
              Key: messageKey,
              ConditionExpression: `${Attr.messageId} = :id`,
              ExpressionAttributeValues: { ':id': str(receipt.messageId) },
            },
          },
        ],
        'a FIFO ack',
      );
      if (!failure) break;
      const verdict = await judgeHolderFailure(this.ctx, 'ack', receipt, cancellationReasons(failure)[0]?.Item);
      if (verdict.outcome === 'applied-earlier') break;
      last = verdict.last;
      if (attempt === 2)
        throw new ContentionError(
          `the FIFO ack of message ${quote(receipt.messageId)} did not settle (its group kept changing); repeat it`,
        );
    }
    await releaseBody(this.ctx, receipt);
  }

  async nack(receipt: Receipt, delayMs: number, loaded: LoadedConfig): Promise<void> {
    const seq = receipt.seq as number;
    if (nackDeadLetters(receipt, loaded.config.maxReceiveCount)) return this.nackToDeadLetters(receipt, seq);
    await holderUpdate(this.ctx, 'nack', receipt, () => atHead(nackTransition(receipt, this.ctx.now(), delayMs), seq));
  }

  private async nackToDeadLetters(receipt: Receipt, seq: number): Promise<void> {
    const groupKey = receiptKey(this.ctx, receipt);
    const group = await this.ctx.getConsistent(groupKey);
    const state = groupStateOf(group);
    if (!group || !state || state.leaseToken !== receipt.token || state.head !== seq) {
      await judgeHolderFailure(this.ctx, 'nack', receipt, group);
      return;
    }
    const now = this.ctx.now();
    const advance = advanceTransition(deadLetterOnNack(receipt, now).guard, seq, state.tail === seq + 1, now);
    const failure = await this.deadLetterHead(group, advance, seq, state, now, receipt);
    if (failure === undefined) return;
    if (failure === 'no-message')
      throw new Error(`invariant broken: FIFO group ${quote(receipt.leaseKey)} points at missing message ${seq}`);
    await judgeHolderFailure(this.ctx, 'nack', receipt, cancellationReasons(failure)[0]?.Item);
  }

  async extend(receipt: Receipt, leaseUntil: number): Promise<void> {
    await holderUpdate(this.ctx, 'extend', receipt, () => {
      const now = this.ctx.now();
      return atHead(extendTransition(receipt, now, leaseUntil - now), receipt.seq as number);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Stats and redrive

  countInto(counts: StatsCounts, item: Item, now: number): void {
    const state = groupStateOf(item);
    if (!state) return;
    const queued = state.tail - state.head;
    if (queued <= 0) return;
    const leased = state.leaseToken !== undefined && state.visibleAt > now;
    if (leased) counts.inFlight++;
    else if (state.visibleAt > now) counts.delayed++;
    else counts.visible++;
    counts.visible += queued - 1; // queued behind the head
  }

  /** The group's tail protocol, with the delete from the DLQ in the same transaction. */
  async redriveOne(deadLetter: Item, loaded: LoadedConfig): Promise<boolean> {
    const groupId = readString(deadLetter, Attr.groupId);
    if (groupId === undefined) throw new Error('invariant broken: a dead letter of a FIFO queue without its group');
    const appended = await this.appender.append(loaded, {
      groupId,
      messageId: readString(deadLetter, Attr.messageId) as string,
      body: copyAttributes(deadLetter, BODY_ATTRIBUTES),
      fenceFloor: readNumber(deadLetter, Attr.fence) ?? 0,
      sentAt: readNumber(deadLetter, Attr.sentAt) ?? this.ctx.now(),
      alongside: { Delete: { TableName: this.ctx.deps.tableName, Key: keyOf(deadLetter), ConditionExpression: 'attribute_exists(pk)' } },
    });
    return appended !== undefined; // undefined: another redrive moved it first
  }
}
