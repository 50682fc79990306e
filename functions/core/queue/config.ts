import { z } from 'zod';
import { ConflictError } from '../errors.js';
import { withoutUndefined } from '../validation.js';

/** Hard limits, mostly SQS's, so a Concord queue can stand in for an SQS queue. */
export const QueueLimits = {
  queueName: /^[A-Za-z0-9_-]{1,80}$/,
  maxBatch: 10,
  maxWaitSeconds: 20,
  maxVisibilityTimeoutSeconds: 43_200,
  maxDelaySeconds: 900,
  /** SQS's limit since August 2025; bodies beyond the item budget go to S3. */
  maxBodyBytes: 1_048_576,
  maxGroupIdLength: 128,
  maxDedupIdLength: 128,
  maxReceiveCount: 1_000,
  maxShards: 256,
  minDedupWindowSeconds: 60,
  maxDedupWindowSeconds: 86_400,
  /** 25 outbox messages with dedup ids and FIFO groups use at most 75 of a transaction's 100 actions. */
  maxOutboxBatch: 25,
  maxConsumeConcurrency: 1_000,
  maxDeadLetterPage: 100,
  maxPeekPage: 100,
  maxQueuePage: 100,
  maxRedrive: 10_000,
  maxRedrivePerSecond: 1_000,
} as const;

/** `redrive` per call: how many dead letters it moves, and how fast, unless told otherwise. */
export const RedriveDefaults = { max: 100, perSecond: 50 } as const;

/** The configuration every queue starts with on first use (DESIGN.md: 5, 30, false). */
export const QueueDefaults = {
  maxReceiveCount: 5,
  visibilityTimeoutSeconds: 30,
  fifo: false,
  shards: 4,
  dedupWindowSeconds: 300,
} as const;

