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

export const sendInputSchema = z
  .object({
    body: z.string(),
    groupId: sqsId(QueueLimits.maxGroupIdLength).optional(),
    dedupId: sqsId(QueueLimits.maxDedupIdLength).optional(),
    delaySeconds: int(0, QueueLimits.maxDelaySeconds).optional(),
  })
  .strict();
export type SendInput = z.infer<typeof sendInputSchema>;

export const receiveInputSchema = z
  .object({
    max: int(1, QueueLimits.maxBatch).optional(),
    visibilityTimeoutSeconds: int(1, QueueLimits.maxVisibilityTimeoutSeconds).optional(),
    waitSeconds: int(0, QueueLimits.maxWaitSeconds).optional(),
  })
  .strict();
export type ReceiveInput = z.infer<typeof receiveInputSchema>;

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
