/**
 * Counts by reading every shard (1 query page per 1 MB of queue; eventual reads cost half) and the
 * dead letters (COUNT queries). Cost grows with the backlog: for dashboards and tests, not hot paths.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { QueueStats } from '../../../core/queue/model.js';
import type { Item } from '../errors.js';
import { ExpressionValues } from '../expressions.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { Attr, Keys, str } from './layout.js';
import type { DeliveryMode, StatsCounts } from './mode.js';

export async function* paginate(
  ctx: QueueContext,
  query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): AsyncGenerator<Item> {
  let startKey: Item | undefined;
  do {
    const page = await ctx.deps.dynamodb.send(new QueryCommand({ ...query, TableName: ctx.deps.tableName, ExclusiveStartKey: startKey }));
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

export async function queueStats(
  ctx: QueueContext,
  mode: DeliveryMode,
  loaded: LoadedConfig,
  consistency: 'strong' | 'eventual',
): Promise<QueueStats> {
  const now = ctx.now();
  const counts: StatsCounts = { visible: 0, inFlight: 0, delayed: 0, oldestSentAt: now };
  for (let shard = 0; shard < loaded.config.shards; shard++) {
    const values = new ExpressionValues();
    const pk = values.add(str(Keys.shardPk(ctx.name, shard)));
    const prefix = values.add(str(mode.statsPrefix));
    for await (const item of paginate(ctx, {
      KeyConditionExpression: `pk = ${pk} AND begins_with(sk, ${prefix})`,
      ExpressionAttributeValues: values.attributeValues,
      ProjectionExpression: `sk, ${Attr.visibleAt}, ${Attr.leaseToken}, ${Attr.fence}, ${Attr.receiveCount}, ${Attr.head}, ${Attr.tail}, ${Attr.sentAt}`,
      ConsistentRead: consistency === 'strong',
    })) {
      mode.countInto(counts, item, now);
    }
  }
  let deadLettered = 0;
  let startKey: Item | undefined;
  do {
    const page = await ctx.deps.dynamodb.send(
      new QueryCommand({
        TableName: ctx.deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': str(Keys.deadLetterPk(ctx.name)) },
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
        ConsistentRead: consistency === 'strong',
      }),
    );
    deadLettered += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return {
    visible: counts.visible,
    inFlight: counts.inFlight,
    delayed: counts.delayed,
    deadLettered,
    oldestAgeSeconds: Math.max(0, Math.floor((now - counts.oldestSentAt) / 1000)),
    consistency,
  };
}
