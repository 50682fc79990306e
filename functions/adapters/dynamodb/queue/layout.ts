/**
 * How a queue is laid out in its DynamoDB table (one table holds any number of queues). This is the
 * only module that knows keys and attribute names: the adapter, the outbox cancellation explainer
 * and the CDK construct's stream filter all ask here.
 *
 * | item              | pk                      | sk                         |
 * |-------------------|-------------------------|----------------------------|
 * | queue config      | Q#<queue>               | #config                    |
 * | standard message  | Q#<queue>#<shard>       | M#<availableAt ms:13>#<id> |
 * | FIFO group        | Q#<queue>#<shard>       | G#<groupId>                |
 * | FIFO message      | Q#<queue>#<shard>       | F#<groupId>#<seq:13>       |
 * | dedup record      | Q#<queue>#D#<dedupId>   | d                          |
 * | dead letter       | Q#<queue>#DLQ           | <deadLetteredAt:13>#<id>   |
 * | settlement record | Q#<queue>#S#<id>        | <fence:13>                 |
 * | queue directory   | #queues                 | <queue>                    |
 *
 * A standard message's sort key starts with the instant it becomes available, so a receiver finds
 * ready work with a key range `M# .. M#<now>` on a few shard partitions (never a scan); in-flight
 * messages in that range are dropped by a filter and, ultimately, by the lease's condition. Queue
 * names cannot contain '#', so the prefixes never collide. A settlement record is left by a nack
 * that took its message away from the receipt's key (judge.ts); it lives outside every ready range
 * and expires by TTL. The queue directory is one partition with an entry per queue, written with the
 * queue's config item when the queue is first used or configured, so listing queues is a Query of
 * one partition, never a scan (`#queues` starts with '#': no queue's partition key can).
 *
 * Attribute names are short because every byte is billed three times (put, lease, ack):
 * v visibleAt ms · lt lease token · f fence · rc receive count · t sent at ms · g group id ·
 * b body text · z deflated body · o S3 key of an offloaded body · oz offloaded body is deflated ·
 * ct content type (only `application/json`: absent means plain text) ·
 * id message id (FIFO messages and dead letters; a standard message's id is in its sort key) ·
 * hd/tl FIFO group head and tail sequence numbers.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ContentType } from '../../../core/queue/config.js';
import type { DeliveryState, GroupState, StoredFields } from '../../../core/queue/delivery.js';
import type { SettlementRecord } from '../../../core/queue/judge.js';
import type { Item } from '../errors.js';

export type { Item };

export const Attr = {
  pk: 'pk',
  sk: 'sk',
  visibleAt: 'v',
  leaseToken: 'lt',
  fence: 'f',
  receiveCount: 'rc',
  sentAt: 't',
  groupId: 'g',
  bodyText: 'b',
  bodyDeflated: 'z',
  bodyObject: 'o',
  bodyObjectDeflated: 'oz',
  contentType: 'ct',
  messageId: 'id',
  head: 'hd',
  tail: 'tl',
  dedupExpiresAt: 'exp',
  ttl: 'ttl',
  deadLetteredAt: 'dla',
  deadLetterReason: 'why',
  /** On a redriven FIFO message: the fence its deliveries had reached (its next lease goes above it, Q2). */
  fenceFloor: 'ff',
  /** On a settlement record: what the nack did with the message ('moved' | 'dead-lettered'). */
  settlement: 'st',
  /** On the queue config item. */
  maxReceiveCount: 'mrc',
  visibilityTimeout: 'vt',
  fifo: 'fifo',
  shards: 'sh',
  dedupWindow: 'dw',
  version: 'ver',
} as const;

/** Where each field of the core's delivery and group state is stored. */
export const STATE_ATTRIBUTES: Readonly<Record<keyof GroupState, string>> = {
  visibleAt: Attr.visibleAt,
  leaseToken: Attr.leaseToken,
  fence: Attr.fence,
  receiveCount: Attr.receiveCount,
  head: Attr.head,
  tail: Attr.tail,
};

/** The attributes that hold a message's body, whichever way it is stored, and what its text is. */
export const BODY_ATTRIBUTES = [Attr.bodyText, Attr.bodyDeflated, Attr.bodyObject, Attr.bodyObjectDeflated, Attr.contentType] as const;

/** `{ contentType: 'application/json' }` for a body stored as JSON, `{}` for plain text. */
export function contentTypeOf(item: Item): { contentType?: typeof ContentType.Json } {
  return readString(item, Attr.contentType) === ContentType.Json ? { contentType: ContentType.Json } : {};
}

const pad13 = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, '0');

const Prefix = {
  queue: 'Q#',
  standardMessage: 'M#',
  group: 'G#',
  fifoMessage: 'F#',
  dedup: '#D#',
  dedupSk: 'd',
} as const;

