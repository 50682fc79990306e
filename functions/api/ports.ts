/**
 * What the HTTP layer needs from the rest of Concord: the Queue port, and the slices of the
 * coordinator's and the example banks' classes it calls, so that the production objects fit as
 * they are and tests can pass in-memory ones.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Queues } from 'concord-aws/queue';
import type { Coordinator, Participant, Sweeper, TxMode } from 'concord-aws/tx';
import type { Bank, TransferLeg } from '../bank/bank.js';
import type { ConsoleAssets } from '../console/assets.js';
import type { BankName } from './schemas.js';

export type CoordinatorPort = Pick<Coordinator, 'start' | 'view' | 'list' | 'timelineSources'>;
/** The fenced operator action on STUCK transactions (a Sweeper of its own role). */
export type OperatorPort = Pick<Sweeper, 'retryStuck'>;
export type BankPort = Pick<Bank, 'open' | 'account'>;
export type ParticipantPort = Pick<Participant<TransferLeg>, 'record'>;

export interface BankDeps {
  readonly bank: BankPort;
  /** Reads the bank's participant records (the transfer view's per-leg state). */
  readonly participant: ParticipantPort;
  /** The bank's SQS queue: where the standard engine sends this bank's legs. */
  readonly queueUrl: string;
  /** The bank's participant Lambda: what the express engine invokes. Absent: no express transfers. */
  readonly functionName?: string;
}

/** Fits @aws-lambda-powertools/logger's Logger. */
export interface ApiLogger {
  error(message: string, error: Error): void;
}

export interface ApiDeps {
  /** The Queue port (concord-aws/queue): the DynamoDB queue service, or InMemoryQueues in tests. */
  readonly queues: Queues;
  readonly coordinator: CoordinatorPort;
  /** Absent: POST /v1/transactions/{id}/retry answers 503 (this deployment cannot retry). */
  readonly operator?: OperatorPort;
  readonly banks: Readonly<Record<BankName, BankDeps>>;
  /** The registered state-machine (transaction type) names: transferDefinition(mode).name. */
  readonly transferTypes: Readonly<Record<TxMode, string>>;
  /** The express engine's transfer types, by mode. Absent: transfers run on the standard engine only. */
  readonly expressTransferTypes?: Readonly<Record<TxMode, string>>;
  /** Transfer ids when the caller gives none, and references for logged internal errors. Must match [A-Za-z0-9_-]{1,80}. */
  readonly newId: () => string;
  readonly logger?: ApiLogger;
  /**
   * The transactional outbox for account events: the write actions that enqueue `event`, to
   * commit with the account itself. Absent: accounts are opened without an event.
   */
  readonly accountEvents?: (event: Record<string, unknown>) => Promise<readonly TransactWriteItem[]>;
  /** The operators' console's built files, served at /console/. Absent: no console route. */
  readonly consoleAssets?: ConsoleAssets;
}