export interface QueueConfig {
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly fifo: boolean;
  /** Partition keys the queue spreads over, chosen by consistent hashing. Can only grow. */
  readonly shards: number;
  readonly dedupWindowSeconds: number;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** SQS's character set for group and deduplication ids: printable ASCII. */
const sqsId = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const queueNameSchema = z.string().regex(QueueLimits.queueName, 'must match [A-Za-z0-9_-]{1,80}');

export const queueConfigPatchSchema = z
  .object({
    maxReceiveCount: int(1, QueueLimits.maxReceiveCount).optional(),
    // At least 1 s: a lease that ends as it begins could never be acked.
    visibilityTimeoutSeconds: int(1, QueueLimits.maxVisibilityTimeoutSeconds).optional(),
    fifo: z.boolean().optional(),
    shards: int(1, QueueLimits.maxShards).optional(),
    dedupWindowSeconds: int(QueueLimits.minDedupWindowSeconds, QueueLimits.maxDedupWindowSeconds).optional(),
  })
  .strict();
export type QueueConfigPatch = z.infer<typeof queueConfigPatchSchema>;

/**
 * What a message body's text is (docs/queue.md "Bodies"). A body is always stored and handed to a
 * library consumer as text; `application/json` marks text that is one JSON value, which the HTTP
 * API returns parsed. Left out: plain text (no marker is stored, nothing is billed for it).
 */
export const ContentType = { Text: 'text/plain', Json: 'application/json' } as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export const sendInputSchema = z
  .object({
    body: z.string(),
    /** `application/json`: `body` is JSON text (checked: it must parse). @default 'text/plain' */
    contentType: z.enum([ContentType.Text, ContentType.Json]).optional(),
    groupId: sqsId(QueueLimits.maxGroupIdLength).optional(),
    dedupId: sqsId(QueueLimits.maxDedupIdLength).optional(),
    delaySeconds: int(0, QueueLimits.maxDelaySeconds).optional(),
  })
  .strict()
  .superRefine((message, context) => {
    if (message.contentType === ContentType.Json && !isJsonText(message.body)) {
      context.addIssue({ code: 'custom', path: ['body'], message: 'is not JSON text, as contentType application/json says it is' });
    }
  });
export type SendInput = z.infer<typeof sendInputSchema>;

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const receiveInputSchema = z
  .object({
    max: int(1, QueueLimits.maxBatch).optional(),
    visibilityTimeoutSeconds: int(1, QueueLimits.maxVisibilityTimeoutSeconds).optional(),
    waitSeconds: int(0, QueueLimits.maxWaitSeconds).optional(),
  })
  .strict();
export type ReceiveInput = z.infer<typeof receiveInputSchema>;

const consistency = z.enum(['strong', 'eventual']);

export const statsInputSchema = z.object({ consistency: consistency.optional() }).strict();
export type StatsInput = z.infer<typeof statsInputSchema>;

export const listDeadLettersInputSchema = z
  .object({
    limit: int(1, QueueLimits.maxDeadLetterPage).optional(),
    /** The `nextCursor` of the previous page. */
    cursor: z.string().min(1).optional(),
    consistency: consistency.optional(),
  })
  .strict();
export type ListDeadLettersInput = z.infer<typeof listDeadLettersInputSchema>;

const messageStates = ['visible', 'in-flight', 'delayed'] as const;

export const peekInputSchema = z
  .object({
    state: z.enum(messageStates),
    limit: int(1, QueueLimits.maxPeekPage).optional(),
    /** The `nextCursor` of the previous page (of the same `state`). */
    cursor: z.string().min(1).optional(),
    consistency: consistency.optional(),
  })
  .strict();
export type PeekInput = z.infer<typeof peekInputSchema>;

export const listQueuesInputSchema = z
  .object({
    limit: int(1, QueueLimits.maxQueuePage).optional(),
    cursor: z.string().min(1).optional(),
    consistency: consistency.optional(),
  })
  .strict();
export type ListQueuesInput = z.infer<typeof listQueuesInputSchema>;

/** A message id as the queue hands them out (base64url; tests may use readable ones). */
export const messageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must match [A-Za-z0-9_-]{1,128}');

export const redriveInputSchema = z
  .object({
    max: int(1, QueueLimits.maxRedrive).optional(),
    perSecond: z.number().gt(0).max(QueueLimits.maxRedrivePerSecond).optional(),
    /** Stop (with `remaining: true`) rather than start a move due later than this after the call began. */
    maxSeconds: z.number().gt(0).optional(),
  })
  .strict();
export type RedriveInput = z.infer<typeof redriveInputSchema>;

export const sendBatchInputSchema = z.array(z.unknown()).min(1).max(QueueLimits.maxBatch);
export const outboxInputSchema = z.array(z.unknown()).min(1).max(QueueLimits.maxOutboxBatch);

export const nackInputSchema = z.object({ delaySeconds: int(0, QueueLimits.maxDelaySeconds).optional() }).strict();
export const extendInputSchema = z.object({ visibilityTimeoutSeconds: int(0, QueueLimits.maxVisibilityTimeoutSeconds) }).strict();

export function resolveConfig(stored: Partial<QueueConfig> | undefined): QueueConfig {
  return { ...QueueDefaults, ...stored };
}

/**
 * Checks a configuration change against the settings that cannot change once a queue exists:
 * `fifo` (standard and FIFO messages are laid out differently) and shrinking `shards` (messages
 * already stored in the dropped shards would become invisible to receivers).
 */
export function applyConfigPatch(current: QueueConfig, patch: QueueConfigPatch, queueExists: boolean): QueueConfig {
  const next = resolveConfig({ ...current, ...(withoutUndefined(patch) as Partial<QueueConfig>) });
  if (queueExists && next.fifo !== current.fifo) {
    throw new ConflictError(`fifo: cannot change from ${current.fifo} to ${next.fifo} on an existing queue`);
  }
  if (queueExists && next.shards < current.shards) {
    throw new ConflictError(`shards: can only grow (current ${current.shards}, requested ${next.shards})`);
  }
  if (next.fifo && queueExists && next.shards !== current.shards) {
    throw new ConflictError('shards: cannot change on a FIFO queue (a message group must stay in one shard)');
  }
  return next;
}

/**
 * The queue's input rules as zod schemas, for an edge that validates before calling (the HTTP
 * API reuses these, so the edge and the library cannot disagree).
 */
export const QueueSchemas = {
  queueName: queueNameSchema,
  configPatch: queueConfigPatchSchema,
  send: sendInputSchema,
  receive: receiveInputSchema,
  nack: nackInputSchema,
  extend: extendInputSchema,
  stats: statsInputSchema,
  listDeadLetters: listDeadLettersInputSchema,
  redrive: redriveInputSchema,
  peek: peekInputSchema,
  listQueues: listQueuesInputSchema,
  messageId: messageIdSchema,
} as const;
