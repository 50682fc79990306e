/**
 * Sending to a FIFO queue: the tail protocol (core/queue/fifo.ts appendTransition), used by
 * sends, outbox batches and redrives alike. One handle remembers the tails of the groups it sent
 * to (a hint: every append is guarded by the tail it assumes).
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ContentionError, quote, ValidationError } from '../../../core/errors.js';
import { type SendInput, sendInputSchema } from '../../../core/queue/config.js';
import { appendedSequence, appendTransition } from '../../../core/queue/fifo.js';
import { appendAppliedEarlier, tailAfterFailedAppend } from '../../../core/queue/judge.js';
import type { BatchSendResult, SendResult } from '../../../core/queue/model.js';
import { ReceiveLimits, RetryPolicies } from '../../../core/queue/policies.js';
import { parseInput } from '../../../core/validation.js';
import { cancellationReasons, type Item } from '../errors.js';
import { transactAction } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { Attr, groupStateOf, Keys, num, pkOf, readString, str } from './layout.js';
import { settled } from './standard-send.js';
import { dedupPut, dedupVerdict, transact } from './writes.js';

export interface Append {
  readonly groupId: string;
  readonly messageId: string;
  /** The body's attributes (BodyStore.encode, or copied from a dead letter). */
  readonly body: Item;
  readonly dedupId?: string;
  /** The message was delivered with fences up to this one already (a redrive): Q2 across redrives. */
  readonly fenceFloor: number;
  /** @default the clock now */
  readonly sentAt?: number;
  /** Commits with the append (a redrive's delete from the DLQ); its failed condition means "not appended". */
  readonly alongside?: TransactWriteItem;
}

export class FifoAppender {
  /** Last known tail of the groups this handle sent to (a hint: every append is guarded by it). */
  private readonly groupTails = new Map<string, number>();

  constructor(private readonly ctx: QueueContext) {}

  private checkFields(message: SendInput, path: string): string {
    if (message.groupId === undefined) throw new ValidationError(`${path}groupId`, 'is required on a FIFO queue');
    if (message.delaySeconds)
      throw new ValidationError(`${path}delaySeconds`, 'per-message delays are not supported on a FIFO queue (as in SQS)');
    return message.groupId;
  }

  async send(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    const groupId = this.checkFields(message, '');
    const messageId = this.ctx.randomId();
    const body = await this.ctx.deps.bodies.encode(message, this.ctx.name, messageId);
    const result = await this.append(loaded, {
      groupId,
      messageId,
      body: body.attributes,
      fenceFloor: 0,
      ...(message.dedupId !== undefined ? { dedupId: message.dedupId } : {}),
    });
    if (!result) throw new Error('invariant broken: a send has no companion action whose condition could fail');
    if (result.duplicate) await this.ctx.deps.bodies.releaseKey(body.objectKey);
    return result;
  }

