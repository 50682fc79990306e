/**
 * Sending to a standard queue: one PutItem per message (never retried blindly, Q1/Q3), a
 * transaction with the dedup record for a message with a dedup id (Q5), one BatchWriteItem for a
 * batch's plain messages, and the outbox's actions (Q7).
 */
import { BatchWriteItemCommand, PutItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ThrottledError } from '../../../core/errors.js';
import type { SendInput } from '../../../core/queue/config.js';
import { sendInputSchema } from '../../../core/queue/config.js';
import { sendTransition } from '../../../core/queue/delivery.js';
import { SendOutcomeUnknown } from '../../../core/queue/errors.js';
import type { BatchSendResult, SendResult } from '../../../core/queue/model.js';
import { RetryPolicies } from '../../../core/queue/policies.js';
import { parseInput } from '../../../core/validation.js';
import type { Item } from '../errors.js';
import { transactAction } from '../expressions.js';
import { WriteOutcomeUnknown, withoutBlindRetries } from '../unretried-writes.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { Attr, Keys, keyOf, num, skOf, str } from './layout.js';
import { dedupPut, dedupVerdict, transact } from './writes.js';

/** A standard message about to be stored: its fresh id, its whole item, and its S3 body's key if any. */
interface NewMessage {
  readonly id: string;
  /** The put, as a transaction action (its guard: the fresh key is absent). */
  readonly put: TransactWriteItem;
  /** The same item, for a BatchWriteItem (which takes no condition). */
  readonly item: Item;
  readonly objectKey?: string;
}

export class StandardSender {
  constructor(private readonly ctx: QueueContext) {}

  private async newMessage(message: SendInput, loaded: LoadedConfig, now: number): Promise<NewMessage> {
    const id = this.ctx.randomId();
    const availableAt = now + (message.delaySeconds ?? 0) * 1000;
    const shard = loaded.ring.ownerOf(message.groupId ?? id);
    const body = await this.ctx.deps.bodies.encode(message, this.ctx.name, id);
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
}

export async function settled(fn: () => Promise<SendResult>): Promise<BatchSendResult> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}
