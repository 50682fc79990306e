/**
 * Receive: the long poll, the sweep over shards (in the order core/queue/scheduling.ts gives), and
 * the query of each shard's ready candidates, which the mode then leases. One Receiver per queue
 * handle holds that handle's scheduling state.
 *
 * Liveness (DESIGN.md): a receive returns a ready message when one exists. Cursors and backoffs
 * only save reads; an empty answer is given only after every shard was read from its head (a
 * cursor read that finds nothing is repeated from the head, and the last poll of a long poll skips
 * no shard).
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { QueueLimits } from '../../../core/queue/config.js';
import type { ReceivedMessage } from '../../../core/queue/model.js';
import { ReceiveLimits } from '../../../core/queue/policies.js';
import { mustRereadFromHead, nextPollAt, ShardScheduler, type ShardVisitOutcome } from '../../../core/queue/scheduling.js';
import type { Item } from '../errors.js';
import { ExpressionValues } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { Keys, keyOf, pkOf, skOf } from './layout.js';
import type { DeliveryMode, DeliveryOutcome } from './mode.js';

interface ShardVisit extends ShardVisitOutcome {
  readonly messages: ReceivedMessage[];
  readonly deadLettered: number;
}

const candidateKey = (item: Item): string => `${pkOf(item)}\u0000${skOf(item)}`;

export interface ReceiveRequest {
  readonly max: number;
  readonly visibilityMs: number;
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
}

export class Receiver {
  private readonly scheduler: ShardScheduler<Item>;
  /**
   * Candidates this handle's receives are leasing right now (by key). Two receives of one handle
   * that overlap (`consume` runs them so) each lease different candidates instead of racing each
   * other: a race would cost a failed, billed conditional write.
   */
  private readonly leasing = new Set<string>();
  /** The query a receive of this handle is reading each shard with, while it runs. */
  private readonly shardReads = new Map<number, Promise<unknown>>();

  constructor(
    private readonly ctx: QueueContext,
    private readonly mode: () => DeliveryMode,
  ) {
    this.scheduler = new ShardScheduler<Item>(
      { maxEmptyShardBackoffMs: ctx.deps.maxEmptyShardBackoffMs, headRescanMs: ctx.deps.headRescanMs },
      ctx.deps.entropy.unit(),
      QueueLimits.maxShards,
    );
  }

  recentlyContended(): boolean {
    return this.scheduler.contendedAnywhere(this.ctx.now());
  }

  async receive(loaded: LoadedConfig, request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const deadline = this.ctx.now() + request.waitMs;
    let rescans = 0;
    for (let poll = 0; ; poll++) {
      // Told to stop: the answer is what it has (nothing), without another read.
      if (request.signal?.aborted) return [];
      // A long poll may skip backed-off shards while it has time to come back to them; a short poll
      // and the last poll of a long one read every shard.
      const last = this.ctx.now() >= deadline;
      const { messages, deadLettered } = await this.sweep(loaded, request, !last && (poll > 0 || request.waitMs > 0));
      if (messages.length > 0) return messages;
      // Dead-lettering may have unblocked a FIFO group or freed the head of a shard: look again now.
      if (deadLettered > 0 && rescans++ < ReceiveLimits.rescansAfterDeadLettering) continue;
      if (last) return [];
      await this.sleepUntil(nextPollAt(poll, this.ctx.now(), deadline), request.signal);
    }
  }

  /** Sleeps until `until`, or until `signal` aborts (a stopped consumer's long poll ends at once). */
  private async sleepUntil(until: number, signal: AbortSignal | undefined): Promise<void> {
    const wait = until - this.ctx.now();
    if (wait <= 0 || signal?.aborted) return;
    if (!signal) return this.ctx.deps.sleep(wait);
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      void this.ctx.deps.sleep(wait).then(done);
    });
  }

  /** Visits shards until `max` messages are leased. */
  private async sweep(
    loaded: LoadedConfig,
    request: ReceiveRequest,
    skipBackedOff: boolean,
  ): Promise<{ messages: ReceivedMessage[]; deadLettered: number }> {
    const messages: ReceivedMessage[] = [];
    let deadLettered = 0;
    for (const shard of this.scheduler.order(loaded.config.shards, this.ctx.now(), skipBackedOff)) {
      if (messages.length >= request.max) break;
      const now = this.ctx.now();
      let visit: ShardVisit;
      try {
        visit = await this.visitShard(loaded, shard, request.max - messages.length, request.visibilityMs);
      } catch (error) {
        // Messages leased in earlier shards are this receive's to deliver: thrown away, they would
        // wait out their lease and come back with one receive counted toward the DLQ.
        if (messages.length > 0) break;
        throw error;
      }
      messages.push(...visit.messages);
      deadLettered += visit.deadLettered;
      this.scheduler.recordVisit(shard, visit, now);
    }
    return { messages, deadLettered };
  }

  /** Reads a shard (from its cursor; again from its head when the cursor found nothing). */
  private async visitShard(loaded: LoadedConfig, shard: number, need: number, visibilityMs: number): Promise<ShardVisit> {
    // Overlapping receives of this handle read a shard one after another: the second starts
    // from the cursor the first moved past its candidates, instead of reading them again.
    for (let reading = this.shardReads.get(shard); reading; reading = this.shardReads.get(shard)) {
      await reading.catch(() => undefined);
    }
    const now = this.ctx.now();
    const mode = this.mode();
    const from = mode.readsWithCursor ? this.scheduler.readFrom(shard, now) : { startKey: undefined, headScannedAt: now };
    const visit = await this.collect(loaded, shard, need, visibilityMs, from.startKey, from.headScannedAt, now);
    if (mustRereadFromHead(from, visit.candidates)) return this.collect(loaded, shard, need, visibilityMs, undefined, now, now);
    return visit;
  }

  private async collect(
    loaded: LoadedConfig,
    shard: number,
    need: number,
    visibilityMs: number,
    start: Item | undefined,
    headScannedAt: number,
    now: number,
  ): Promise<ShardVisit> {
    const mode = this.mode();
    let startKey = start;
    const messages: ReceivedMessage[] = [];
    const failures: unknown[] = [];
    let deadLettered = 0;
    let candidates = 0;
    let lostRaces = 0;
    let scanned = 0;
    for (
      let page = 0;
      page < ReceiveLimits.maxPagesPerShard && messages.length < need && scanned < ReceiveLimits.maxScannedPerVisit;
      page++
    ) {
      const wanted = need - messages.length;
      // Limit counts the items a filter drops (in flight, not yet visible): the first page asks for
      // what is needed, later pages read further to get past a head of unavailable messages.
      const limit = page === 0 ? wanted : Math.min(ReceiveLimits.maxPageLimit, wanted * 5);
      const reading = this.queryCandidates(shard, startKey, limit, now);
      this.shardReads.set(shard, reading);
      let result: QueryCommandOutput;
      try {
        result = await reading;
      } catch (error) {
        if (messages.length > 0) break; // deliver what earlier pages leased (see sweep)
        throw error;
      } finally {
        if (this.shardReads.get(shard) === reading) this.shardReads.delete(shard);
      }
      const items = result.Items ?? [];
      scanned += result.ScannedCount ?? items.length;
      candidates += items.length;
      // Candidates another receive of this handle is leasing are left to it.
      const mine = items.filter((item) => !this.leasing.has(candidateKey(item))).slice(0, wanted);
      // Resume after the last item used; candidates read but not needed are read again next time.
      // The cursor moves before the leases, so that an overlapping receive reads on from here.
      const lastTaken = Math.max(wanted - 1, mine.length > 0 ? items.indexOf(mine[mine.length - 1] as Item) : -1);
      const used = items.length > lastTaken + 1 ? items[lastTaken] : undefined;
      const endOfRange = !used && !result.LastEvaluatedKey;
      if (used) startKey = keyOf(used);
      else if (result.LastEvaluatedKey) startKey = result.LastEvaluatedKey;
      else {
        // End of the ready range: stay here; newer messages sort after this key.
        const lastItem = items.at(-1);
        startKey = lastItem ? keyOf(lastItem) : startKey;
      }
      if (mode.readsWithCursor) this.scheduler.moveCursor(shard, { startKey, headScannedAt });
      const deliver = (item: Item): Promise<DeliveryOutcome> =>
        mode.deliver(shard, item, now, visibilityMs, loaded).catch((error: unknown) => {
          failures.push(error);
          return 'lost';
        });
      for (const item of mine) this.leasing.add(candidateKey(item));
      const outcomes: DeliveryOutcome[] = [];
      try {
        const [first, ...rest] = mine;
        if (first && this.scheduler.recentlyContended(shard, now)) {
          // Another receiver works this shard: lease the first candidate alone. If it lost, the other
          // receiver is most likely taking the rest of the page too: one failed write, not ten.
          outcomes.push(await deliver(first));
          if (outcomes[0] !== 'lost') outcomes.push(...(await Promise.all(rest.map(deliver))));
        } else if (first) {
          outcomes.push(...(await Promise.all(mine.map(deliver))));
        }
      } finally {
        for (const item of mine) this.leasing.delete(candidateKey(item));
      }
      for (const outcome of outcomes) {
        if (outcome === 'dead-lettered') deadLettered++;
        else if (outcome === 'lost') lostRaces++;
        else if (outcome !== 'skipped') messages.push(outcome);
      }
      if ((lostRaces > 0 && messages.length === 0) || endOfRange) break;
    }
    // Failures (a body that would not load from S3, say) gave their leases back; surface them only
    // when nothing could be delivered, so one bad message does not hide the good ones.
    if (messages.length === 0 && failures.length > 0) throw failures[0];
    return { messages, deadLettered, candidates, received: messages.length, lostRaces };
  }

  private queryCandidates(shard: number, startKey: Item | undefined, limit: number, now: number): Promise<QueryCommandOutput> {
    const values = new ExpressionValues();
    const { keyCondition, filter } = this.mode().readyQuery(Keys.shardPk(this.ctx.name, shard), now, values);
    return this.ctx.deps.dynamodb.send(
      new QueryCommand({
        TableName: this.ctx.deps.tableName,
        KeyConditionExpression: keyCondition,
        // A hint only: the lease's conditional write is the guard.
        FilterExpression: filter,
        ExpressionAttributeValues: values.attributeValues,
        ExclusiveStartKey: startKey,
        Limit: limit,
        ConsistentRead: this.ctx.deps.consistentReceive,
      }),
    );
  }
}
