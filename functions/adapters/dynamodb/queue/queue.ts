/**
 * A Concord queue on DynamoDB: implements the Queue port (core/queue/model.ts). It validates each
 * call's input once, loads the configuration, and hands the work to the queue's protocol (standard
 * or FIFO, mode.ts), the receiver, the dead letters or the stats. The transactional outbox
 * (`prepareOutbox`) is an extension of this adapter, outside the port.
 */
import { fullJitterBackoffMs } from '../../../core/backoff.js';
import { quote } from '../../../core/errors.js';
import {
  extendInputSchema,
  type ListDeadLettersInput,
  listDeadLettersInputSchema,
  messageIdSchema,
  nackInputSchema,
  outboxInputSchema,
  type PeekInput,
  peekInputSchema,
  type QueueConfig,
  type QueueConfigPatch,
  queueConfigPatchSchema,
  type ReceiveInput,
  type RedriveInput,
  receiveInputSchema,
  redriveInputSchema,
  type SendInput,
  type StatsInput,
  sendBatchInputSchema,
  sendInputSchema,
  statsInputSchema,
} from '../../../core/queue/config.js';
import { LeaseLossReason, LeaseLost } from '../../../core/queue/errors.js';
import type {
  BatchSendResult,
  DeadLetter,
  DeadLetterPage,
  ExtendResult,
  NackOptions,
  PeekPage,
  Queue,
  QueueStats,
  ReceivedMessage,
  ReceiveOptions,
  RedriveResult,
  SendResult,
} from '../../../core/queue/model.js';
import { decodeReceipt, encodeReceipt, type Receipt } from '../../../core/queue/receipt.js';
import { parseInput } from '../../../core/validation.js';
import type { LoadedConfig } from './config-store.js';
import { ConfigStore } from './config-store.js';
import { type Deps, QueueContext } from './context.js';
import { deadLetterOf, deleteDeadLetter, findDeadLetter, listDeadLetters, redrive } from './dead-letters.js';
import { FifoMode } from './fifo.js';
import { peek } from './inspect.js';
import type { DeliveryMode } from './mode.js';
import { type OutboxBatch, parseOutboxMessages } from './outbox.js';
import { Receiver } from './receive.js';
import { StandardMode } from './standard.js';
import { queueStats } from './stats.js';

export class DynamoDbQueue implements Queue {
  private readonly ctx: QueueContext;
  private readonly standard: StandardMode;
  private readonly fifo: FifoMode;
  private readonly receiver: Receiver;
  /** The mode of the configuration loaded last (a queue's `fifo` never changes once it exists). */
  private current: DeliveryMode;

  /** Internal: `createQueueService(...).queue(name)` makes these. */
  constructor(
    readonly name: string,
    deps: Deps,
  ) {
    this.ctx = new QueueContext(name, deps, new ConfigStore(name, deps.dynamodb, deps.tableName, deps.clock, deps.configCacheMs));
    this.standard = new StandardMode(this.ctx);
    this.fifo = new FifoMode(this.ctx);
    this.current = this.standard;
    this.receiver = new Receiver(this.ctx, () => this.current);
  }

  private async load(create: boolean): Promise<{ loaded: LoadedConfig; mode: DeliveryMode }> {
    const loaded = await this.ctx.config.load(create);
    this.current = loaded.config.fifo ? this.fifo : this.standard;
    return { loaded, mode: this.current };
  }

  async getConfig(): Promise<QueueConfig> {
    return (await this.load(false)).loaded.config;
  }

  async configure(patch: QueueConfigPatch): Promise<QueueConfig> {
    return this.ctx.config.configure(parseInput(queueConfigPatchSchema, patch));
  }

  async send(input: SendInput): Promise<SendResult> {
    const message = parseInput(sendInputSchema, input);
    const { loaded, mode } = await this.load(true);
    return mode.send(message, loaded);
  }

  async sendBatch(inputs: readonly SendInput[]): Promise<BatchSendResult[]> {
    const messages = parseInput(sendBatchInputSchema, inputs, 'messages');
    const { loaded, mode } = await this.load(true);
    return mode.sendBatch(messages, loaded);
  }

