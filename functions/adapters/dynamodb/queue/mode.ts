/**
 * Standard and FIFO queues are two protocols over different items (a message item; a group item
 * in front of its message items), so each is one module implementing this, and every operation
 * that does not depend on the protocol (the receive loop, stats aggregation, dead-letter paging,
 * the outbox's assembly) calls the mode instead of forking on `fifo`.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { SendInput } from '../../../core/queue/config.js';
import type { BatchSendResult, ReceivedMessage, SendResult } from '../../../core/queue/model.js';
import type { Receipt } from '../../../core/queue/receipt.js';
import type { Item } from '../errors.js';
import type { ExpressionValues } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';

/** What became of one candidate: delivered, dead-lettered, lost to another receiver, or not ready after all. */
export type DeliveryOutcome = ReceivedMessage | 'dead-lettered' | 'lost' | 'skipped';

export interface StatsCounts {
  visible: number;
  inFlight: number;
  delayed: number;
  /** The oldest `sentAt` of a message not delayed (standard queues). */
  oldestSentAt: number;
}

export interface DeliveryMode {
  /** Sends one message (validated). */
  send(message: SendInput, loaded: LoadedConfig): Promise<SendResult>;
  /** Sends up to 10 messages (each validated on its own); each succeeds or fails on its own. */
  sendBatch(inputs: readonly unknown[], loaded: LoadedConfig): Promise<BatchSendResult[]>;
  /** The write actions that enqueue `messages` inside the caller's transaction (Q7), with their ids. */
  outboxActions(
    messages: readonly SendInput[],
    loaded: LoadedConfig,
  ): Promise<{ messageIds: string[]; transactItems: TransactWriteItem[] }>;
  /** The query of a shard's ready candidates: key condition and filter (a hint; the lease is the guard). */
  readyQuery(shardPk: string, now: number, values: ExpressionValues): { keyCondition: string; filter: string };
  /** True when receives may read this mode's shards from a cursor (FIFO reads from the head: an acked group is ready again at the same key). */
  readonly readsWithCursor: boolean;
  /** Leases (or dead-letters) one candidate found by a query. */
  deliver(shard: number, candidate: Item, now: number, visibilityMs: number, loaded: LoadedConfig): Promise<DeliveryOutcome>;
  ack(receipt: Receipt): Promise<void>;
  /** A nack: in place, moved, or dead-lettered on the last allowed delivery. */
  nack(receipt: Receipt, delayMs: number, loaded: LoadedConfig): Promise<void>;
  extend(receipt: Receipt, visibilityMs: number): Promise<void>;
  /** The sort-key prefix of the items stats count in each shard. */
  readonly statsPrefix: string;
  countInto(counts: StatsCounts, item: Item, now: number): void;
  /** Moves one dead letter back into the queue (Q6 in reverse); false when another redrive moved it first. */
  redriveOne(deadLetter: Item, loaded: LoadedConfig): Promise<boolean>;
}
