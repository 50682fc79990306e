/**
 * The entry point of the DynamoDB queue: one QueueService per process and table, handing out one
 * DynamoDbQueue per queue name (created on first use, least recently used dropped first).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { type BackoffPolicy, DEFAULT_NACK_BACKOFF } from '../../../core/backoff.js';
import type { Clock, Entropy } from '../../../core/clock.js';
import { bytesToBase64Url } from '../../../core/encoding.js';
import { ValidationError } from '../../../core/errors.js';
import type { BodyStoragePolicy } from '../../../core/queue/body.js';
import { type ListQueuesInput, listQueuesInputSchema, queueNameSchema } from '../../../core/queue/config.js';
import type { QueuePage, Queues } from '../../../core/queue/model.js';
import { parseInput } from '../../../core/validation.js';
import { BodyStore, type ClaimCheckStore } from '../../body-store.js';
import { cryptoEntropy, realSleep, systemClock } from '../../system.js';
import type { Deps } from './context.js';
import { Keys, str } from './layout.js';
import { DynamoDbQueue } from './queue.js';

const QUEUE_PAGE_DEFAULT = 25;

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
   * most this often, to pick up expired leases and nacked messages behind them (a read from the
   * cursor that finds nothing goes back to the head at once). @default 1000
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
   * long polls for a while, doubling from 100 ms up to this value. Bounds the read cost of polling
   * an idle queue (about one query per shard per this interval per receiver). @default 1000
   */
  readonly maxEmptyShardBackoffMs?: number;
  readonly nackBackoff?: BackoffPolicy;
  /**
   * How far receivers' clocks may disagree. A repeated ack that finds its message gone is only
   * taken as applied while the lease has at least this long to run. @default 1000
   */
  readonly clockSkewToleranceMs?: number;
  /**
   * Queue handles kept (with their cursors and cached configuration), least recently used dropped
   * first: queue names can come from requests, and each new name must not grow memory forever.
   * @default 1000
   */
  readonly maxCachedQueues?: number;
}

/** One per process, shared by every queue in the table. */
export interface QueueService extends Queues {
  /** The DynamoDB table that holds this service's queues. */
  readonly tableName: string;
  /** The queue called `name` (validated: [A-Za-z0-9_-]{1,80}). It exists on first use. */
  queue(name: string): DynamoDbQueue;
}

export function createQueueService(options: QueueServiceOptions): QueueService {
  const deps: Deps = Object.freeze({
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
    bodies: new BodyStore(options.claimCheck, options.bodyPolicy),
  });
  const maxCachedQueues = options.maxCachedQueues ?? 1_000;
  const queues = new Map<string, DynamoDbQueue>();
  return {
    tableName: deps.tableName,
    /**
     * The queue directory (layout.ts): one Query of one partition per page, eventually consistent
     * by default (a queue created a moment ago may be missing for about a second). A queue last used before
     * the directory existed is listed once it is configured again.
     */
    async list(input: ListQueuesInput = {}): Promise<QueuePage> {
      const { limit = QUEUE_PAGE_DEFAULT, cursor, consistency } = parseInput(listQueuesInputSchema, input);
      const page = await deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': str(Keys.directoryPk) },
          ProjectionExpression: 'sk',
          Limit: limit,
          ConsistentRead: consistency === 'strong',
          ...(cursor !== undefined ? { ExclusiveStartKey: Keys.directoryEntry(decodeQueueCursor(cursor)) } : {}),
        }),
      );
      const queues = (page.Items ?? []).map((item) => item.sk?.S as string);
      const last = queues.at(-1);
      return { queues, ...(page.LastEvaluatedKey && last !== undefined ? { nextCursor: encodeQueueCursor(last) } : {}) };
    },
    queue(name: string): DynamoDbQueue {
      let queue = queues.get(name);
      if (queue) {
        queues.delete(name); // most recently used last: a Map iterates in insertion order
      } else {
        queue = new DynamoDbQueue(parseInput(queueNameSchema, name, 'queue'), deps);
        // A dropped handle loses only its caches; whoever still holds it can go on using it.
        for (const oldest of queues.keys()) {
          if (queues.size < maxCachedQueues) break;
          queues.delete(oldest);
        }
      }
      queues.set(name, queue);
      return queue;
    },
  };
}

const encodeQueueCursor = (queue: string): string => bytesToBase64Url(new TextEncoder().encode(`q:${queue}`));

function decodeQueueCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const queue = text.startsWith('q:') ? text.slice(2) : '';
  if (!queueNameSchema.safeParse(queue).success) throw new ValidationError('cursor', 'not a cursor returned by a listing of queues');
  return queue;
}
