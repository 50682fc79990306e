/**
 * The fenced DynamoDB queue (DESIGN.md Q1–Q7). The core decides what must be true
 * (core/queue/lease.ts); this adapter says it to DynamoDB as conditional writes.
 *
 * Per delivered standard message, in the steady state: 1 PutItem (send) + 1 conditional UpdateItem
 * (lease) + 1 conditional DeleteItem (ack) = 3 write requests, plus a share of one Query per
 * receive of up to 10. See docs/queue.md for the FIFO and dedup costs.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type BackoffPolicy, DEFAULT_NACK_BACKOFF, fullJitterBackoffMs } from '../../core/backoff.js';
import type { Clock, Entropy } from '../../core/clock.js';
import { bytesToBase64Url } from '../../core/encoding.js';
import { ValidationError } from '../../core/errors.js';
import { HashRing } from '../../core/hashing.js';
import type { BodyStoragePolicy } from '../../core/queue/body.js';
import {
  applyConfigPatch,
  extendInputSchema,
  nackInputSchema,
  type QueueConfig,
  type QueueConfigPatch,
  QueueDefaults,
  QueueLimits,
  queueConfigPatchSchema,
  queueNameSchema,
  type ReceiveInput,
  RedriveDefaults,
  receiveInputSchema,
  resolveConfig,
  type SendInput,
  sendInputSchema,
} from '../../core/queue/config.js';
import { LeaseLossReason, LeaseLost, SendOutcomeUnknown } from '../../core/queue/errors.js';
import {
  DeliveryDecision,
  type DeliveryState,
  decideDelivery,
  type Guard,
  guardHolds,
  judgeHolderWriteFailure,
  leaseAppliedEarlier,
} from '../../core/queue/lease.js';
import { decodeReceipt, encodeReceipt, LEASE_TOKEN_BYTES, newLeaseToken, type Receipt } from '../../core/queue/receipt.js';
import { parseInput } from '../../core/validation.js';
import { BodyStore, type ClaimCheckStore, claimCheckKey } from '../body-store.js';
import { cryptoEntropy, realSleep, systemClock } from '../system.js';
import {
  attemptsOf,
  cancellationReasons,
  isConditionalCheckFailed,
  isTransactionCanceled,
  isTransactionConflict,
  isTransactionConflictException,
} from './errors.js';
import { ExpressionValues, guardCondition } from './expressions.js';
import {
  Attr,
  availableAtFromStandardSk,
  deliveryStateOf,
  type Item,
  Keys,
  messageIdFromStandardSk,
  num,
  pkOf,
  readNumber,
  readString,
  skOf,
  str,
} from './queue-items.js';
import { WriteOutcomeUnknown, withoutBlindRetries } from './unretried-writes.js';

export interface QueueServiceOptions {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** Where bodies over the item budget go. Without it such bodies are rejected (413). */
  readonly claimCheck?: ClaimCheckStore;
  readonly bodyPolicy?: BodyStoragePolicy;
  readonly clock?: Clock;
  readonly entropy?: Entropy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a queue's configuration is cached per process. @default 5000 */
  readonly configCacheMs?: number;
  /**
   * Receivers remember where they stopped in each shard and restart from the head of the shard at
   * most this often, to pick up expired leases and nacked messages behind them. Bounds the extra
   * redelivery latency after a lease expires. @default 1000
   */
  readonly headRescanMs?: number;
  /**
   * Strongly consistent receive queries cost twice the read units of eventual ones (0.2 vs 0.1 RRU
   * per 1 KB message at 10 per receive) but avoid leasing attempts on stale candidates, each a
   * failed conditional write billed at a full write unit (5x the price of a read unit). @default true
   */
  readonly consistentReceive?: boolean;
  /**
   * A shard found with nothing ready, or where another receiver won a lease race, is skipped by
   * this receiver for a while, doubling from 100 ms up to this value while that goes on. Bounds the read cost of polling an idle queue (about one
   * query per shard per this interval per receiver) and the extra latency of a message sent to a
   * shard that was idle. @default 1000
   */
  readonly maxEmptyShardBackoffMs?: number;
  readonly nackBackoff?: BackoffPolicy;
  /**
   * How far receivers' clocks may disagree. An ack whose response was lost is only taken as
   * applied while the lease has at least this long to run. @default 1000
   */
  readonly clockSkewToleranceMs?: number;
  /**
   * Queue handles kept (with their cursors and cached configuration), least recently used dropped
   * first: queue names can come from requests, and each new name must not grow memory forever.
   * @default 1000
   */
  readonly maxCachedQueues?: number;
}

export interface SendResult {
  readonly messageId: string;
  /** True when the dedup id was seen within the window: `messageId` is then the original's. */
  readonly duplicate: boolean;
}

/** A standard message about to be stored: its fresh id, its item, and its S3 body's key if any. */
interface NewMessage {
  readonly id: string;
  readonly item: Item;
  readonly objectKey?: string;
}

export type BatchSendResult = ({ readonly ok: true } & SendResult) | { readonly ok: false; readonly error: Error };

export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receipt: string;
  readonly receiveCount: number;
  readonly groupId?: string;
  /** Grows with every lease of this message: guard your own writes with it (Q2). */
  readonly fence: number;
  readonly sentAt: number;
  readonly leaseUntil: number;
}

export interface ConsumeStats {
  readonly acked: number;
  readonly nacked: number;
  /** Messages whose ack or nack found the lease gone (redelivered to another receiver). */
  readonly leaseLost: number;
}

export interface QueueStats {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLettered: number;
  /** Age of the oldest message not yet acked and not delayed (standard queues; 0 when none). */
  readonly oldestAgeSeconds: number;
  readonly consistency: 'strong' | 'eventual';
}

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly groupId?: string;
  readonly receiveCount: number;
  readonly sentAt: number;
  readonly deadLetteredAt: number;
  readonly reason: string;
}

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
    const sk = key.sk?.S ?? '';
    if (sk === 'd') duplicateDedupIds.push((key.pk?.S ?? '').replace(/^Q#[^#]+#D#/, ''));
    else if (sk.startsWith(Keys.groupPrefix)) groupConflict = true;
  }
  return duplicateDedupIds.length > 0 || groupConflict ? { duplicateDedupIds, groupConflict } : undefined;
}

const FIFO_SEND_ATTEMPTS = 12;
/** A BatchWriteItem's unprocessed puts are sent again up to this many attempts in all. */
const UNPROCESSED_ATTEMPTS = 8;
/** A receive reads at most this many pages and items per shard looking past unavailable messages. */
const MAX_PAGES_PER_SHARD = 10;
const MAX_SCANNED_PER_VISIT = 1_000;
const CONFLICT_RETRIES = 5;
/** `consume` overlaps at most this many receives (only while they come back full). */
const MAX_OVERLAPPING_RECEIVES = 2;
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 1_000;
/** A long poll inside `consume` checks this often whether the consumer was told to stop. */
const STOP_CHECK_MS = 50;

const DeadLetterReason = {
  MaxReceiveCount: 'maxReceiveCount exceeded',
  NackedOnLastDelivery: 'nacked on its last allowed delivery',
} as const;

/** Entry point: one per process, shared by every queue in the table. */
export function createQueueService(options: QueueServiceOptions): QueueService {
  return new QueueService(options);
}

/** One per process, shared by every queue in the table (`createQueueService`). */
export class QueueService {
  private readonly queues = new Map<string, DynamoDbQueue>();
  private readonly deps: Required<Omit<QueueServiceOptions, 'claimCheck' | 'bodyPolicy'>> & { readonly bodies: BodyStore };

  constructor(options: QueueServiceOptions) {
    this.deps = {
      dynamodb: options.dynamodb,
      tableName: options.tableName,
      clock: options.clock ?? systemClock,
      entropy: options.entropy ?? cryptoEntropy,
      sleep: options.sleep ?? realSleep,
      configCacheMs: options.configCacheMs ?? 5_000,
      headRescanMs: options.headRescanMs ?? 1_000,
      consistentReceive: options.consistentReceive ?? true,
      maxEmptyShardBackoffMs: options.maxEmptyShardBackoffMs ?? 1_000,
      clockSkewToleranceMs: options.clockSkewToleranceMs ?? 1_000,
      nackBackoff: options.nackBackoff ?? DEFAULT_NACK_BACKOFF,
      maxCachedQueues: options.maxCachedQueues ?? 1_000,
      bodies: new BodyStore(options.claimCheck, options.bodyPolicy),
    };
  }

  /** The DynamoDB table that holds this service's queues. */
  get tableName(): string {
    return this.deps.tableName;
  }

  /** The queue called `name` (validated: [A-Za-z0-9_-]{1,80}). It exists on first use. */
  queue(name: string): DynamoDbQueue {
    let queue = this.queues.get(name);
    if (queue) {
      this.queues.delete(name); // most recently used last: a Map iterates in insertion order
    } else {
      queue = new DynamoDbQueue(parseInput(queueNameSchema, name, 'queue'), this.deps);
      // A dropped handle loses only its caches; whoever still holds it can go on using it.
      for (const oldest of this.queues.keys()) {
        if (this.queues.size < this.deps.maxCachedQueues) break;
        this.queues.delete(oldest);
      }
    }
    this.queues.set(name, queue);
    return queue;
  }
}

interface LoadedConfig {
  readonly config: QueueConfig;
  readonly exists: boolean;
  readonly version: number;
  readonly ring: HashRing;
  readonly fetchedAt: number;
}

interface ShardCursor {
  readonly startKey: Item | undefined;
  readonly headScannedAt: number;
}

interface ShardVisit {
  readonly received: ReceivedMessage[];
  readonly deadLettered: number;
  /** Candidates the query returned as ready (before leasing). */
  readonly candidates: number;
  /** Lease attempts another receiver won. */
  readonly lostRaces: number;
}

const EMPTY_SHARD_BACKOFF_START_MS = 100;
/** How long a lost lease race makes a receiver lease cautiously (first candidate alone) in that shard. */
const CONTENTION_MEMORY_MS = 10_000;

const candidateKey = (item: Item): string => `${pkOf(item)}\u0000${skOf(item)}`;

