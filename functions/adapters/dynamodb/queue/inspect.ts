/**
 * Looking at a queue without touching it (the operators' peek): the stored messages in one state,
 * a page at a time, read with Queries of the queue's shard partitions (never a scan) and no write.
 * What it shows is a snapshot: a message may be leased, acked or moved by the time it is read.
 *
 * Cost: a page reads its shards from the cursor on until it has `limit` messages in the state
 * asked for, so a rare state in a long backlog reads much of the backlog (0.5 RRU per 4 KB,
 * eventual by default); a FIFO page also reads its groups' items (one BatchGetItem per page).
 * Offloaded bodies are fetched from S3, one GET each.
 */
import { BatchGetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { bytesToBase64Url } from '../../../core/encoding.js';
import { ValidationError } from '../../../core/errors.js';
import type { PeekInput } from '../../../core/queue/config.js';
import type { DeliveryState } from '../../../core/queue/delivery.js';
import { MessageState, type PeekedMessage, type PeekPage } from '../../../core/queue/model.js';
import type { Item } from '../errors.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import {
  Attr,
  contentTypeOf,
  deliveryStateOf,
  groupStateOf,
  Keys,
  messageIdFromStandardSk,
  readNumber,
  readString,
  skOf,
  str,
} from './layout.js';

const PEEK_DEFAULT_LIMIT = 25;
/** Items read per Query while filling a page. */
const READ_PAGE = 100;

/** The state of a stored delivery at `now`: the same reading `stats` counts by. */
export function messageStateOf(state: DeliveryState, now: number): MessageState {
  if (state.visibleAt <= now) return MessageState.Visible;
  return state.leaseToken !== undefined ? MessageState.InFlight : MessageState.Delayed;
}

interface Position {
  readonly shard: number;
  /** The last sort key shown; the next page starts after it. */
  readonly after?: string;
}

export async function peek(ctx: QueueContext, loaded: LoadedConfig, input: PeekInput): Promise<PeekPage> {
  const limit = input.limit ?? PEEK_DEFAULT_LIMIT;
  const now = ctx.now();
  const fifo = loaded.config.fifo;
  const start = decodePeekCursor(input.cursor, loaded.config.shards);
  const messages: PeekedMessage[] = [];
  for (let shard = start.shard; shard < loaded.config.shards; shard++) {
    let after = shard === start.shard ? start.after : undefined;
    const pk = Keys.shardPk(ctx.name, shard);
    for (;;) {
      const page = await ctx.deps.dynamodb.send(
        new QueryCommand({
          TableName: ctx.deps.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': str(pk), ':prefix': str(fifo ? 'F#' : Keys.standardLowest) },
          Limit: READ_PAGE,
          ConsistentRead: input.consistency === 'strong',
          ...(after !== undefined ? { ExclusiveStartKey: Keys.key(pk, after) } : {}),
        }),
      );
      const items = page.Items ?? [];
      const states = fifo ? await groupHeads(ctx, pk, items, input.consistency === 'strong') : undefined;
      for (const item of items) {
        const peeked = await peekedOf(ctx, item, now, states);
        if (peeked?.state === input.state) messages.push(peeked);
        if (messages.length === limit) {
          // More may follow: this item's key is where the next page starts.
          return { messages, nextCursor: encodePeekCursor({ shard, after: skOf(item) }) };
        }
      }
      if (!page.LastEvaluatedKey) break;
      after = skOf(page.LastEvaluatedKey);
    }
  }
  return { messages };
}

/** A FIFO message's delivery state: its group's for the head, "waiting" (visible, never received) behind it. */
type GroupHeads = ReadonlyMap<string, { readonly head: number; readonly state: DeliveryState }>;

async function groupHeads(ctx: QueueContext, pk: string, messages: readonly Item[], consistent: boolean): Promise<GroupHeads> {
  const groups = [...new Set(messages.map((m) => readString(m, Attr.groupId)).filter((g): g is string => g !== undefined))];
  const heads = new Map<string, { head: number; state: DeliveryState }>();
  // BatchGetItem takes up to 100 keys; a page of READ_PAGE messages names at most that many groups.
  let keys = groups.map((g) => Keys.key(pk, Keys.groupSk(g)));
  while (keys.length > 0) {
    const response = await ctx.deps.dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { [ctx.deps.tableName]: { Keys: keys, ConsistentRead: consistent } } }),
    );
    for (const item of response.Responses?.[ctx.deps.tableName] ?? []) {
      const group = groupStateOf(item);
      if (group) heads.set(skOf(item).slice('G#'.length), { head: group.head, state: group });
    }
    keys = (response.UnprocessedKeys?.[ctx.deps.tableName]?.Keys as Item[] | undefined) ?? [];
  }
  return heads;
}

async function peekedOf(ctx: QueueContext, item: Item, now: number, heads: GroupHeads | undefined): Promise<PeekedMessage | undefined> {
  const sentAt = readNumber(item, Attr.sentAt) ?? 0;
  const groupId = readString(item, Attr.groupId);
  let messageId: string;
  let delivery: DeliveryState;
  if (heads) {
    messageId = readString(item, Attr.messageId) as string;
    const seq = Number(skOf(item).slice(skOf(item).lastIndexOf('#') + 1));
    const group = heads.get(groupId ?? '');
    if (!group || seq < group.head) return undefined; // acked or dead-lettered since the page was read
    delivery = seq === group.head ? group.state : { visibleAt: sentAt, leaseToken: undefined, fence: 0, receiveCount: 0 };
  } else {
    messageId = messageIdFromStandardSk(skOf(item));
    delivery = deliveryStateOf(item) as DeliveryState;
  }
  const state = messageStateOf(delivery, now);
  return {
    messageId,
    state,
    body: await ctx.deps.bodies.decode(item),
    ...contentTypeOf(item),
    ...(groupId !== undefined ? { groupId } : {}),
    receiveCount: delivery.receiveCount,
    sentAt,
    visibleAt: delivery.visibleAt,
    ...(state === MessageState.InFlight ? { leaseUntil: delivery.visibleAt, fence: delivery.fence } : {}),
  };
}

function encodePeekCursor(position: Position): string {
  return bytesToBase64Url(new TextEncoder().encode(JSON.stringify([position.shard, position.after])));
}

function decodePeekCursor(cursor: string | undefined, shards: number): Position {
  if (cursor === undefined) return { shard: 0 };
  try {
    const [shard, after] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (!Number.isInteger(shard) || (shard as number) < 0 || (shard as number) >= shards || typeof after !== 'string') {
      throw new Error('foreign cursor');
    }
    return { shard: shard as number, after };
  } catch {
    throw new ValidationError('cursor', 'not a cursor returned by a peek of this queue');
  }
}
