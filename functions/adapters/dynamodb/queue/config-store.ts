/**
 * A queue's configuration item: read through a short per-process cache, created with the defaults
 * on first use by a sender or receiver (so that a later PUT cannot flip `fifo` under messages
 * already written), and changed by compare-and-set on its version. Every write of it also writes
 * the queue's directory entry in the same transaction (layout.ts), so that a queue that exists is
 * listed: a queue's first use costs 2 WRU more (a two-item transaction), its configuration the same.
 */
import { type DynamoDBClient, GetItemCommand, type Put, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../../core/clock.js';
import { HashRing } from '../../../core/hashing.js';
import { applyConfigPatch, type QueueConfig, type QueueConfigPatch, QueueDefaults, resolveConfig } from '../../../core/queue/config.js';
import { RetryPolicies } from '../../../core/queue/policies.js';
import { cancellationReasons, type Item, isTransactionCanceled, isTransactionConflict } from '../errors.js';
import { ExpressionValues } from '../expressions.js';
import { Attr, Keys, num, readNumber } from './layout.js';

export interface LoadedConfig {
  readonly config: QueueConfig;
  readonly exists: boolean;
  readonly version: number;
  /** Which shard each message or group goes to (consistent hashing over `config.shards`). */
  readonly ring: HashRing;
  readonly fetchedAt: number;
}

export function configItem(queue: string, config: QueueConfig, version: number): Item {
  return {
    ...Keys.config(queue),
    [Attr.maxReceiveCount]: num(config.maxReceiveCount),
    [Attr.visibilityTimeout]: num(config.visibilityTimeoutSeconds),
    [Attr.fifo]: { BOOL: config.fifo },
    [Attr.shards]: num(config.shards),
    [Attr.dedupWindow]: num(config.dedupWindowSeconds),
    [Attr.version]: num(version),
  };
}

export function configOf(item: Item | undefined): QueueConfig {
  return resolveConfig(
    item
      ? {
          maxReceiveCount: readNumber(item, Attr.maxReceiveCount) ?? QueueDefaults.maxReceiveCount,
          visibilityTimeoutSeconds: readNumber(item, Attr.visibilityTimeout) ?? QueueDefaults.visibilityTimeoutSeconds,
          fifo: item[Attr.fifo]?.BOOL ?? QueueDefaults.fifo,
          shards: readNumber(item, Attr.shards) ?? QueueDefaults.shards,
          dedupWindowSeconds: readNumber(item, Attr.dedupWindow) ?? QueueDefaults.dedupWindowSeconds,
        }
      : undefined,
  );
}

export class ConfigStore {
  private loaded: LoadedConfig | undefined;

  constructor(
    private readonly queue: string,
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    private readonly cacheMs: number,
  ) {}

  /**
   * @param create store the defaults if the queue was never used (senders and receivers do)
   * @param fresh read past the cache
   */
  async load(create: boolean, fresh = false): Promise<LoadedConfig> {
    const now = this.clock.now();
    const cached = this.loaded;
    if (!fresh && cached && now - cached.fetchedAt < this.cacheMs && (cached.exists || !create)) return cached;
    const { Item: item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName, Key: Keys.config(this.queue), ConsistentRead: true }),
    );
    if (!item && create) {
      try {
        await this.writeConfig({
          TableName: this.tableName,
          Item: configItem(this.queue, QueueDefaults, 1),
          ConditionExpression: 'attribute_not_exists(pk)',
        });
      } catch (error) {
        if (!isConfigConditionFailed(error)) throw error;
      }
      return this.load(false, true);
    }
    const config = configOf(item);
    const ring = cached?.config.shards === config.shards ? cached.ring : new HashRing(config.shards);
    this.loaded = { config, exists: item !== undefined, version: readNumber(item, Attr.version) ?? 0, ring, fetchedAt: now };
    return this.loaded;
  }

  /** PUT semantics: fields given are changed, others keep their value (`patch` already validated). */
  async configure(patch: QueueConfigPatch): Promise<QueueConfig> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.load(false, true);
      const next = applyConfigPatch(current.config, patch, current.exists);
      const values = new ExpressionValues();
      const condition = current.exists ? `${Attr.version} = ${values.add(num(current.version))}` : 'attribute_not_exists(pk)';
      try {
        await this.writeConfig({
          TableName: this.tableName,
          Item: configItem(this.queue, next, current.version + 1),
          ConditionExpression: condition,
          ExpressionAttributeValues: values.attributeValues,
        });
        this.loaded = undefined;
        return next;
      } catch (error) {
        if (!isConfigConditionFailed(error) || attempt >= RetryPolicies.configure.attempts) throw error;
      }
    }
  }

  /** The config put and the queue's directory entry, together (a retried transaction repeats both: idempotent). */
  private async writeConfig(put: Put): Promise<void> {
    await this.dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: put }, { Put: { TableName: this.tableName, Item: Keys.directoryEntry(this.queue) } }],
      }),
    );
  }
}

/**
 * The config put's own condition failed (another writer came first; the directory put has none),
 * or the transaction lost to a concurrent one (nothing applied): read again and go on.
 */
function isConfigConditionFailed(error: unknown): boolean {
  return (isTransactionCanceled(error) && cancellationReasons(error)[0]?.Code === 'ConditionalCheckFailed') || isTransactionConflict(error);
}
