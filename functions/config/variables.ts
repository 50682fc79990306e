/**
 * The environment variables Concord's Lambdas read, by name: the one place the CDK constructs
 * (which set them) and the handlers (which read them, config/env.ts) take the names from.
 */
export const EnvVar = {
  /** The queue table (DurableQueue). */
  QueueTable: 'CONCORD_QUEUE_TABLE',
  /** The claim-check bucket; unset: bodies over the item budget are refused (413). */
  ClaimCheckBucket: 'CONCORD_CLAIM_CHECK_BUCKET',
  /** The coordinator's table (TransactionCoordinator). */
  CoordinatorTable: 'CONCORD_COORDINATOR_TABLE',
  /** JSON: state machine ARN by transaction type. */
  StateMachines: 'CONCORD_STATE_MACHINES',
  /** JSON: the transaction definitions the state machines were generated from (the sweeper's budgets). */
  TransactionDefinitions: 'CONCORD_TRANSACTION_DEFINITIONS',
  /** Queue depth metrics: which queues, in which CloudWatch namespace. */
  WatchedQueues: 'CONCORD_WATCHED_QUEUES',
  MetricsNamespace: 'CONCORD_METRICS_NAMESPACE',
  /** A participant settles a transaction it has held PREPARED this long from the decision record (T3). */
  InDoubtAfterSeconds: 'CONCORD_IN_DOUBT_AFTER_SECONDS',
  /** The example app: its banks, the queues its consumer drains, the queue of account events. */
  Banks: 'CONCORD_BANKS',
  BankName: 'CONCORD_BANK_NAME',
  BankTable: 'CONCORD_BANK_TABLE',
  ConsumedQueues: 'CONCORD_CONSUMED_QUEUES',
  OutboxQueue: 'CONCORD_OUTBOX_QUEUE',
} as const;
export type EnvVar = (typeof EnvVar)[keyof typeof EnvVar];