/** What became of one candidate: delivered, dead-lettered, lost to another receiver, or not ready after all. */
type DeliveryOutcome = ReceivedMessage | 'dead-lettered' | 'lost' | 'skipped';

type Deps = QueueService['deps'];

export class DynamoDbQueue {
  private loaded: LoadedConfig | undefined;
  private readonly cursors = new Map<number, ShardCursor>();
  private shardRotation: number;
  /**
   * The shard that last gave this receiver messages without a race: receivers stick to a
   * productive shard and hop elsewhere when they collide, so concurrent receivers spread out
   * instead of all reading the same heads (each collision is a failed, billed conditional write).
   */
  private preferredShard: number | undefined;
  private readonly emptyShards = new Map<number, { until: number; backoffMs: number }>();
  /** When this receiver last lost a lease race in each shard. */
  private readonly lastLostRace = new Map<number, number>();
  /**
   * Candidates this instance's receives are leasing right now (by key). Two receives of one
   * instance that overlap (`consume` runs them so) each lease different candidates instead of
   * racing each other: a race would cost a failed, billed conditional write.
   */
  private readonly leasing = new Set<string>();
  /** The query a receive of this instance is reading each shard with, while it runs. */
  private readonly shardReads = new Map<number, Promise<unknown>>();
  /** Last known tail of FIFO groups this process sent to (a hint: every append is conditional on it). */
  private readonly groupTails = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly deps: Deps,
  ) {
    this.shardRotation = Math.floor(deps.entropy.unit() * QueueLimits.maxShards);
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  /** The queue's configuration (its defaults if it was never configured). */
  async getConfig(): Promise<QueueConfig> {
    return (await this.load(false)).config;
  }

  /** PUT semantics: fields given are changed, others keep their value. */
  async configure(patch: QueueConfigPatch): Promise<QueueConfig> {
    const parsed = parseInput(queueConfigPatchSchema, patch);
    for (let attempt = 0; ; attempt++) {
      const current = await this.load(false, true);
      const next = applyConfigPatch(current.config, parsed, current.exists);
      const values = new ExpressionValues();
      const condition = current.exists ? `ver = ${values.add(num(current.version))}` : 'attribute_not_exists(pk)';
      try {
        await this.deps.dynamodb.send(
          new PutItemCommand({
            TableName: this.deps.tableName,
            Item: this.configItem(next, current.version + 1),
            ConditionExpression: condition,
            ExpressionAttributeValues: values.attributeValues,
          }),
        );
        this.loaded = undefined;
        return next;
      } catch (error) {
        if (!isConditionalCheckFailed(error) || attempt >= 5) throw error;
      }
    }
  }

  private configItem(config: QueueConfig, version: number): Item {
    return {
      ...Keys.config(this.name),
      mrc: num(config.maxReceiveCount),
      vt: num(config.visibilityTimeoutSeconds),
      fifo: { BOOL: config.fifo },
      sh: num(config.shards),
      dw: num(config.dedupWindowSeconds),
      ver: num(version),
    };
  }

  /**
   * @param create a queue exists on first use: senders and receivers store the defaults, so that a
   *   later PUT cannot flip `fifo` under messages already written.
   */
  private async load(create: boolean, fresh = false): Promise<LoadedConfig> {
    const now = this.deps.clock.now();
    if (!fresh && this.loaded && now - this.loaded.fetchedAt < this.deps.configCacheMs && (this.loaded.exists || !create)) {
      return this.loaded;
    }
    const { Item: item } = await this.deps.dynamodb.send(
      new GetItemCommand({ TableName: this.deps.tableName, Key: Keys.config(this.name), ConsistentRead: true }),
    );
    if (!item && create) {
      try {
        await this.deps.dynamodb.send(
          new PutItemCommand({
            TableName: this.deps.tableName,
            Item: this.configItem(QueueDefaults, 1),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      return this.load(false, true);
    }
    const config = resolveConfig(
      item
        ? {
            maxReceiveCount: readNumber(item, 'mrc') ?? QueueDefaults.maxReceiveCount,
            visibilityTimeoutSeconds: readNumber(item, 'vt') ?? QueueDefaults.visibilityTimeoutSeconds,
            fifo: item.fifo?.BOOL ?? QueueDefaults.fifo,
            shards: readNumber(item, 'sh') ?? QueueDefaults.shards,
            dedupWindowSeconds: readNumber(item, 'dw') ?? QueueDefaults.dedupWindowSeconds,
          }
        : undefined,
    );
    const ring = this.loaded?.config.shards === config.shards ? this.loaded.ring : new HashRing(config.shards);
    this.loaded = { config, exists: item !== undefined, version: readNumber(item, 'ver') ?? 0, ring, fetchedAt: now };
    return this.loaded;
  }

  // ---------------------------------------------------------------------------------------------
  // Send

  async send(input: SendInput): Promise<SendResult> {
    const message = parseInput(sendInputSchema, input);
    const loaded = await this.load(true);
    this.checkFifoFields(message, loaded.config, '');
    return loaded.config.fifo ? this.sendFifo(message, loaded) : this.sendStandard(message, loaded);
  }

  /**
   * Sends up to 10 messages; each succeeds or fails on its own, as SQS's SendMessageBatch. On a
   * standard queue the messages without a dedup id are stored by one BatchWriteItem.
   */
  async sendBatch(inputs: readonly SendInput[]): Promise<BatchSendResult[]> {
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > QueueLimits.maxBatch) {
      throw new ValidationError('messages', `must hold 1..${QueueLimits.maxBatch} messages`);
    }
    const loaded = await this.load(true);
    if (loaded.config.fifo) {
      // Same-group messages must be appended in order: one at a time per group, groups in parallel.
      const byGroup = new Map<string, number[]>();
      inputs.forEach((m, i) => {
        byGroup.set(m.groupId ?? '', [...(byGroup.get(m.groupId ?? '') ?? []), i]);
      });
      const results: BatchSendResult[] = new Array(inputs.length);
      await Promise.all(
        [...byGroup.values()].map(async (indexes) => {
          for (const i of indexes) results[i] = await this.settle(() => this.send(inputs[i] as SendInput));
        }),
      );
      return results;
    }
    const results: BatchSendResult[] = new Array(inputs.length);
    const plain: Array<{ readonly index: number; readonly message: NewMessage }> = [];
    const now = this.deps.clock.now();
    await Promise.all(
      inputs.map(async (input, index) => {
        try {
          const message = parseInput(sendInputSchema, input);
          if (message.dedupId !== undefined) results[index] = { ok: true, ...(await this.sendStandard(message, loaded)) };
          else plain.push({ index, message: await this.standardPut(message, loaded, now) });
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
   * Stores new standard messages with one BatchWriteItem instead of a PutItem each: the same write
   * units (each put in a batch is billed as a PutItem), a tenth of the requests. A put in a batch
   * carries no condition, so Q3 rests on two facts: every key holds a fresh random id, so a put can
   * only ever meet itself; and no attempt that may have applied is repeated (withoutBlindRetries).
   * Unprocessed items were not applied (DynamoDB says so): they are sent again after a backoff.
   */
  private async putNewMessages(messages: readonly NewMessage[]): Promise<BatchSendResult[]> {
    const outcomes = new Map<NewMessage, BatchSendResult>();
    let pending = messages;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        const { UnprocessedItems } = await this.deps.dynamodb.send(
          withoutBlindRetries(
            new BatchWriteItemCommand({ RequestItems: { [this.deps.tableName]: pending.map((m) => ({ PutRequest: { Item: m.item } })) } }),
          ),
          {}, // options: never the cached handler (see withoutBlindRetries)
        );
        const unprocessed = new Set((UnprocessedItems?.[this.deps.tableName] ?? []).map((r) => skOf(r.PutRequest?.Item ?? {})));
        for (const m of pending) if (!unprocessed.has(skOf(m.item))) outcomes.set(m, { ok: true, messageId: m.id, duplicate: false });
        pending = pending.filter((m) => unprocessed.has(skOf(m.item)));
        if (pending.length === 0) break;
        if (attempt >= UNPROCESSED_ATTEMPTS) {
          const error = Object.assign(new Error(`DynamoDB left the message unprocessed ${attempt} times (throttled); it was not stored`), {
            name: 'UnprocessedItem',
            $retryable: { throttling: true },
          });
          for (const m of pending) outcomes.set(m, { ok: false, error });
          break;
        }
        await this.deps.sleep(fullJitterBackoffMs(attempt, this.deps.entropy.unit(), { baseMs: 50, capMs: 2_000 }));
      } catch (error) {
        await Promise.all(pending.map(async (m) => outcomes.set(m, await this.settle(() => this.settleUnsurePut(m, error)))));
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
      stored = await this.isStored(Keys.key(pkOf(message.item), skOf(message.item)));
    } catch (readError) {
      // Still unknown. Reported as a throttle or a fault, it would invite a resend: a duplicate.
      throw new SendOutcomeUnknown(
        message.id,
        `${failure}; reading it back failed too: ${(readError as Error)?.message ?? String(readError)}`,
      );
    }
    if (stored) return { messageId: message.id, duplicate: false };
    throw new SendOutcomeUnknown(message.id, failure);
  }

  private async settle(fn: () => Promise<SendResult>): Promise<BatchSendResult> {
    try {
      return { ok: true, ...(await fn()) };
    } catch (error) {
      return { ok: false, error: error as Error };
    }
  }

  private checkFifoFields(message: SendInput, config: QueueConfig, path: string): void {
    if (!config.fifo) return;
    if (message.groupId === undefined) throw new ValidationError(`${path}groupId`, 'is required on a FIFO queue');
    if (message.delaySeconds) {
      throw new ValidationError(`${path}delaySeconds`, 'per-message delays are not supported on a FIFO queue (as in SQS)');
    }
  }

  /**
   * A ClientRequestToken: the SDK resends it unchanged on retries (so a replayed transaction is a
   * no-op on AWS for 10 minutes, Q3), and it is fresh per call, as AWS rejects a token reused with a
   * different payload.
   */
  private requestToken(): string {
    return bytesToBase64Url(this.deps.entropy.bytes(16));
  }

  private newMessageId(): string {
    return bytesToBase64Url(this.deps.entropy.bytes(16));
  }

  private async standardPut(message: SendInput, loaded: LoadedConfig, now: number): Promise<NewMessage> {
    const id = this.newMessageId();
    const availableAt = now + (message.delaySeconds ?? 0) * 1000;
    const shard = loaded.ring.ownerOf(message.groupId ?? id);
    const body = await this.deps.bodies.encode(message.body, this.name, id);
    const item: Item = {
      ...Keys.key(Keys.shardPk(this.name, shard), Keys.standardMessageSk(availableAt, id)),
      [Attr.visibleAt]: num(availableAt),
      [Attr.fence]: num(0),
      [Attr.receiveCount]: num(0),
      [Attr.sentAt]: num(now),
      ...(message.groupId !== undefined ? { [Attr.groupId]: str(message.groupId) } : {}),
      ...body.attributes,
    };
    return { id, item, ...(body.objectKey !== undefined ? { objectKey: body.objectKey } : {}) };
  }

  /** The put of a new message: the item must not exist (its id is fresh and random). */
  private putOfNew(item: Item): NonNullable<TransactWriteItem['Put']> {
    return { TableName: this.deps.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' };
  }

  /** The same, inside a transaction, which returns what it found if the condition fails. */
  private transactPutOfNew(item: Item): TransactWriteItem {
    return { Put: { ...this.putOfNew(item), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  }

  private dedupPut(dedupId: string, messageId: string, now: number, config: QueueConfig): TransactWriteItem {
    const expiresAt = now + config.dedupWindowSeconds * 1000;
    const values = new ExpressionValues();
    return {
      Put: {
        TableName: this.deps.tableName,
        Item: {
          ...Keys.dedup(this.name, dedupId),
          [Attr.messageId]: str(messageId),
          [Attr.dedupExpiresAt]: num(expiresAt),
          // DynamoDB TTL only cleans up (within days); the window itself is enforced by `exp`.
          [Attr.ttl]: num(Math.ceil(expiresAt / 1000) + 3600),
        },
        ConditionExpression: `attribute_not_exists(pk) OR ${Attr.dedupExpiresAt} < ${values.add(num(now))}`,
        ExpressionAttributeValues: values.attributeValues,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private async sendStandard(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    const now = this.deps.clock.now();
    const created = await this.standardPut(message, loaded, now);
    const { id, objectKey } = created;
    if (message.dedupId === undefined) {
      try {
        // Q3: never repeated blindly. Between an attempt that applied and its retry, a consumer
        // could lease and ack the message, and the retried put would store it again (Q1).
        await this.deps.dynamodb.send(withoutBlindRetries(new PutItemCommand(this.putOfNew(created.item))), {});
      } catch (error) {
        return this.settleUnsurePut(created, error);
      }
      return { messageId: id, duplicate: false };
    }
    const dedup = this.dedupPut(message.dedupId, id, now, loaded.config);
    const put = this.transactPutOfNew(created.item);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.dynamodb.send(
          new TransactWriteItemsCommand({ TransactItems: [dedup, put], ClientRequestToken: `${id}.${attempt}` }),
        );
        return { messageId: id, duplicate: false };
      } catch (error) {
        const outcome = this.dedupOutcome(error, 0, id);
        if (outcome) {
          if (outcome.duplicate) await this.deps.bodies.releaseKey(objectKey);
          return outcome;
        }
        if (!isTransactionConflict(error) || attempt >= 5) throw error;
        await this.deps.sleep(fullJitterBackoffMs(attempt + 1, this.deps.entropy.unit(), { baseMs: 20, capMs: 500 }));
      }
    }
  }

  private async isStored(key: Item): Promise<boolean> {
    const { Item: item } = await this.deps.dynamodb.send(
      new GetItemCommand({ TableName: this.deps.tableName, Key: key, ConsistentRead: true, ProjectionExpression: Attr.pk }),
    );
    return item !== undefined;
  }

  /** Reads a canceled transaction's dedup action: a duplicate, or our own earlier attempt (Q3, Q5). */
  private dedupOutcome(error: unknown, dedupIndex: number, id: string): SendResult | undefined {
    const reason = cancellationReasons(error)[dedupIndex];
    if (reason?.Code !== 'ConditionalCheckFailed') return undefined;
    const existing = readString(reason.Item, Attr.messageId);
    if (existing === undefined) return undefined;
    return existing === id ? { messageId: id, duplicate: false } : { messageId: existing, duplicate: true };
  }

  private async sendFifo(message: SendInput, loaded: LoadedConfig): Promise<SendResult> {
    const messageId = this.newMessageId();
    const body = await this.deps.bodies.encode(message.body, this.name, messageId);
    const result = await this.appendToGroup({
      loaded,
      groupId: message.groupId as string,
      messageId,
      body: body.attributes,
      fenceFloor: 0,
      ...(message.dedupId !== undefined ? { dedupId: message.dedupId } : {}),
    });
    if (!result) throw new Error('invariant broken: a send has no companion action whose condition could fail');
    if (result.duplicate) await this.deps.bodies.releaseKey(body.objectKey);
    return result;
  }

  /**
   * Appends one message to a FIFO group: the group item's tail is the next sequence number, and the
   * message put and the tail increment commit together (with `alongside`, the redrive's delete from
   * the DLQ), so sequence numbers have no gaps and the head pointer always names a stored message
   * (Q4). Returns undefined when the condition of `alongside` failed (nothing was appended).
   *
   * Q3: each attempt has its own ClientRequestToken, resent unchanged by the SDK's retries; where a
   * token is ignored, a retry that finds our own message at its sequence number knows it applied.
   */
  private async appendToGroup(append: {
    readonly loaded: LoadedConfig;
    readonly groupId: string;
    readonly messageId: string;
    /** The body's attributes (BodyStore.encode, or copied from a dead letter). */
    readonly body: Item;
    readonly dedupId?: string;
    /** The message was delivered with fences up to this one already (a redrive): Q2 across redrives. */
    readonly fenceFloor: number;
    /** @default the clock now */
    readonly sentAt?: number;
    readonly alongside?: TransactWriteItem;
  }): Promise<SendResult | undefined> {
    const { loaded, groupId, messageId, dedupId, fenceFloor } = append;
    const pk = Keys.shardPk(this.name, loaded.ring.ownerOf(groupId));
    const tailKey = `${pk}\u0000${groupId}`;
    const tokenPrefix = this.requestToken();
    for (let attempt = 0; attempt < FIFO_SEND_ATTEMPTS; attempt++) {
      const now = this.deps.clock.now();
      const tail = this.groupTails.get(tailKey);
      const seq = tail ?? 0;
      const items: TransactWriteItem[] = [];
      if (dedupId !== undefined) items.push(this.dedupPut(dedupId, messageId, now, loaded.config));
      const groupIndex = items.length;
      items.push(this.fifoGroupAppend(pk, groupId, tail, 1, now, fenceFloor));
      items.push(this.fifoMessagePut(pk, groupId, seq, messageId, append.sentAt ?? now, append.body, fenceFloor));
      if (append.alongside) items.push(append.alongside);
      try {
        await this.deps.dynamodb.send(
          new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: `${tokenPrefix}.${attempt}` }),
        );
        this.rememberTail(tailKey, seq + 1);
        return { messageId, duplicate: false };
      } catch (error) {
        if (!isTransactionCanceled(error)) throw error;
        const reasons = cancellationReasons(error);
        if (readString(reasons[groupIndex + 1]?.Item, Attr.messageId) === messageId) {
          this.rememberTail(tailKey, seq + 1);
          return { messageId, duplicate: false }; // Q3: our earlier attempt applied
        }
        if (dedupId !== undefined) {
          const outcome = this.dedupOutcome(error, 0, messageId);
          if (outcome) return outcome;
        }
        if (append.alongside && reasons[groupIndex + 2]?.Code === 'ConditionalCheckFailed') return undefined;
        const group = reasons[groupIndex];
        if (group?.Code === 'ConditionalCheckFailed') {
          // Our idea of the tail was stale: the failure carries the group as it is now.
          const current = readNumber(group.Item, Attr.tail);
          if (current === undefined) this.groupTails.delete(tailKey);
          else this.rememberTail(tailKey, current);
          continue;
        }
        if (!isTransactionConflict(error)) throw error;
        await this.deps.sleep(fullJitterBackoffMs(attempt + 1, this.deps.entropy.unit(), { baseMs: 10, capMs: 200 }));
      }
    }
    throw new Error(`could not append to FIFO group ${JSON.stringify(groupId)} after ${FIFO_SEND_ATTEMPTS} attempts (contention)`);
  }

  private rememberTail(key: string, tail: number): void {
    this.groupTails.delete(key);
    this.groupTails.set(key, tail);
    if (this.groupTails.size > 10_000) {
      const oldest = this.groupTails.keys().next().value;
      if (oldest !== undefined) this.groupTails.delete(oldest);
    }
  }

  /** Creates the group (tail unknown) or moves its tail from `tail` to `tail + count`. */
  private fifoGroupAppend(
    pk: string,
    groupId: string,
    tail: number | undefined,
    count: number,
    now: number,
    fenceFloor: number,
  ): TransactWriteItem {
    const key = Keys.key(pk, Keys.groupSk(groupId));
    if (tail === undefined) {
      return {
        Put: {
          TableName: this.deps.tableName,
          Item: {
            ...key,
            [Attr.head]: num(0),
            [Attr.tail]: num(count),
            [Attr.visibleAt]: num(now),
            [Attr.fence]: num(fenceFloor),
            [Attr.receiveCount]: num(0),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    }
    const values = new ExpressionValues();
    return {
      Update: {
        TableName: this.deps.tableName,
        Key: key,
        UpdateExpression: `SET ${Attr.tail} = ${values.add(num(tail + count))}`,
        ConditionExpression: `${Attr.tail} = ${values.add(num(tail))}`,
        ExpressionAttributeValues: values.attributeValues,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private fifoMessagePut(
    pk: string,
    groupId: string,
    seq: number,
    id: string,
    now: number,
    body: Item,
    fenceFloor: number,
  ): TransactWriteItem {
    return {
      Put: {
        TableName: this.deps.tableName,
        Item: {
          ...Keys.key(pk, Keys.fifoMessageSk(groupId, seq)),
          [Attr.messageId]: str(id),
          [Attr.groupId]: str(groupId),
          [Attr.sentAt]: num(now),
          ...(fenceFloor > 0 ? { [Attr.fenceFloor]: num(fenceFloor) } : {}),
          ...body,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Transactional outbox (Q7)

  /**
   * The write actions that enqueue `messages` when included in the caller's own
   * TransactWriteItems: the messages exist iff that transaction commits. Bodies over the item
   * budget are uploaded to S3 now (an aborted transaction leaves an orphan object for the bucket's
   * lifecycle rule). On a FIFO queue the group tails are read now and the actions are conditional
   * on them: if another sender appends first the transaction is canceled and should be retried
   * with a fresh batch. `explainOutboxCancellation` tells the two outbox causes of a cancellation
   * (a duplicate dedup id, a FIFO tail conflict) apart from the caller's own.
   */
  async prepareOutbox(messages: readonly SendInput[]): Promise<OutboxBatch> {
    // 25 messages with dedup ids and FIFO groups use at most 75 of a transaction's 100 actions.
    if (!Array.isArray(messages) || messages.length === 0 || messages.length > 25) {
      throw new ValidationError('messages', 'must hold 1..25 messages');
    }
    const parsed = messages.map((m, i) => parseInput(sendInputSchema, m, `messages.${i}`));
    const loaded = await this.load(true);
    parsed.forEach((m, i) => {
      this.checkFifoFields(m, loaded.config, `messages.${i}.`);
    });
    const now = this.deps.clock.now();
    const ids: string[] = [];
    const items: TransactWriteItem[] = [];
    if (!loaded.config.fifo) {
      for (const m of parsed) {
        const { id, item } = await this.standardPut(m, loaded, now);
        ids.push(id);
        if (m.dedupId !== undefined) items.push(this.dedupPut(m.dedupId, id, now, loaded.config));
        items.push(this.transactPutOfNew(item));
      }
      return { messageIds: ids, transactItems: items };
    }
    const groups = new Map<string, SendInput[]>();
    for (const m of parsed) groups.set(m.groupId as string, [...(groups.get(m.groupId as string) ?? []), m]);
    const idOf = new Map<SendInput, string>();
    for (const [groupId, groupMessages] of groups) {
      const pk = Keys.shardPk(this.name, loaded.ring.ownerOf(groupId));
      const { Item: group } = await this.deps.dynamodb.send(
        new GetItemCommand({ TableName: this.deps.tableName, Key: Keys.key(pk, Keys.groupSk(groupId)), ConsistentRead: true }),
      );
      const tail = readNumber(group, Attr.tail);
      items.push(this.fifoGroupAppend(pk, groupId, tail, groupMessages.length, now, 0));
      let seq = tail ?? 0;
      for (const m of groupMessages) {
        const id = this.newMessageId();
        idOf.set(m, id);
        const body = await this.deps.bodies.encode(m.body, this.name, id);
        if (m.dedupId !== undefined) items.push(this.dedupPut(m.dedupId, id, now, loaded.config));
        items.push(this.fifoMessagePut(pk, groupId, seq++, id, now, body.attributes, 0));
      }
    }
    return { messageIds: parsed.map((m) => idOf.get(m) as string), transactItems: items };
  }

  // ---------------------------------------------------------------------------------------------
  // Receive

  async receive(input: ReceiveInput = {}): Promise<ReceivedMessage[]> {
    return this.receiveUntil(input);
  }

  /**
   * `receive`, whose long poll also ends (with what it has, nothing) as soon as `stop()` says so
   * (checked every STOP_CHECK_MS; without `stop`, each wait between polls is one sleep).
   */
  private async receiveUntil(input: ReceiveInput, stop?: () => boolean): Promise<ReceivedMessage[]> {
    const options = parseInput(receiveInputSchema, input);
    const loaded = await this.load(true);
    const max = options.max ?? 1;
    const visibilityMs = (options.visibilityTimeoutSeconds ?? loaded.config.visibilityTimeoutSeconds) * 1000;
    const waitMs = (options.waitSeconds ?? 0) * 1000;
    const deadline = this.deps.clock.now() + waitMs;
    let rescans = 0;
    for (let poll = 0; ; poll++) {
      // A short poll looks at every shard; a long poll may skip backed-off shards from the start,
      // since it waits for them anyway (their backoff ends within the wait).
      const { received, deadLettered } = await this.sweep(loaded, max, visibilityMs, poll > 0 || waitMs > 0);
      if (received.length > 0) return received;
      // Dead-lettering may have unblocked a FIFO group or freed the head of a shard: look again now.
      if (deadLettered > 0 && rescans++ < 5) continue;
      const pollAgainAt = Math.min(deadline, this.deps.clock.now() + Math.min(POLL_MAX_MS, POLL_MIN_MS * 2 ** poll));
      const stopped = () => stop?.() === true;
      for (let now = this.deps.clock.now(); now < pollAgainAt; now = this.deps.clock.now()) {
        if (stopped()) return received;
        await this.deps.sleep(stop ? Math.min(pollAgainAt - now, STOP_CHECK_MS) : pollAgainAt - now);
      }
      if (this.deps.clock.now() >= deadline || stopped()) return received;
    }
  }

  /**
   * Visits shards until `max` messages are leased: the preferred shard first, then the others from
   * this receiver's own starting point, skipping (when asked) shards recently found empty or
   * contended, which bounds what an idle, long-polling receiver costs.
   */
  private async sweep(
    loaded: LoadedConfig,
    max: number,
    visibilityMs: number,
    skipBackedOff: boolean,
  ): Promise<{ received: ReceivedMessage[]; deadLettered: number }> {
    const shards = loaded.config.shards;
    const start = this.shardRotation % shards;
    const order = Array.from({ length: shards }, (_, i) => (start + i) % shards);
    if (this.preferredShard !== undefined && this.preferredShard < shards) {
      order.splice(order.indexOf(this.preferredShard), 1);
      order.unshift(this.preferredShard);
    }
    const received: ReceivedMessage[] = [];
    let deadLettered = 0;
    for (const shard of order) {
      if (received.length >= max) break;
      const now = this.deps.clock.now();
      const backedOff = this.emptyShards.get(shard);
      if (skipBackedOff && backedOff && backedOff.until > now) continue;
      let visit: ShardVisit;
      try {
        visit = await this.collectFromShard(loaded, shard, max - received.length, visibilityMs);
      } catch (error) {
        // Messages leased in earlier shards are this receive's to deliver: thrown away, they would
        // wait out their lease and come back with one receive counted toward the DLQ.
        if (received.length > 0) break;
        throw error;
      }
      received.push(...visit.received);
      deadLettered += visit.deadLettered;
      // Back off from a shard that had nothing ready, or where another receiver won a race: the
      // receivers of a queue drift apart until each reads mostly its own shards (soft ownership).
      if (visit.lostRaces > 0) this.lastLostRace.set(shard, now);
      if (visit.candidates === 0 || visit.lostRaces > 0) {
        const backoffMs = Math.min(this.deps.maxEmptyShardBackoffMs, backedOff ? backedOff.backoffMs * 2 : EMPTY_SHARD_BACKOFF_START_MS);
        this.emptyShards.set(shard, { until: now + backoffMs, backoffMs });
        if (this.preferredShard === shard) this.preferredShard = undefined;
      } else {
        this.emptyShards.delete(shard);
        if (visit.received.length > 0) this.preferredShard = shard;
      }
    }
    return { received, deadLettered };
  }

  private recentlyContended(shard: number, now: number): boolean {
    const lost = this.lastLostRace.get(shard);
    return lost !== undefined && now - lost < CONTENTION_MEMORY_MS;
  }

  /** True when this receiver lost a lease race in any shard lately: other receivers share its shards. */
  private contendedAnywhere(now: number): boolean {
    for (const lost of this.lastLostRace.values()) if (now - lost < CONTENTION_MEMORY_MS) return true;
    return false;
  }

  private async collectFromShard(loaded: LoadedConfig, shard: number, need: number, visibilityMs: number): Promise<ShardVisit> {
    // Overlapping receives of this instance read a shard one after another: the second starts
    // from the cursor the first moved past its candidates, instead of reading them again.
    for (let reading = this.shardReads.get(shard); reading; reading = this.shardReads.get(shard)) {
      await reading.catch(() => undefined);
    }
    const now = this.deps.clock.now();
    const fifo = loaded.config.fifo;
    // FIFO reads from the head every time: a group acked a moment ago is ready again at the same key.
    const cursor = fifo ? undefined : this.cursors.get(shard);
    const fromHead = cursor?.startKey === undefined || now - cursor.headScannedAt >= this.deps.headRescanMs;
    let startKey = fromHead ? undefined : cursor?.startKey;
    const headScannedAt = fromHead ? now : (cursor?.headScannedAt ?? now);
    const received: ReceivedMessage[] = [];
    const failures: unknown[] = [];
    let deadLettered = 0;
    let candidates = 0;
    let lostRaces = 0;
    let scanned = 0;
    for (let page = 0; page < MAX_PAGES_PER_SHARD && received.length < need && scanned < MAX_SCANNED_PER_VISIT; page++) {
      const wanted = need - received.length;
      // Limit counts the items a filter drops (in flight, not yet visible): the first page asks for
      // what is needed, later pages read further to get past a head of unavailable messages.
      const limit = page === 0 ? wanted : Math.min(100, wanted * 5);
      const reading = this.queryCandidates(loaded.config, shard, startKey, limit, now);
      this.shardReads.set(shard, reading);
      let result: QueryCommandOutput;
      try {
        result = await reading;
      } catch (error) {
        if (received.length > 0) break; // deliver what earlier pages leased (see sweep)
        throw error;
      } finally {
        if (this.shardReads.get(shard) === reading) this.shardReads.delete(shard);
      }
      const items = result.Items ?? [];
      scanned += result.ScannedCount ?? items.length;
      candidates += items.length;
      const deliver = (item: Item): Promise<DeliveryOutcome> =>
        this.deliver(loaded.config, shard, item, now, visibilityMs).catch((error: unknown) => {
          failures.push(error);
          return 'lost';
        });
      // Candidates another receive of this instance is leasing are left to it.
      const mine = items.filter((item) => !this.leasing.has(candidateKey(item))).slice(0, wanted);
      // Resume after the last item used; candidates read but not needed are read again next time.
      // The cursor moves before the leases, so that an overlapping receive reads on from here.
      const lastTaken = Math.max(wanted - 1, mine.length > 0 ? items.indexOf(mine[mine.length - 1] as Item) : -1);
      const used = items.length > lastTaken + 1 ? items[lastTaken] : undefined;
      const endOfRange = !used && !result.LastEvaluatedKey;
      if (used) {
        startKey = Keys.key(pkOf(used), skOf(used));
      } else if (result.LastEvaluatedKey) {
        startKey = result.LastEvaluatedKey;
      } else {
        // End of the ready range: stay here; newer messages sort after this key.
        const last = items.at(-1);
        startKey = last ? Keys.key(pkOf(last), skOf(last)) : startKey;
      }
      if (!fifo) this.cursors.set(shard, { startKey, headScannedAt });
      for (const item of mine) this.leasing.add(candidateKey(item));
      const outcomes: DeliveryOutcome[] = [];
      try {
        const [first, ...rest] = mine;
        if (first && this.recentlyContended(shard, now)) {
          // Another receiver works this shard: lease the first candidate alone. If it lost, the other
          // receiver is most likely taking the rest of the page too: one failed write, not ten.
          outcomes.push(await deliver(first));
          if (outcomes[0] !== 'lost') outcomes.push(...(await Promise.all(rest.map(deliver))));
        } else if (first) {
          outcomes.push(...(await Promise.all([first, ...rest].map(deliver))));
        }
      } finally {
        for (const item of mine) this.leasing.delete(candidateKey(item));
      }
      for (const outcome of outcomes) {
        if (outcome === 'dead-lettered') deadLettered++;
        else if (outcome === 'lost') lostRaces++;
        else if (outcome !== 'skipped') received.push(outcome);
      }
      if ((lostRaces > 0 && received.length === 0) || endOfRange) break;
    }
    // Failures (a body that would not load from S3, say) gave their leases back; surface them only
    // when nothing could be delivered, so one bad message does not hide the good ones.
    if (received.length === 0 && failures.length > 0) throw failures[0];
    return { received, deadLettered, candidates, lostRaces };
  }

  private queryCandidates(
    config: QueueConfig,
    shard: number,
    startKey: Item | undefined,
    limit: number,
    now: number,
  ): Promise<QueryCommandOutput> {
    const values = new ExpressionValues();
    const pk = values.add(str(Keys.shardPk(this.name, shard)));
    const keyCondition = config.fifo
      ? `pk = ${pk} AND begins_with(sk, ${values.add(str(Keys.groupPrefix))})`
      : `pk = ${pk} AND sk BETWEEN ${values.add(str(Keys.standardLowest))} AND ${values.add(str(Keys.standardAvailableUpTo(now)))}`;
    const nowValue = values.add(num(now));
    // A hint only: the lease's conditional write is the guard.
    const filter = config.fifo ? `${Attr.visibleAt} <= ${nowValue} AND ${Attr.head} < ${Attr.tail}` : `${Attr.visibleAt} <= ${nowValue}`;
    return this.deps.dynamodb.send(
      new QueryCommand({
        TableName: this.deps.tableName,
        KeyConditionExpression: keyCondition,
        FilterExpression: filter,
        ExpressionAttributeValues: values.attributeValues,
        ExclusiveStartKey: startKey,
        Limit: limit,
        ConsistentRead: this.deps.consistentReceive,
      }),
    );
  }

  /** Leases (or dead-letters) one candidate found by a query. */
  private async deliver(config: QueueConfig, shard: number, candidate: Item, now: number, visibilityMs: number): Promise<DeliveryOutcome> {
    const state = deliveryStateOf(candidate) as DeliveryState;
    const decision = decideDelivery(state, now, config.maxReceiveCount);
    if (decision === DeliveryDecision.NotVisible) return 'skipped';
    if (decision === DeliveryDecision.DeadLetter) {
      return (await this.deadLetterFromReceive(config, candidate, state, now)) ? 'dead-lettered' : 'lost';
    }
    const token = newLeaseToken(this.deps.entropy.bytes(LEASE_TOKEN_BYTES));
    const guard: Guard = { kind: 'can-lease', now, maxReceiveCount: config.maxReceiveCount };
    const leased = await this.conditionalLease(candidate, guard, token, now + visibilityMs, config.fifo);
    if (!leased) return 'lost';
    try {
      return await (config.fifo
        ? this.completeFifoDelivery(shard, candidate, leased, token, now + visibilityMs)
        : this.completeStandardDelivery(shard, candidate, leased, token, now + visibilityMs));
    } catch (error) {
      // Leased but not deliverable: give the lease back uncounted, so that a passing failure does
      // not push the message toward the DLQ, and the caller's other messages still go out.
      await this.releaseLease(candidate, token).catch(() => undefined);
      throw error;
    }
  }

  private async releaseLease(candidate: Item, token: string): Promise<void> {
    const values = new ExpressionValues();
    await this.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.deps.tableName,
        Key: Keys.key(pkOf(candidate), skOf(candidate)),
        UpdateExpression: `SET ${Attr.visibleAt} = ${values.add(num(this.deps.clock.now()))} REMOVE ${Attr.leaseToken} ADD ${Attr.receiveCount} ${values.add(num(-1))}`,
        ConditionExpression: `${Attr.leaseToken} = ${values.add(str(token))}`,
        ExpressionAttributeValues: values.attributeValues,
      }),
    );
  }

  /**
   * One conditional UpdateItem: the lease. Returns the leased attributes (fence, receive count; for
   * a FIFO group the whole small item, for its head and tail), or undefined if another receiver won.
   */
  private async conditionalLease(
    candidate: Item,
    guard: Guard,
    token: string,
    leaseUntil: number,
    fifo: boolean,
  ): Promise<Item | undefined> {
    const values = new ExpressionValues();
    const condition = guardCondition(guard, values);
    try {
      const { Attributes } = await this.deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.deps.tableName,
          Key: Keys.key(pkOf(candidate), skOf(candidate)),
          UpdateExpression: `SET ${Attr.visibleAt} = ${values.add(num(leaseUntil))}, ${Attr.leaseToken} = ${values.add(str(token))} ADD ${Attr.fence} ${values.add(num(1))}, ${Attr.receiveCount} ${values.add(num(1))}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values.attributeValues,
          ReturnValues: fifo ? 'ALL_NEW' : 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return Attributes;
    } catch (error) {
      // A concurrent transaction on the item (a FIFO append, a dead-lettering) won: not applied.
      if (isTransactionConflictException(error)) return undefined;
      if (!isConditionalCheckFailed(error)) throw error;
      // Q3: a retried lease whose first attempt applied finds its own token.
      return leaseAppliedEarlier(token, deliveryStateOf(error.Item)) ? error.Item : undefined;
    }
  }

  private async completeStandardDelivery(
    shard: number,
    candidate: Item,
    leased: Item,
    token: string,
    leaseUntil: number,
  ): Promise<ReceivedMessage> {
    const sk = skOf(candidate);
    const messageId = messageIdFromStandardSk(sk);
    const fence = readNumber(leased, Attr.fence) as number;
    const receiveCount = readNumber(leased, Attr.receiveCount) as number;
    const groupId = readString(candidate, Attr.groupId);
    return {
      messageId,
      body: await this.deps.bodies.decode(candidate),
      receipt: encodeReceipt({
        queue: this.name,
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
  }

  private async completeFifoDelivery(
    shard: number,
    group: Item,
    leased: Item,
    token: string,
    leaseUntil: number,
  ): Promise<ReceivedMessage> {
    const pk = pkOf(group);
    const groupSk = skOf(group);
    const groupId = groupSk.slice(Keys.groupPrefix.length);
    const seq = readNumber(leased, Attr.head) as number;
    const message = await this.fifoMessage(pk, groupId, seq);
    if (!message) {
      throw new Error(`invariant broken: FIFO group ${JSON.stringify(groupId)} points at missing message ${seq}`);
    }
    let fence = readNumber(leased, Attr.fence) as number;
    const floor = readNumber(message, Attr.fenceFloor) ?? 0;
    if (fence <= floor) fence = await this.raiseGroupFence(pk, groupSk, token, floor + 1);
    const messageId = readString(message, Attr.messageId) as string;
    const receiveCount = readNumber(leased, Attr.receiveCount) as number;
    return {
      messageId,
      body: await this.deps.bodies.decode(message),
      receipt: encodeReceipt({
        queue: this.name,
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
  }

  /**
   * A redriven FIFO message may join a group whose fence is below the fences the message was
   * already delivered with; fences must keep growing per message (Q2), so lift the group's.
   */
  private async raiseGroupFence(pk: string, groupSk: string, token: string, fence: number): Promise<number> {
    const values = new ExpressionValues();
    await this.deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.deps.tableName,
        Key: Keys.key(pk, groupSk),
        UpdateExpression: `SET ${Attr.fence} = ${values.add(num(fence))}`,
        ConditionExpression: `${Attr.leaseToken} = ${values.add(str(token))}`,
        ExpressionAttributeValues: values.attributeValues,
      }),
    );
    return fence;
  }

  private async fifoMessage(pk: string, groupId: string, seq: number): Promise<Item | undefined> {
    const { Item: item } = await this.deps.dynamodb.send(
      new GetItemCommand({ TableName: this.deps.tableName, Key: Keys.key(pk, Keys.fifoMessageSk(groupId, seq)), ConsistentRead: true }),
    );
    return item;
  }

  // ---------------------------------------------------------------------------------------------
  // Dead-lettering (Q6): the delete from the queue and the put into the DLQ commit together.

  private deadLetterPut(source: Item, messageId: string, state: DeliveryState, now: number, reason: string): TransactWriteItem {
    const body: Item = {};
    for (const name of [Attr.bodyText, Attr.bodyDeflated, Attr.bodyObject, Attr.bodyObjectDeflated, Attr.groupId, Attr.sentAt]) {
      const value = source[name];
      if (value) body[name] = value;
    }
    return {
      Put: {
        TableName: this.deps.tableName,
        Item: {
          ...Keys.key(Keys.deadLetterPk(this.name), Keys.deadLetterSk(now, messageId)),
          ...body,
          [Attr.messageId]: str(messageId),
          [Attr.receiveCount]: num(state.receiveCount),
          [Attr.fence]: num(state.fence),
          [Attr.deadLetteredAt]: num(now),
          [Attr.deadLetterReason]: str(reason),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private async deadLetterFromReceive(config: QueueConfig, candidate: Item, state: DeliveryState, now: number): Promise<boolean> {
    const guard: Guard = { kind: 'exhausted', now, maxReceiveCount: config.maxReceiveCount, fence: state.fence };
    const seq = config.fifo ? (readNumber(candidate, Attr.head) as number) : undefined;
    return this.deadLetter(candidate, seq, state, guard, now, DeadLetterReason.MaxReceiveCount);
  }

  /**
   * Q6: moves the message behind `holder` to the DLQ in one transaction, under `guard`. `holder` is
   * a standard message, or (with `seq`) a FIFO group whose head is message `seq`: the group
   * advances and the message goes. False when another actor got there first.
   */
  private async deadLetter(
    holder: Item,
    seq: number | undefined,
    state: DeliveryState,
    guard: Guard,
    now: number,
    reason: string,
  ): Promise<boolean> {
    if (seq === undefined) {
      const messageId = messageIdFromStandardSk(skOf(holder));
      return this.runDeadLetter([this.guardedDelete(holder, guard), this.deadLetterPut(holder, messageId, state, now, reason)], messageId);
    }
    const pk = pkOf(holder);
    const groupId = skOf(holder).slice(Keys.groupPrefix.length);
    const message = await this.fifoMessage(pk, groupId, seq);
    if (!message) return false;
    const messageId = readString(message, Attr.messageId) as string;
    return this.runDeadLetter(
      [
        this.fifoGroupAdvance(holder, guard, seq, readNumber(holder, Attr.tail) === seq + 1, now),
        { Delete: { TableName: this.deps.tableName, Key: Keys.key(pk, Keys.fifoMessageSk(groupId, seq)) } },
        this.deadLetterPut(message, messageId, state, now, reason),
      ],
      messageId,
    );
  }

  /** Runs a dead-letter transaction; false when another actor got there first. */
  private async runDeadLetter(items: TransactWriteItem[], messageId: string): Promise<boolean> {
    try {
      await this.deps.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: this.requestToken() }));
      return true;
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      // Q3 (emulators that ignore ClientRequestToken): our own earlier attempt left our DLQ item.
      const dlq = cancellationReasons(error).at(-1);
      return readString(dlq?.Item, Attr.messageId) === messageId;
    }
  }

  private guardedDelete(candidate: Item, guard: Guard): TransactWriteItem {
    const values = new ExpressionValues();
    return {
      Delete: {
        TableName: this.deps.tableName,
        Key: Keys.key(pkOf(candidate), skOf(candidate)),
        ConditionExpression: guardCondition(guard, values),
        ExpressionAttributeValues: values.attributeValues,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Moves a FIFO group past message `seq` (ack or dead-letter), or deletes the group when that was
   * its last message so empty groups never accumulate in the shard's ready range.
   */
  private fifoGroupAdvance(group: Item, guard: Guard, seq: number, last: boolean, now: number): TransactWriteItem {
    const values = new ExpressionValues();
    const key = Keys.key(pkOf(group), skOf(group));
    const condition = `${guardCondition(guard, values)} AND ${Attr.head} = ${values.add(num(seq))}`;
    if (last) {
      return {
        Delete: {
          TableName: this.deps.tableName,
          Key: key,
          ConditionExpression: `${condition} AND ${Attr.tail} = ${values.add(num(seq + 1))}`,
          ExpressionAttributeValues: values.attributeValues,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    }
    return {
      Update: {
        TableName: this.deps.tableName,
        Key: key,
        UpdateExpression: `SET ${Attr.head} = ${values.add(num(seq + 1))}, ${Attr.visibleAt} = ${values.add(num(now))}, ${Attr.receiveCount} = ${values.add(num(0))} REMOVE ${Attr.leaseToken}`,
        ConditionExpression: condition,
        ExpressionAttributeValues: values.attributeValues,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // A consumer loop

  /**
   * Runs `handler` on messages until `options.signal` aborts (or `options.until()` says stop),
   * with up to `concurrency` messages in hand at once (default 10). With a concurrency of 20 or
   * more, the next receive of 10 overlaps the processing of the previous batch. A message is acked when its handler resolves and nacked (with the
   * default backoff) when it throws; a LeaseLost on either is counted, never thrown: another
   * receiver holds the message now. Leases of slow handlers are extended every third of the
   * visibility timeout.
   */
  async consume(
    handler: (message: ReceivedMessage) => Promise<void>,
    options: {
      readonly concurrency?: number;
      readonly waitSeconds?: number;
      readonly visibilityTimeoutSeconds?: number;
      readonly signal?: AbortSignal;
      readonly until?: () => boolean;
      /** Return once a receive finds nothing and no message is in hand (a drain). */
      readonly stopWhenEmpty?: boolean;
      /** Told about each message whose lease was lost before its ack or nack. */
      readonly onLeaseLost?: (error: LeaseLost) => void;
    } = {},
  ): Promise<ConsumeStats> {
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1_000) {
      throw new ValidationError('concurrency', 'must be an integer in 1..1000');
    }
    const { config } = await this.load(true);
    const visibilitySeconds = options.visibilityTimeoutSeconds ?? config.visibilityTimeoutSeconds;
    const fifo = config.fifo;
    const stats = { acked: 0, nacked: 0, leaseLost: 0 };
    const inHand = new Set<Promise<void>>();
    let failure: { readonly error: unknown } | undefined;
    // A failure (a receive, or a nack that could not be written) stops the loop as a stop would:
    // what is in hand settles, a sibling long poll ends, and only then is the failure thrown.
    const stopped = () => failure !== undefined || options.signal?.aborted === true || options.until?.() === true;
    const settle = async (message: ReceivedMessage) => {
      let receipt = message.receipt;
      const heartbeat = setInterval(
        () => {
          this.extend(receipt, visibilitySeconds)
            .then((extended) => {
              receipt = extended.receipt;
            })
            .catch(() => undefined); // a lost lease surfaces at the ack
        },
        Math.max(1_000, (visibilitySeconds * 1000) / 3),
      );
      try {
        await handler(message);
        clearInterval(heartbeat);
        await this.ack(receipt);
        stats.acked++;
      } catch (error) {
        clearInterval(heartbeat);
        if (error instanceof LeaseLost) {
          stats.leaseLost++;
          options.onLeaseLost?.(error);
          return;
        }
        try {
          await this.nack(receipt);
          stats.nacked++;
        } catch (nackError) {
          if (!(nackError instanceof LeaseLost)) throw nackError;
          stats.leaseLost++;
        }
      }
    };
    // Receive only when a full batch fits (messages in hand plus those being received): a receive
    // costs a query whatever it returns. While receives come back full (a busy queue), a second
    // one overlaps the first, so that the table is read while the previous batch is still being
    // leased; an idle queue is polled by one receive at a time.
    const batchSize = Math.min(QueueLimits.maxBatch, concurrency);
    const receives = new Set<Promise<void>>();
    let busy = false;
    let drained = false;
    const room = () => concurrency - inHand.size - receives.size * batchSize;
    while (!stopped() && !drained) {
      // Overlap only without rivals: where other receivers share the shards, a second receive
      // mostly adds lease races (measured: 16 consumers, 0.21 failed writes per message → 0.32).
      // Never on a FIFO queue: it reads every shard from its head, so a second receive's query
      // can be answered from before the first one's leases applied, and lose races to its sibling.
      const mayReceive =
        receives.size === 0 ||
        (busy && !fifo && receives.size < MAX_OVERLAPPING_RECEIVES && !this.contendedAnywhere(this.deps.clock.now()));
      if (!mayReceive || room() < batchSize) {
        await Promise.race([...inHand, ...receives]);
        continue;
      }
      const receiving: Promise<void> = this.receiveUntil(
        { max: batchSize, waitSeconds: options.waitSeconds ?? 1, visibilityTimeoutSeconds: visibilitySeconds },
        stopped,
      )
        .then(
          (batch) => {
            busy = batch.length === batchSize;
            // A drain ends when a receive finds nothing, no other receive is running, and nothing is in hand.
            if (batch.length === 0 && receives.size === 1 && inHand.size === 0 && options.stopWhenEmpty) drained = true;
            for (const message of batch) {
              const work = settle(message)
                .catch((error: unknown) => {
                  failure ??= { error };
                })
                .finally(() => inHand.delete(work));
              inHand.add(work);
            }
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => receives.delete(receiving));
      receives.add(receiving);
    }
    await Promise.all(receives);
    await Promise.all(inHand);
    if (failure) throw failure.error;
    return stats;
  }

  // ---------------------------------------------------------------------------------------------
  // Ack, nack, extend: only the current lease holder (Q2).

  private parseReceipt(text: string): Receipt {
    const receipt = decodeReceipt(text);
    if (receipt.queue !== this.name) {
      throw new LeaseLost(LeaseLossReason.Forged, receipt.messageId, `the receipt belongs to queue ${JSON.stringify(receipt.queue)}`);
    }
    return receipt;
  }

  /** The guard of every write by a lease holder: its token, unexpired at the clock now. */
  private holdsLease(receipt: Receipt): Guard {
    return { kind: 'holds-lease', token: receipt.token, now: this.deps.clock.now() };
  }

  private receiptItemKey(receipt: Receipt): Item {
    return Keys.key(Keys.shardPk(this.name, receipt.shard), receipt.leaseKey);
  }

  /** Acknowledges (deletes) the message. Throws LeaseLost unless the receipt is the current, unexpired lease. */
  async ack(receiptText: string): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    if (receipt.seq !== undefined) return this.ackFifo(receipt, this.holdsLease(receipt), this.deps.clock.now());
    try {
      // Each attempt is a request of its own: fresh placeholders (DynamoDB rejects unused ones) and
      // a guard judged at the clock of that attempt.
      await this.retryingConflicts(() => {
        const values = new ExpressionValues();
        return this.deps.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.deps.tableName,
            Key: this.receiptItemKey(receipt),
            ConditionExpression: guardCondition(this.holdsLease(receipt), values),
            ExpressionAttributeValues: values.attributeValues,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      this.throwUnlessAppliedEarlier('ack', receipt, deliveryStateOf(error.Item), attemptsOf(error) > 1);
    }
    await this.releaseBody(receipt);
  }

  /**
   * Deletes the claim-check object of an acked message (its key follows from the message id). A
   * failure here must not turn an applied ack into an error, whose retry would get LeaseLost: the
   * object is left as an orphan (docs/queue.md).
   */
  private async releaseBody(receipt: Receipt): Promise<void> {
    if (receipt.offloaded) await this.deps.bodies.releaseKey(claimCheckKey(this.name, receipt.messageId)).catch(() => undefined);
  }

  /** Runs a single-item write, again after a TransactionConflictException (which never applies). */
  private async retryingConflicts<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!isTransactionConflictException(error) || attempt >= CONFLICT_RETRIES) throw error;
        await this.deps.sleep(fullJitterBackoffMs(attempt + 1, this.deps.entropy.unit(), { baseMs: 10, capMs: 200 }));
      }
    }
  }

  private async ackFifo(receipt: Receipt, guard: Guard, now: number): Promise<void> {
    const seq = receipt.seq as number;
    const group = this.receiptItemKey(receipt);
    const groupId = receipt.leaseKey.slice(Keys.groupPrefix.length);
    const messageKey = Keys.key(Keys.shardPk(this.name, receipt.shard), Keys.fifoMessageSk(groupId, seq));
    let last = receipt.lastInGroup;
    for (let attempt = 0; attempt < 2 + CONFLICT_RETRIES; attempt++) {
      const values = new ExpressionValues();
      try {
        await this.deps.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              this.fifoGroupAdvance(group, guard, seq, last, now),
              {
                Delete: {
                  TableName: this.deps.tableName,
                  Key: messageKey,
                  ConditionExpression: `${Attr.messageId} = ${values.add(str(receipt.messageId))}`,
                  ExpressionAttributeValues: values.attributeValues,
                },
              },
            ],
            ClientRequestToken: this.requestToken(),
          }),
        );
        await this.releaseBody(receipt);
        return;
      } catch (error) {
        if (!isTransactionCanceled(error)) throw error;
        if (isTransactionConflict(error)) {
          // A concurrent append to the group: not applied, try again.
          await this.deps.sleep(fullJitterBackoffMs(attempt + 1, this.deps.entropy.unit(), { baseMs: 10, capMs: 200 }));
          continue;
        }
        const current = cancellationReasons(error)[0]?.Item;
        const state = deliveryStateOf(current);
        const afterNow = this.deps.clock.now();
        if (state?.leaseToken === receipt.token && state.visibleAt > afterNow && readNumber(current, Attr.head) === seq) {
          // We still hold the lease; only the "last in group" hint was wrong: retry the other way.
          last = readNumber(current, Attr.tail) === seq + 1;
          continue;
        }
        const completed = !current || (readNumber(current, Attr.head) ?? 0) > seq;
        if (attemptsOf(error) > 1 && completed && this.withinOwnLease(receipt, afterNow)) {
          // Q3: our earlier attempt applied (only we could complete the head under our lease).
          await this.releaseBody(receipt);
          return;
        }
        this.throwUnlessAppliedEarlier('ack', receipt, state, false);
      }
    }
    throw new Error(`FIFO ack of message ${receipt.messageId} did not settle after ${2 + CONFLICT_RETRIES} attempts`);
  }

  /**
   * True while only the holder of `receipt` could have changed the message: before its lease ended,
   * less the clock-skew tolerance, judged by the clock now (after the failed write), not by the
   * clock before it (retries and timeouts can take seconds).
   */
  private withinOwnLease(receipt: Receipt, now: number): boolean {
    return now + this.deps.clockSkewToleranceMs < receipt.leaseUntil;
  }

  private throwUnlessAppliedEarlier(
    op: 'ack' | 'nack' | 'extend',
    receipt: Receipt,
    current: DeliveryState | undefined,
    retried: boolean,
  ): void {
    const now = this.deps.clock.now() + this.deps.clockSkewToleranceMs;
    const verdict = judgeHolderWriteFailure(op, receipt, current, now, retried);
    if (verdict.outcome === 'lost') throw new LeaseLost(verdict.reason, receipt.messageId);
  }

  /**
   * Gives the message back: visible again after `delaySeconds` (default: exponential backoff with
   * full jitter by receive count). On its last allowed delivery it goes straight to the DLQ.
   */
  async nack(receiptText: string, options: { delaySeconds?: number } = {}): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    const { delaySeconds } = parseInput(nackInputSchema, options);
    const loaded = await this.load(false);
    const guard = this.holdsLease(receipt);
    const now = guard.now;
    if (receipt.receiveCount >= loaded.config.maxReceiveCount && (await this.nackToDeadLetter(receipt, loaded.config, guard, now))) return;
    const delayMs =
      delaySeconds !== undefined
        ? delaySeconds * 1000
        : fullJitterBackoffMs(receipt.receiveCount, this.deps.entropy.unit(), this.deps.nackBackoff);
    if (receipt.seq === undefined && delayMs > 0) return this.nackByMoving(receipt, guard, now, delayMs);
    await this.updateHeldLease(
      'nack',
      receipt,
      (values) => `SET ${Attr.visibleAt} = ${values.add(num(now + delayMs))} REMOVE ${Attr.leaseToken}`,
    );
  }

  /**
   * One conditional UpdateItem by the lease holder (nack, extend): on the receipt's item, guarded by
   * the receipt's lease (and, in a FIFO group, by the head still being the receipt's message). A failure is
   * judged: an earlier attempt of ours that applied (Q3) is success, anything else LeaseLost (Q2).
   */
  private async updateHeldLease(op: 'nack' | 'extend', receipt: Receipt, update: (values: ExpressionValues) => string): Promise<void> {
    try {
      // Each attempt builds its whole request: fresh placeholders, a guard at that attempt's clock.
      await this.retryingConflicts(() => {
        const values = new ExpressionValues();
        const fifoHead = receipt.seq !== undefined ? ` AND ${Attr.head} = ${values.add(num(receipt.seq))}` : '';
        return this.deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.deps.tableName,
            Key: this.receiptItemKey(receipt),
            UpdateExpression: update(values),
            ConditionExpression: guardCondition(this.holdsLease(receipt), values) + fifoHead,
            ExpressionAttributeValues: values.attributeValues,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      this.throwUnlessAppliedEarlier(op, receipt, deliveryStateOf(error.Item), attemptsOf(error) > 1);
    }
  }

  /**
   * A standard message nacked with a delay moves to the sort key of the instant it becomes
   * available again, so that backed-off messages never pile up at the head of the ready range
   * where every receive would read past them. One transaction: delete here, put there.
   */
  private async nackByMoving(receipt: Receipt, guard: Guard, now: number, delayMs: number): Promise<void> {
    const key = this.receiptItemKey(receipt);
    const { Item: item } = await this.deps.dynamodb.send(
      new GetItemCommand({ TableName: this.deps.tableName, Key: key, ConsistentRead: true }),
    );
    const state = deliveryStateOf(item);
    if (!item || !guardHolds(guard, state)) {
      this.throwUnlessAppliedEarlier('nack', receipt, state, false);
      return;
    }
    const moved: Item = {
      ...item,
      ...Keys.key(pkOf(item), Keys.standardMessageSk(now + delayMs, receipt.messageId)),
      [Attr.visibleAt]: num(now + delayMs),
    };
    delete moved[Attr.leaseToken];
    const values = new ExpressionValues();
    try {
      await this.deps.dynamodb.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: this.requestToken(),
          TransactItems: [
            {
              Delete: {
                TableName: this.deps.tableName,
                Key: key,
                ConditionExpression: guardCondition(guard, values),
                ExpressionAttributeValues: values.attributeValues,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.deps.tableName,
                Item: moved,
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      const [source, target] = cancellationReasons(error);
      // Q3 (emulators that ignore ClientRequestToken): the move already happened, with our fence.
      if (attemptsOf(error) > 1 && !source?.Item && readNumber(target?.Item, Attr.fence) === receipt.fence) return;
      this.throwUnlessAppliedEarlier('nack', receipt, deliveryStateOf(source?.Item), false);
    }
  }

  /** Returns true when the nacked message was dead-lettered (its receive count reached the max). */
  private async nackToDeadLetter(receipt: Receipt, config: QueueConfig, guard: Guard, now: number): Promise<boolean> {
    const key = this.receiptItemKey(receipt);
    const { Item: holder } = await this.deps.dynamodb.send(
      new GetItemCommand({ TableName: this.deps.tableName, Key: key, ConsistentRead: true }),
    );
    const state = deliveryStateOf(holder);
    if (!holder || !state || state.leaseToken !== receipt.token || state.receiveCount < config.maxReceiveCount) return false;
    return this.deadLetter(holder, receipt.seq, state, guard, now, DeadLetterReason.NackedOnLastDelivery);
  }

  /** Heartbeat: the lease now ends `visibilityTimeoutSeconds` from now. Returns the new expiry. */
  async extend(receiptText: string, visibilityTimeoutSeconds: number): Promise<{ leaseUntil: number; receipt: string }> {
    const receipt = this.parseReceipt(receiptText);
    const { visibilityTimeoutSeconds: seconds } = parseInput(extendInputSchema, { visibilityTimeoutSeconds });
    const now = this.deps.clock.now();
    const leaseUntil = now + seconds * 1000;
    await this.updateHeldLease('extend', receipt, (values) => `SET ${Attr.visibleAt} = ${values.add(num(leaseUntil))}`);
    // The receipt carries the expiry used to settle an ambiguous ack (Q3), so hand out a fresh one.
    return { leaseUntil, receipt: encodeReceipt({ ...receipt, leaseUntil }) };
  }

  // ---------------------------------------------------------------------------------------------
  // Stats and dead letters

  /**
   * Counts by reading every shard (1 query page per 1 MB of queue; eventual reads cost half).
   * Cost grows with the backlog: keep it for dashboards and tests, not for hot paths.
   */
  async stats(options: { consistency?: 'strong' | 'eventual' } = {}): Promise<QueueStats> {
    const consistency = options.consistency ?? 'eventual';
    const loaded = await this.load(false);
    const now = this.deps.clock.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    let oldestSentAt = now;
    for (let shard = 0; shard < loaded.config.shards; shard++) {
      const values = new ExpressionValues();
      const pk = values.add(str(Keys.shardPk(this.name, shard)));
      const prefix = values.add(str(loaded.config.fifo ? Keys.groupPrefix : Keys.standardLowest));
      for await (const item of this.paginate({
        KeyConditionExpression: `pk = ${pk} AND begins_with(sk, ${prefix})`,
        ExpressionAttributeValues: values.attributeValues,
        ProjectionExpression: `sk, ${Attr.visibleAt}, ${Attr.leaseToken}, ${Attr.head}, ${Attr.tail}, ${Attr.sentAt}`,
        ConsistentRead: consistency === 'strong',
      })) {
        const state = deliveryStateOf(item) as DeliveryState;
        const leased = state.leaseToken !== undefined && state.visibleAt > now;
        const waiting = !leased && state.visibleAt > now;
        if (loaded.config.fifo) {
          const count = (readNumber(item, Attr.tail) ?? 0) - (readNumber(item, Attr.head) ?? 0);
          if (count <= 0) continue;
          if (leased) inFlight++;
          else if (waiting) delayed++;
          else visible++;
          visible += count - 1; // queued behind the head
        } else if (leased) inFlight++;
        else if (waiting) delayed++;
        else visible++;
        if (!loaded.config.fifo && !waiting) oldestSentAt = Math.min(oldestSentAt, readNumber(item, Attr.sentAt) ?? now);
      }
    }
    const values = new ExpressionValues();
    let deadLettered = 0;
    let startKey: Item | undefined;
    do {
      const page = await this.deps.dynamodb.send(
        new QueryCommand({
          TableName: this.deps.tableName,
          KeyConditionExpression: `pk = ${values.add(str(Keys.deadLetterPk(this.name)))}`,
          ExpressionAttributeValues: values.attributeValues,
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
          ConsistentRead: consistency === 'strong',
        }),
      );
      deadLettered += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return {
      visible,
      inFlight,
      delayed,
      deadLettered,
      oldestAgeSeconds: Math.max(0, Math.floor((now - oldestSentAt) / 1000)),
      consistency,
    };
  }

  private async *paginate(query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>): AsyncGenerator<Item> {
    let startKey: Item | undefined;
    do {
      const page = await this.deps.dynamodb.send(
        new QueryCommand({ ...query, TableName: this.deps.tableName, ExclusiveStartKey: startKey }),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Dead letters, oldest first. `cursor` is the `nextCursor` of the previous page. */
  async listDeadLetters(options: { limit?: number; cursor?: string; consistency?: 'strong' | 'eventual' } = {}): Promise<{
    deadLetters: DeadLetter[];
    nextCursor?: string;
  }> {
    const limit = options.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit', 'must be an integer in 1..100');
    const values = new ExpressionValues();
    const page = await this.deps.dynamodb.send(
      new QueryCommand({
        TableName: this.deps.tableName,
        KeyConditionExpression: `pk = ${values.add(str(Keys.deadLetterPk(this.name)))}`,
        ExpressionAttributeValues: values.attributeValues,
        Limit: limit,
        ExclusiveStartKey: this.decodeCursor(options.cursor),
        ConsistentRead: options.consistency === 'strong',
      }),
    );
    const deadLetters = await Promise.all(
      (page.Items ?? []).map(async (item) => {
        const groupId = readString(item, Attr.groupId);
        return {
          messageId: readString(item, Attr.messageId) as string,
          body: await this.deps.bodies.decode(item),
          ...(groupId !== undefined ? { groupId } : {}),
          receiveCount: readNumber(item, Attr.receiveCount) ?? 0,
          sentAt: readNumber(item, Attr.sentAt) ?? 0,
          deadLetteredAt: readNumber(item, Attr.deadLetteredAt) ?? 0,
          reason: readString(item, Attr.deadLetterReason) ?? '',
        };
      }),
    );
    const nextCursor = page.LastEvaluatedKey ? this.encodeCursor(page.LastEvaluatedKey) : undefined;
    return { deadLetters, ...(nextCursor ? { nextCursor } : {}) };
  }

  /**
   * Moves dead letters back into the queue, oldest first, at most `perSecond` per second and
   * `max` per call. Each move is one transaction (delete from the DLQ + put into the queue), so a
   * crash loses nothing and a rerun resumes where the last one stopped.
   */
  async redrive(
    options: {
      max?: number;
      perSecond?: number;
      /** Stop (with `remaining: true`) rather than start a move due later than this after the call began. */
      maxSeconds?: number;
    } = {},
  ): Promise<{ redriven: number; remaining: boolean }> {
    const max = options.max ?? RedriveDefaults.max;
    const perSecond = options.perSecond ?? RedriveDefaults.perSecond;
    if (options.maxSeconds !== undefined && !(options.maxSeconds > 0)) throw new ValidationError('maxSeconds', 'must be positive');
    if (!Number.isInteger(max) || max < 1 || max > 10_000) throw new ValidationError('max', 'must be an integer in 1..10000');
    if (!(perSecond > 0 && perSecond <= 1_000)) throw new ValidationError('perSecond', 'must be in (0, 1000]');
    const loaded = await this.load(true);
    const started = this.deps.clock.now();
    let redriven = 0;
    let attempted = 0;
    let startKey: Item | undefined;
    while (redriven < max) {
      const values = new ExpressionValues();
      const page = await this.deps.dynamodb.send(
        new QueryCommand({
          TableName: this.deps.tableName,
          KeyConditionExpression: `pk = ${values.add(str(Keys.deadLetterPk(this.name)))}`,
          ExpressionAttributeValues: values.attributeValues,
          Limit: Math.min(25, max - redriven),
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        // Rate limit: the n-th move (tried, whether it moved or another redrive had) may not start
        // before started + n / perSecond. Time limit: no move starts past it, whether the rate or
        // slow moves would take it there.
        const due = started + (attempted * 1000) / perSecond;
        const limit = options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.maxSeconds * 1000;
        if (due > limit || this.deps.clock.now() >= limit) return { redriven, remaining: true };
        const wait = due - this.deps.clock.now();
        if (wait > 0) await this.deps.sleep(wait);
        attempted++;
        if (await this.redriveOne(loaded, item)) redriven++;
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) return { redriven, remaining: false };
    }
    return { redriven, remaining: true };
  }

  private async redriveOne(loaded: LoadedConfig, deadLetter: Item): Promise<boolean> {
    const messageId = readString(deadLetter, Attr.messageId) as string;
    const fence = readNumber(deadLetter, Attr.fence) ?? 0;
    const removeFromDlq: TransactWriteItem = {
      Delete: {
        TableName: this.deps.tableName,
        Key: Keys.key(pkOf(deadLetter), skOf(deadLetter)),
        ConditionExpression: 'attribute_exists(pk)',
      },
    };
    const body: Item = {};
    for (const name of [Attr.bodyText, Attr.bodyDeflated, Attr.bodyObject, Attr.bodyObjectDeflated]) {
      if (deadLetter[name]) body[name] = deadLetter[name];
    }
    const groupId = readString(deadLetter, Attr.groupId);
    const now = this.deps.clock.now();
    if (loaded.config.fifo && groupId !== undefined) {
      // The group's tail protocol, with the delete from the DLQ in the same transaction.
      const appended = await this.appendToGroup({
        loaded,
        groupId,
        messageId,
        body,
        fenceFloor: fence,
        sentAt: readNumber(deadLetter, Attr.sentAt) ?? now,
        alongside: removeFromDlq,
      });
      return appended !== undefined; // undefined: another redrive moved it first
    }
    const shard = loaded.ring.ownerOf(groupId ?? messageId);
    try {
      await this.deps.dynamodb.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: this.requestToken(),
          TransactItems: [
            removeFromDlq,
            {
              Put: {
                TableName: this.deps.tableName,
                Item: {
                  ...Keys.key(Keys.shardPk(this.name, shard), Keys.standardMessageSk(now, messageId)),
                  [Attr.visibleAt]: num(now),
                  // Fences keep growing across a redrive (Q2); the receive count starts over.
                  [Attr.fence]: num(fence),
                  [Attr.receiveCount]: num(0),
                  [Attr.sentAt]: deadLetter[Attr.sentAt] ?? num(now),
                  ...(groupId !== undefined ? { [Attr.groupId]: str(groupId) } : {}),
                  ...body,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionCanceled(error)) return false; // another redrive moved it first
      throw error;
    }
  }

  private encodeCursor(key: Item): string {
    return bytesToBase64Url(new TextEncoder().encode(JSON.stringify([key.pk?.S, key.sk?.S])));
  }

  private decodeCursor(cursor: string | undefined): Item | undefined {
    if (cursor === undefined) return undefined;
    try {
      const [pk, sk] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
      if (pk !== Keys.deadLetterPk(this.name) || typeof sk !== 'string') throw new Error('foreign cursor');
      return Keys.key(pk, sk);
    } catch {
      throw new ValidationError('cursor', 'not a cursor returned by this queue');
    }
  }
}
