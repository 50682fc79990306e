/**
 * `concord-aws/tx`: two-phase commit and sagas across services, coordinated by a Step Functions
 * state machine generated from one definition (DESIGN.md T1–T6). Import from here, not from the
 * modules behind it.
 */
export {
  Coordinator,
  type CoordinatorOptions,
  executionArn,
  executionName,
  type ListTransactionsInput,
  OPEN_INDEX,
  type RecordSources,
  type RegisteredStateMachine,
  registerStateMachines,
  STATUS_INDEX,
  type StartOptions,
  type TransactionPage,
  type TransactionView,
} from './adapters/tx/coordinator.js';
export {
  type CoordinatorEnvelope,
  type HandleResult,
  Participant,
  type ParticipantHandlers,
  type ParticipantOptions,
  type PhaseContext,
  type PhaseOutcome,
} from './adapters/tx/participant.js';
export {
  type DirectReply,
  directInvokeHandler,
  participantLambdaHandler,
  runParticipantWorker,
  type ScheduledEvent,
  type SqsBatchEvent,
  sqsBatchHandler,
} from './adapters/tx/participant-handlers.js';
export { Sweeper, type SweeperOptions, type SweepResult } from './adapters/tx/sweeper.js';
export {
  type AslResources,
  buildStateMachine,
  type CrashWindowPauses,
  Decision,
  type ExecutionInput,
  type ParticipantAddress,
  TxStatus,
} from './core/tx/asl.js';
export {
  DEFAULT_COMPLETION_RETRY,
  DEFAULT_TRANSPORT_RETRY,
  defineTransaction,
  EXPRESS_DEFAULT_COMPLETION_RETRY,
  EXPRESS_DEFAULT_TIMEOUT_SECONDS,
  EXPRESS_EXECUTION_LIMIT_SECONDS,
  type ParticipantSpec,
  type RetryPolicy,
  type TransactionDefinition,
  TxEngine,
  TxMode,
  transactionBudgetSeconds,
} from './core/tx/definition.js';
export type { LeaderLease } from './core/tx/election.js';
export { PhaseContention, PhaseStepFailed, TransactionConfigurationError } from './core/tx/errors.js';
export { type ParticipantRecord, ParticipantState, Phase, type Reply, ReplyError } from './core/tx/participant-state.js';
export {
  buildTimeline,
  type LogEntry,
  type PhaseEntry,
  type TimelineEvent,
  TimelineEventKind,
  type TimelineSources,
} from './core/tx/timeline.js';
