/**
 * `concord-aws/queue`: the fenced DynamoDB queue (DESIGN.md Q1–Q7). Import from here, not from the
 * modules behind it.
 */
export type { ClaimCheckStore } from './adapters/body-store.js';
export {
  type BatchSendResult,
  type ConsumeStats,
  createQueueService,
  type DeadLetter,
  type DynamoDbQueue,
  explainOutboxCancellation,
  type OutboxBatch,
  type OutboxCancellation,
  type QueueService,
  type QueueServiceOptions,
  type QueueStats,
  type ReceivedMessage,
  type SendResult,
} from './adapters/dynamodb/durable-queue.js';
export { type BackoffPolicy, DEFAULT_NACK_BACKOFF } from './core/backoff.js';
export { type BodyStoragePolicy, DEFAULT_BODY_POLICY } from './core/queue/body.js';
export {
  type QueueConfig,
  type QueueConfigPatch,
  QueueDefaults,
  QueueLimits,
  type ReceiveInput,
  RedriveDefaults,
  type SendInput,
} from './core/queue/config.js';
export { LeaseLossReason, LeaseLost, SendOutcomeUnknown } from './core/queue/errors.js';
