/**
 * What every part of one DynamoDB queue shares: the service's dependencies (frozen, private to
 * the adapter: never part of the public surface), the queue's name, its configuration store, and
 * small helpers every mode uses (fresh ids, consistent reads, conflict retries).
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type BackoffPolicy, fullJitterBackoffMs } from '../../../core/backoff.js';
import type { Clock, Entropy } from '../../../core/clock.js';
import { bytesToBase64Url } from '../../../core/encoding.js';
import type { RetryPolicy } from '../../../core/queue/policies.js';
import type { BodyStore } from '../../body-store.js';
import { type Item, isTransactionConflictException } from '../errors.js';
import type { ConfigStore } from './config-store.js';

export interface Deps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  readonly entropy: Entropy;
  readonly sleep: (ms: number) => Promise<void>;
  readonly bodies: BodyStore;
  readonly configCacheMs: number;
  readonly headRescanMs: number;
  readonly consistentReceive: boolean;
  readonly maxEmptyShardBackoffMs: number;
  readonly nackBackoff: BackoffPolicy;
  readonly clockSkewToleranceMs: number;
}

export class QueueContext {
  constructor(
    readonly name: string,
    readonly deps: Deps,
    readonly config: ConfigStore,
  ) {}

  now(): number {
    return this.deps.clock.now();
  }

  /** 128 random bits, base64url: message ids, and ClientRequestTokens (fresh per call, resent by the SDK's retries). */
  randomId(): string {
    return bytesToBase64Url(this.deps.entropy.bytes(16));
  }

  /** Waits out attempt `attempt` (1 for the first retry) of `policy`, with full jitter. */
  backoff(attempt: number, policy: BackoffPolicy): Promise<void> {
    return this.deps.sleep(fullJitterBackoffMs(attempt, this.deps.entropy.unit(), policy));
  }

  async getConsistent(key: Item, projection?: string): Promise<Item | undefined> {
    const { Item: item } = await this.deps.dynamodb.send(
      new GetItemCommand({
        TableName: this.deps.tableName,
        Key: key,
        ConsistentRead: true,
        ...(projection ? { ProjectionExpression: projection } : {}),
      }),
    );
    return item;
  }

  /**
   * Runs a single-item write, again after a TransactionConflictException (which never applies).
   * `write` builds its whole request each attempt: fresh placeholders, a guard at that attempt's clock.
   */
  async retryingConflicts<T>(policy: RetryPolicy, write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (!isTransactionConflictException(error) || attempt >= policy.attempts) throw error;
        await this.backoff(attempt, policy);
      }
    }
  }
}
