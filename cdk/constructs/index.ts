/**
 * `concord-aws/cdk`: the constructs. Their Lambda handlers are bundled when the package is built,
 * so synthesizing a stack needs neither Concord's sources nor esbuild. `aws-cdk-lib` and
 * `constructs` are peer dependencies.
 */
export { API_ROUTES, type ApiAuthorization, CONSOLE_ROUTES, ConcordApi, type ConcordApiProps } from './concord-api.js';
export { type ConsumerOptions, DurableQueue, type DurableQueueProps, type WatchOptions } from './durable-queue.js';
export {
  type ParticipantService,
  type ParticipantServiceOptions,
  TransactionCoordinator,
  type TransactionCoordinatorProps,
} from './transaction-coordinator.js';
