export type { Deps } from './context.js';
export type { DeliveryMode } from './mode.js';
export { explainOutboxCancellation, type OutboxBatch, type OutboxCancellation } from './outbox.js';
export { DynamoDbQueue } from './queue.js';
export { createQueueService, type QueueService, type QueueServiceOptions } from './service.js';
