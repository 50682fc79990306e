export { API_ROUTES, type ApiAuthorization, ConcordApi, type ConcordApiProps } from './concord-api';
export { type ConsumerOptions, DurableQueue, type DurableQueueProps, type WatchOptions } from './durable-queue';
export { ConcordFunction, type ConcordFunctionProps } from './function';
export {
  type ParticipantService,
  type ParticipantServiceOptions,
  TransactionCoordinator,
  type TransactionCoordinatorProps,
} from './transaction-coordinator';
