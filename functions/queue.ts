/**
 * The public API of the Concord queue. Import from here, not from the modules behind it.
 */

export type { ClaimCheckStore } from './adapters/body-store';
export { CostMeter, type CostSnapshot } from './adapters/cost-meter';
export {
  type BatchSendResult,
  type DeadLetter,
  DurableQueue,
  explainOutboxCancellation,
  type OutboxBatch,
  type OutboxCancellation,
  QueueService,
  type QueueServiceOptions,
  type QueueStats,
  type ReceivedMessage,
  type SendResult,
} from './adapters/dynamodb/durable-queue';
export { type BackoffPolicy, DEFAULT_NACK_BACKOFF } from './core/backoff';
export type { Clock, Entropy } from './core/clock';
export { ConcordError, ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from './core/errors';
export { type BodyStoragePolicy, DEFAULT_BODY_POLICY } from './core/queue/body';
export { type QueueConfig, QueueDefaults, QueueLimits, type ReceiveInput, type SendInput } from './core/queue/config';
export { LeaseLossReason, LeaseLost } from './core/queue/errors';
export { decodeReceipt, type Receipt } from './core/queue/receipt';