  /** Same-group messages are appended in order, one at a time; groups in parallel. */
  async sendBatch(inputs: readonly unknown[], loaded: LoadedConfig): Promise<BatchSendResult[]> {
    const results: BatchSendResult[] = new Array(inputs.length);
    const byGroup = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      const groupId = (input as { groupId?: unknown } | undefined)?.groupId;
      const group = typeof groupId === 'string' ? groupId : '';
      byGroup.set(group, [...(byGroup.get(group) ?? []), i]);
    });
    await Promise.all(
      [...byGroup.values()].map(async (indexes) => {
        for (const i of indexes) {
          results[i] = await settled(() => this.send(parseInput(sendInputSchema, inputs[i], `messages.${i}`), loaded));
        }
      }),
    );
    return results;
  }

  private groupKey(loaded: LoadedConfig, groupId: string): Item {
    return Keys.key(Keys.shardPk(this.ctx.name, loaded.ring.ownerOf(groupId)), Keys.groupSk(groupId));
  }

  private messagePut(
    groupKey: Item,
    groupId: string,
    seq: number,
    messageId: string,
    sentAt: number,
    body: Item,
    fenceFloor: number,
  ): TransactWriteItem {
    return {
      Put: {
        TableName: this.ctx.deps.tableName,
        Item: {
          ...Keys.key(pkOf(groupKey), Keys.fifoMessageSk(groupId, seq)),
          [Attr.messageId]: str(messageId),
          [Attr.groupId]: str(groupId),
          [Attr.sentAt]: num(sentAt),
          ...(fenceFloor > 0 ? { [Attr.fenceFloor]: num(fenceFloor) } : {}),
          ...body,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Appends one message to its group: the tail increment and the message put commit together (with
   * `alongside`), so sequence numbers have no gaps and the head always names a stored message (Q4).
   * Returns undefined when the condition of `alongside` failed (nothing was appended).
   *
   * Q3: each attempt has its own ClientRequestToken, resent unchanged by the SDK's retries; where a
   * token is ignored (moto), a retry that finds our own message at its sequence number knows it applied.
   */
  async append(loaded: LoadedConfig, append: Append): Promise<SendResult | undefined> {
    const { groupId, messageId, dedupId, fenceFloor } = append;
    const groupKey = this.groupKey(loaded, groupId);
    const tailKey = `${pkOf(groupKey)}\u0000${groupId}`;
    for (let attempt = 1; attempt <= RetryPolicies.fifoAppend.attempts; attempt++) {
      const now = this.ctx.now();
      const tail = this.groupTails.get(tailKey);
      const [seq] = appendedSequence(tail, 1) as [number];
      const items: TransactWriteItem[] = [];
      if (dedupId !== undefined) items.push(dedupPut(this.ctx, dedupId, messageId, now, loaded.config));
      const groupIndex = items.length;
      items.push(transactAction(this.ctx.deps.tableName, groupKey, appendTransition(tail, 1, now, fenceFloor)));
      items.push(this.messagePut(groupKey, groupId, seq, messageId, append.sentAt ?? now, append.body, fenceFloor));
      if (append.alongside) items.push(append.alongside);
      const failure = await transact(this.ctx, items, `an append to FIFO group ${quote(groupId)}`);
      if (!failure) {
        this.rememberTail(tailKey, seq + 1);
        return { messageId, duplicate: false };
      }
      const reasons = cancellationReasons(failure);
      if (appendAppliedEarlier(messageId, readString(reasons[groupIndex + 1]?.Item, Attr.messageId))) {
        this.rememberTail(tailKey, seq + 1);
        return { messageId, duplicate: false };
      }
      if (dedupId !== undefined) {
        const verdict = dedupVerdict(failure, 0, messageId);
        if (verdict.outcome === 'applied-earlier') return { messageId, duplicate: false };
        if (verdict.outcome === 'duplicate') return { messageId: verdict.messageId, duplicate: true };
      }
      if (append.alongside && reasons[groupIndex + 2]?.Code === 'ConditionalCheckFailed') return undefined;
      if (reasons[groupIndex]?.Code !== 'ConditionalCheckFailed') throw failure;
      // Our idea of the tail was stale: the failure carries the group as it is now.
      const current = tailAfterFailedAppend(groupStateOf(reasons[groupIndex]?.Item));
      if (current === undefined) this.groupTails.delete(tailKey);
      else this.rememberTail(tailKey, current);
      await this.ctx.backoff(attempt, RetryPolicies.fifoAppend);
    }
    throw new ContentionError(
      `could not append to FIFO group ${quote(groupId)} of queue ${quote(this.ctx.name)} after ${RetryPolicies.fifoAppend.attempts} attempts (other senders kept moving its tail); nothing was appended`,
    );
  }

  private rememberTail(key: string, tail: number): void {
    this.groupTails.delete(key);
    this.groupTails.set(key, tail);
    if (this.groupTails.size > ReceiveLimits.rememberedGroupTails) {
      const oldest = this.groupTails.keys().next().value;
      if (oldest !== undefined) this.groupTails.delete(oldest);
    }
  }

  /**
   * The group tails are read now and the actions are conditional on them: if another sender
   * appends first, the caller's transaction is canceled (explainOutboxCancellation says so).
   */
  async outboxActions(
    messages: readonly SendInput[],
    loaded: LoadedConfig,
  ): Promise<{ messageIds: string[]; transactItems: TransactWriteItem[] }> {
    for (const [i, m] of messages.entries()) this.checkFields(m, `messages.${i}.`);
    const now = this.ctx.now();
    const transactItems: TransactWriteItem[] = [];
    const groups = new Map<string, SendInput[]>();
    for (const m of messages) groups.set(m.groupId as string, [...(groups.get(m.groupId as string) ?? []), m]);
    const idOf = new Map<SendInput, string>();
    for (const [groupId, groupMessages] of groups) {
      const groupKey = this.groupKey(loaded, groupId);
      const tail = groupStateOf(await this.ctx.getConsistent(groupKey))?.tail;
      transactItems.push(transactAction(this.ctx.deps.tableName, groupKey, appendTransition(tail, groupMessages.length, now, 0)));
      const sequence = appendedSequence(tail, groupMessages.length);
      for (const [i, m] of groupMessages.entries()) {
        const id = this.ctx.randomId();
        idOf.set(m, id);
        const body = await this.ctx.deps.bodies.encode(m, this.ctx.name, id);
        if (m.dedupId !== undefined) transactItems.push(dedupPut(this.ctx, m.dedupId, id, now, loaded.config));
        transactItems.push(this.messagePut(groupKey, groupId, sequence[i] as number, id, now, body.attributes, 0));
      }
    }
    return { messageIds: messages.map((m) => idOf.get(m) as string), transactItems };
  }
}