  /**
   * The write actions that enqueue `messages` when included in the caller's own
   * TransactWriteItems: the messages exist iff that transaction commits (Q7). Bodies over the item
   * budget are uploaded to S3 now (an aborted transaction leaves an orphan object for the bucket's
   * lifecycle rule). On a FIFO queue the actions are conditional on the group tails read now: if
   * another sender appends first the transaction is canceled and should be retried with a fresh
   * batch. `explainOutboxCancellation` tells the two outbox causes of a cancellation (a duplicate
   * dedup id, a FIFO tail conflict) apart from the caller's own.
   */
  async prepareOutbox(messages: readonly SendInput[]): Promise<OutboxBatch> {
    const parsed = parseOutboxMessages(parseInput(outboxInputSchema, messages, 'messages'));
    const { loaded, mode } = await this.load(true);
    return mode.outboxActions(parsed, loaded);
  }

  async receive(input: ReceiveInput = {}, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const request = parseInput(receiveInputSchema, input);
    const { loaded } = await this.load(true);
    return this.receiver.receive(loaded, {
      max: request.max ?? 1,
      visibilityMs: (request.visibilityTimeoutSeconds ?? loaded.config.visibilityTimeoutSeconds) * 1000,
      waitMs: (request.waitSeconds ?? 0) * 1000,
      signal: options.signal,
    });
  }

  recentlyContended(): boolean {
    return this.receiver.recentlyContended();
  }

  private parseReceipt(text: string): Receipt {
    const receipt = decodeReceipt(text);
    if (receipt.queue !== this.name) {
      throw new LeaseLost(LeaseLossReason.Forged, receipt.messageId, `the receipt belongs to queue ${quote(receipt.queue)}`);
    }
    return receipt;
  }

  /** The protocol a receipt was issued by (a FIFO receipt names its message's sequence number). */
  private modeOf(receipt: Receipt): DeliveryMode {
    return receipt.seq === undefined ? this.standard : this.fifo;
  }

  async ack(receiptText: string): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    await this.modeOf(receipt).ack(receipt);
  }

  async nack(receiptText: string, options: NackOptions = {}): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    const { delaySeconds } = parseInput(nackInputSchema, options);
    const { loaded } = await this.load(false);
    const delayMs =
      delaySeconds !== undefined
        ? delaySeconds * 1000
        : fullJitterBackoffMs(receipt.receiveCount, this.ctx.deps.entropy.unit(), this.ctx.deps.nackBackoff);
    await this.modeOf(receipt).nack(receipt, delayMs, loaded);
  }

  async extend(receiptText: string, visibilityTimeoutSeconds: number): Promise<ExtendResult> {
    const receipt = this.parseReceipt(receiptText);
    const { visibilityTimeoutSeconds: seconds } = parseInput(extendInputSchema, { visibilityTimeoutSeconds });
    const leaseUntil = this.ctx.now() + seconds * 1000;
    await this.modeOf(receipt).extend(receipt, leaseUntil);
    // The receipt carries the expiry used to judge a repeated ack (Q3), so hand out a fresh one.
    return { leaseUntil, receipt: encodeReceipt({ ...receipt, leaseUntil }) };
  }

  async stats(options: StatsInput = {}): Promise<QueueStats> {
    const { consistency } = parseInput(statsInputSchema, options);
    const { loaded, mode } = await this.load(false);
    return queueStats(this.ctx, mode, loaded, consistency ?? 'eventual');
  }

  async listDeadLetters(options: ListDeadLettersInput = {}): Promise<DeadLetterPage> {
    return listDeadLetters(this.ctx, parseInput(listDeadLettersInputSchema, options));
  }

  async redrive(options: RedriveInput = {}): Promise<RedriveResult> {
    const parsed = parseInput(redriveInputSchema, options);
    const { loaded, mode } = await this.load(true);
    return redrive(this.ctx, mode, loaded, parsed);
  }

  async peek(input: PeekInput): Promise<PeekPage> {
    const parsed = parseInput(peekInputSchema, input);
    const { loaded } = await this.load(false);
    return peek(this.ctx, loaded, parsed);
  }

  async getDeadLetter(messageId: string): Promise<DeadLetter | undefined> {
    const item = await findDeadLetter(this.ctx, parseInput(messageIdSchema, messageId, 'messageId'));
    return item ? deadLetterOf(this.ctx, item) : undefined;
  }

  async deleteDeadLetter(messageId: string): Promise<boolean> {
    return deleteDeadLetter(this.ctx, parseInput(messageIdSchema, messageId, 'messageId'));
  }

  async redriveDeadLetter(messageId: string): Promise<boolean> {
    const item = await findDeadLetter(this.ctx, parseInput(messageIdSchema, messageId, 'messageId'));
    if (!item) return false;
    const { loaded, mode } = await this.load(true);
    return mode.redriveOne(item, loaded);
  }
}
