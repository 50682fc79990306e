/**
 * The dead letters of a queue (Q6): listing them (oldest first, by an opaque cursor) and moving
 * them back, rate- and time-limited. Each move is one transaction (delete from the DLQ + put into
 * the queue, by the mode), so a crash loses nothing and a rerun resumes where the last one stopped.
 */
import { DeleteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { bytesToBase64Url } from '../../../core/encoding.js';
import { ValidationError } from '../../../core/errors.js';
import { type ListDeadLettersInput, RedriveDefaults, type RedriveInput } from '../../../core/queue/config.js';
import type { DeadLetter, DeadLetterPage, RedriveResult } from '../../../core/queue/model.js';
import { type Item, isConditionalCheckFailed } from '../errors.js';
import type { LoadedConfig } from './config-store.js';
import type { QueueContext } from './context.js';
import { Attr, contentTypeOf, Keys, readNumber, readString, str } from './layout.js';
import type { DeliveryMode } from './mode.js';

/** Moves per page of a redrive. */
const REDRIVE_PAGE = 25;

export async function deadLetterOf(ctx: QueueContext, item: Item): Promise<DeadLetter> {
  const groupId = readString(item, Attr.groupId);
  return {
    messageId: readString(item, Attr.messageId) as string,
    body: await ctx.deps.bodies.decode(item),
    ...contentTypeOf(item),
    ...(groupId !== undefined ? { groupId } : {}),
    receiveCount: readNumber(item, Attr.receiveCount) ?? 0,
    sentAt: readNumber(item, Attr.sentAt) ?? 0,
    deadLetteredAt: readNumber(item, Attr.deadLetteredAt) ?? 0,
    reason: readString(item, Attr.deadLetterReason) ?? '',
  };
}

export async function listDeadLetters(ctx: QueueContext, options: ListDeadLettersInput): Promise<DeadLetterPage> {
  const page = await ctx.deps.dynamodb.send(
    new QueryCommand({
      TableName: ctx.deps.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': str(Keys.deadLetterPk(ctx.name)) },
      Limit: options.limit ?? 10,
      ExclusiveStartKey: decodeCursor(ctx, options.cursor),
      ConsistentRead: options.consistency === 'strong',
    }),
  );
  const deadLetters = await Promise.all((page.Items ?? []).map((item) => deadLetterOf(ctx, item)));
  const nextCursor = page.LastEvaluatedKey ? encodeCursor(page.LastEvaluatedKey) : undefined;
  return { deadLetters, ...(nextCursor ? { nextCursor } : {}) };
}

/**
 * Moves dead letters back into the queue, oldest first, at most `perSecond` per second and `max`
 * per call, and stops (with `remaining: true`) rather than start a move due past `maxSeconds`.
 */
export async function redrive(ctx: QueueContext, mode: DeliveryMode, loaded: LoadedConfig, options: RedriveInput): Promise<RedriveResult> {
  const max = options.max ?? RedriveDefaults.max;
  const perSecond = options.perSecond ?? RedriveDefaults.perSecond;
  const started = ctx.now();
  const limit = options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.maxSeconds * 1000;
  let redriven = 0;
  let attempted = 0;
  let startKey: Item | undefined;
  while (redriven < max) {
    const page = await ctx.deps.dynamodb.send(
      new QueryCommand({
        TableName: ctx.deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': str(Keys.deadLetterPk(ctx.name)) },
        Limit: Math.min(REDRIVE_PAGE, max - redriven),
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      // Rate limit: the n-th move (tried, whether it moved or another redrive had) may not start
      // before started + n / perSecond. Time limit: no move starts past it, whether the rate or
      // slow moves would take it there.
      const due = started + (attempted * 1000) / perSecond;
      if (due > limit || ctx.now() >= limit) return { redriven, remaining: true };
      const wait = due - ctx.now();
      if (wait > 0) await ctx.deps.sleep(wait);
      attempted++;
      if (await mode.redriveOne(item, loaded)) redriven++;
    }
    startKey = page.LastEvaluatedKey;
    if (!startKey) return { redriven, remaining: false };
  }
  return { redriven, remaining: true };
}

/**
 * A dead letter's item by its message id. Its sort key starts with when it was dead-lettered, so
 * this is a Query of the queue's dead-letter partition filtered on the id: one partition, never a
 * scan, but it reads the dead letters older than the one sought (strongly consistent, 1 RRU per
 * 4 KB read, so that a letter just written is found).
 */
export async function findDeadLetter(ctx: QueueContext, messageId: string): Promise<Item | undefined> {
  let startKey: Item | undefined;
  do {
    const page = await ctx.deps.dynamodb.send(
      new QueryCommand({
        TableName: ctx.deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#id = :id',
        ExpressionAttributeNames: { '#id': Attr.messageId },
        ExpressionAttributeValues: { ':pk': str(Keys.deadLetterPk(ctx.name)), ':id': str(messageId) },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    const found = page.Items?.[0];
    if (found) return found;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return undefined;
}

/**
 * Deletes a dead letter for good (and its claim-check object, after the item is gone). False when
 * it was not there, or another call deleted or redrove it first.
 */
export async function deleteDeadLetter(ctx: QueueContext, messageId: string): Promise<boolean> {
  const item = await findDeadLetter(ctx, messageId);
  if (!item) return false;
  try {
    await ctx.deps.dynamodb.send(
      new DeleteItemCommand({
        TableName: ctx.deps.tableName,
        Key: Keys.key(Keys.deadLetterPk(ctx.name), readString(item, 'sk') as string),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
  await ctx.deps.bodies.releaseKey(readString(item, Attr.bodyObject)).catch(() => undefined);
  return true;
}

function encodeCursor(key: Item): string {
  return bytesToBase64Url(new TextEncoder().encode(JSON.stringify([key.pk?.S, key.sk?.S])));
}

function decodeCursor(ctx: QueueContext, cursor: string | undefined): Item | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [pk, sk] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (pk !== Keys.deadLetterPk(ctx.name) || typeof sk !== 'string') throw new Error('foreign cursor');
    return Keys.key(pk, sk);
  } catch {
    throw new ValidationError('cursor', 'not a cursor returned by this queue');
  }
}
