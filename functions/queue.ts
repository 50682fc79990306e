/**
 * `concord-aws/queue`: the fenced DynamoDB queue (DESIGN.md Q1–Q7). Import from here, not from the
 * modules behind it.
 *
 *   const queues = createQueueService({ dynamodb, tableName });
 *   const queue = queues.queue('orders');           // a Queue (core/queue/model.ts)
 *   await queue.send({ body: JSON.stringify(order) });
 *   await consume(queue, async (message) => { ... }, { signal });
 */
export type { ClaimCheckStore } from './adapters/body-store.js';
export {
  createQueueService,
  type DynamoDbQueue,
  explainOutboxCancellation,
  type OutboxBatch,
  type OutboxCancellation,
  type QueueService,
  type QueueServiceOptions,
} from './adapters/dynamodb/queue/index.js';
export { type BackoffPolicy, DEFAULT_NACK_BACKOFF } from './core/backoff.js';
export { ContentionError, ThrottledError } from './core/errors.js';
export { type BodyStoragePolicy, DEFAULT_BODY_POLICY } from './core/queue/body.js';
export {
  ContentType,
  type ListDeadLettersInput,
  type ListQueuesInput,
  type PeekInput,
  type QueueConfig,
  type QueueConfigPatch,
  QueueDefaults,
  QueueLimits,
  QueueSchemas,
  type ReceiveInput,
  RedriveDefaults,
  type RedriveInput,
  type SendInput,
  type StatsInput,
} from './core/queue/config.js';
export { LeaseLossReason, LeaseLost, SendOutcomeUnknown } from './core/queue/errors.js';
export type {
  BatchSendResult,
  ConsumeOptions,
  ConsumeStats,
  DeadLetter,
  DeadLetterPage,
  ExtendResult,
  NackOptions,
  PeekedMessage,
  PeekPage,
  Queue,
  QueuePage,
  QueueStats,
  Queues,
  ReceivedMessage,
  ReceiveOptions,
  RedriveResult,
  SendResult,
} from './core/queue/model.js';
export { MessageState } from './core/queue/model.js';
export { consume } from './services/consume.js';
