/**
 * How a queue is laid out in its DynamoDB table (one table holds any number of queues).
 *
 * | item              | pk                      | sk                         |
 * |-------------------|-------------------------|----------------------------|
 * | queue config      | Q#<queue>               | #config                    |
 * | standard message  | Q#<queue>#<shard>       | M#<availableAt ms:13>#<id> |
 * | FIFO group        | Q#<queue>#<shard>       | G#<groupId>                |
 * | FIFO message      | Q#<queue>#<shard>       | F#<groupId>#<seq:13>       |
 * | dedup record      | Q#<queue>#D#<dedupId>   | d                          |
 * | dead letter       | Q#<queue>#DLQ           | <deadLetteredAt:13>#<id>   |
 *
 * A standard message's sort key starts with the instant it becomes available, so a receiver finds
 * ready work with a key range `M# .. M#<now>` on a few shard partitions (never a scan); in-flight
 * messages in that range are dropped by a filter and, ultimately, by the lease's condition. Queue
 * names cannot contain '#', so the prefixes never collide.
 *
 * Attribute names are short because every byte is billed three times (put, lease, ack):
 * v visibleAt ms · lt lease token · f fence · rc receive count · t sent at ms · g group id ·
 * b body text · z deflated body · o S3 key of an offloaded body · oz offloaded body is deflated ·
 * id message id (FIFO messages and dead letters; a standard message's id is in its sort key) ·
 * hd/tl FIFO group head and tail sequence numbers.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DeliveryState } from '../../core/queue/lease.js';

import type { Item } from './errors.js';

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
  messageId: 'id',
  head: 'hd',
  tail: 'tl',
  dedupExpiresAt: 'exp',
  ttl: 'ttl',
  deadLetteredAt: 'dla',
  deadLetterReason: 'why',
  /** On a redriven FIFO message: the fence its deliveries had reached (its next lease goes above it, Q2). */
  fenceFloor: 'ff',
} as const;

const pad13 = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, '0');

export const Keys = {
  config: (queue: string): Item => ({ pk: { S: `Q#${queue}` }, sk: { S: '#config' } }),
  shardPk: (queue: string, shard: number) => `Q#${queue}#${shard}`,
  standardMessageSk: (availableAt: number, id: string) => `M#${pad13(availableAt)}#${id}`,
  /** Upper bound of the sort keys of standard messages available at `now`. */
  standardAvailableUpTo: (now: number) => `M#${pad13(now)}#~`,
  standardLowest: 'M#',
  groupSk: (groupId: string) => `G#${groupId}`,
  groupPrefix: 'G#',
  fifoMessageSk: (groupId: string, seq: number) => `F#${groupId}#${pad13(seq)}`,
  dedup: (queue: string, dedupId: string): Item => ({ pk: { S: `Q#${queue}#D#${dedupId}` }, sk: { S: 'd' } }),
  deadLetterPk: (queue: string) => `Q#${queue}#DLQ`,
  deadLetterSk: (at: number, id: string) => `${pad13(at)}#${id}`,
  key: (pk: string, sk: string): Item => ({ pk: { S: pk }, sk: { S: sk } }),
} as const;

/** A standard message's id is the last segment of its sort key. */
export function messageIdFromStandardSk(sk: string): string {
  return sk.slice(sk.lastIndexOf('#') + 1);
}

/** The instant encoded in a standard message's sort key. */
export function availableAtFromStandardSk(sk: string): number {
  return Number(sk.slice(2, 15));
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