export const Keys = {
  config: (queue: string): Item => Keys.key(`${Prefix.queue}${queue}`, '#config'),
  /** Every queue's config item starts with this (listing queues). */
  configSk: '#config',
  shardPk: (queue: string, shard: number) => `${Prefix.queue}${queue}#${shard}`,
  standardMessageSk: (availableAt: number, id: string) => `${Prefix.standardMessage}${pad13(availableAt)}#${id}`,
  /** Upper bound of the sort keys of standard messages available at `now`. */
  standardAvailableUpTo: (now: number) => `${Prefix.standardMessage}${pad13(now)}#~`,
  standardLowest: Prefix.standardMessage,
  groupSk: (groupId: string) => `${Prefix.group}${groupId}`,
  groupPrefix: Prefix.group,
  fifoMessageSk: (groupId: string, seq: number) => `${Prefix.fifoMessage}${groupId}#${pad13(seq)}`,
  dedup: (queue: string, dedupId: string): Item => Keys.key(`${Prefix.queue}${queue}${Prefix.dedup}${dedupId}`, Prefix.dedupSk),
  deadLetterPk: (queue: string) => `${Prefix.queue}${queue}#DLQ`,
  deadLetterSk: (at: number, id: string) => `${pad13(at)}#${id}`,
  settlement: (queue: string, messageId: string, fence: number): Item => Keys.key(`${Prefix.queue}${queue}#S#${messageId}`, pad13(fence)),
  directoryPk: '#queues',
  directoryEntry: (queue: string): Item => Keys.key('#queues', queue),
  key: (pk: string, sk: string): Item => ({ pk: { S: pk }, sk: { S: sk } }),
} as const;

/**
 * What the CDK construct filters the table's stream on to wake consumers: inserts of message items
 * (standard and FIFO) of the given queues.
 */
export const STREAM_KEY_PREFIXES = {
  partitionOf: (queue: string) => `${Prefix.queue}${queue}#`,
  messageSortKeys: [Prefix.standardMessage, Prefix.fifoMessage],
} as const;

/** A dedup record's key, back to its dedup id (undefined for any other item). */
export function parseDedupKey(key: Item): string | undefined {
  const pk = key.pk?.S;
  if (key.sk?.S !== Prefix.dedupSk || pk === undefined || !pk.startsWith(Prefix.queue)) return undefined;
  const at = pk.indexOf(Prefix.dedup, Prefix.queue.length);
  return at < 0 ? undefined : pk.slice(at + Prefix.dedup.length);
}

export const isGroupKey = (key: Item): boolean => key.sk?.S?.startsWith(Prefix.group) === true;

/** A standard message's id is the last segment of its sort key. */
export function messageIdFromStandardSk(sk: string): string {
  return sk.slice(sk.lastIndexOf('#') + 1);
}

/** The instant encoded in a standard message's sort key. */
export function availableAtFromStandardSk(sk: string): number {
  return Number(sk.slice(Prefix.standardMessage.length, Prefix.standardMessage.length + 13));
}

export const groupIdFromGroupSk = (sk: string): string => sk.slice(Prefix.group.length);

/** The queue name of a config item's key (listing queues). */
export function queueNameFromConfigKey(key: Item): string | undefined {
  const pk = key.pk?.S;
  return key.sk?.S === Keys.configSk && pk?.startsWith(Prefix.queue) ? pk.slice(Prefix.queue.length) : undefined;
}

export const num = (n: number): AttributeValue => ({ N: String(n) });
export const str = (s: string): AttributeValue => ({ S: s });

export function readNumber(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  return value && 'N' in value && value.N !== undefined ? Number(value.N) : undefined;
}

export function readString(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return value && 'S' in value ? value.S : undefined;
}

/** The delivery state stored on a standard message or a FIFO group item. */
export function deliveryStateOf(item: Item | undefined): DeliveryState | undefined {
  if (!item) return undefined;
  return {
    visibleAt: readNumber(item, Attr.visibleAt) ?? 0,
    leaseToken: readString(item, Attr.leaseToken),
    fence: readNumber(item, Attr.fence) ?? 0,
    receiveCount: readNumber(item, Attr.receiveCount) ?? 0,
  };
}

/** A FIFO group item's state. */
export function groupStateOf(item: Item | undefined): GroupState | undefined {
  const delivery = deliveryStateOf(item);
  if (!delivery) return undefined;
  return { ...delivery, head: readNumber(item, Attr.head) ?? 0, tail: readNumber(item, Attr.tail) ?? 0 };
}

/** The state fields an item has, as the core's guards see them (absent attributes stay absent). */
export function storedFieldsOf(item: Item | undefined): StoredFields | undefined {
  if (!item) return undefined;
  const fields: Record<string, number | string> = {};
  for (const [field, attr] of Object.entries(STATE_ATTRIBUTES)) {
    const value = field === 'leaseToken' ? readString(item, attr) : readNumber(item, attr);
    if (value !== undefined) fields[field] = value;
  }
  return fields as StoredFields;
}

/** The attributes that store `state` (a lease token only when there is one). */
export function stateAttributes(state: StoredFields): Item {
  const item: Item = {};
  for (const [field, value] of Object.entries(state)) {
    if (value === undefined) continue;
    const attr = STATE_ATTRIBUTES[field as keyof GroupState];
    item[attr] = typeof value === 'string' ? str(value) : num(value);
  }
  return item;
}

/** A message's body attributes (and its group and sent-at), to copy into a dead letter or back. */
export function copyAttributes(source: Item, names: readonly string[]): Item {
  const copied: Item = {};
  for (const name of names) {
    const value = source[name];
    if (value) copied[name] = value;
  }
  return copied;
}

export function settlementOf(item: Item | undefined): SettlementRecord | undefined {
  const token = readString(item, Attr.leaseToken);
  const outcome = readString(item, Attr.settlement);
  if (token === undefined || (outcome !== 'moved' && outcome !== 'dead-lettered')) return undefined;
  return { token, outcome };
}

export function pkOf(item: Item): string {
  const pk = item.pk?.S;
  if (pk === undefined) throw new Error('item without a string pk');
  return pk;
}

export function skOf(item: Item): string {
  const sk = item.sk?.S;
  if (sk === undefined) throw new Error('item without a string sk');
  return sk;
}

export const keyOf = (item: Item): Item => Keys.key(pkOf(item), skOf(item));
