/**
 * What one message and one transaction cost at AWS prices, estimated from what an operator can see
 * (a message's body, its receive count; a transaction's mode, engine, participants and timeline),
 * with the billing rules of cost.ts. The operators' console shows these; the benchmarks measure the
 * same quantities with the SDK cost meter (bench/queue.ts, bench/tx.ts), and the constants below
 * are the ones those runs found, so that an estimate and a measurement can be compared row by row.
 */
import { readUnits, type UsageTotals, usd, writeUnits } from './cost.js';
import { type ExecutionPath, stateTransitions } from './tx/billing.js';
import { type TxEngine, TxMode } from './tx/modes.js';

/**
 * Bytes a message item stores besides its body: keys, lease, counters, timestamps (the short
 * attribute names of adapters/dynamodb/queue/layout.ts). About 150 bytes; an estimate, not a layout.
 */
export const MESSAGE_ITEM_OVERHEAD_BYTES = 150;

export interface MessageUsageInput {
  /** The stored body's size in bytes (the JSON text of an HTTP-sent body). */
  readonly bodyBytes: number;
  /** Deliveries so far (each one a leasing conditional update); a message not yet received has 0. */
  readonly receives: number;
}

/**
 * A message's life: one put (send), one conditional update per delivery (the lease), one delete (the
 * ack); the receive's Query is eventually consistent and shared by the batch it returns, so a message
 * bills the share of its own bytes. bench:queue's headline (1 KB JSON): 3 WRU and 0.167 RRU.
 */
export function messageUsage({ bodyBytes, receives }: MessageUsageInput): UsageTotals {
  const itemBytes = bodyBytes + MESSAGE_ITEM_OVERHEAD_BYTES;
  const perWrite = writeUnits(itemBytes);
  const deliveries = Math.max(1, receives);
  return {
    writeUnits: perWrite * (2 + deliveries),
    readUnits: deliveries * readUnits(4 * 1024, false) * (itemBytes / (4 * 1024)),
    sqsRequests: 0,
    s3Puts: 0,
    s3Gets: 0,
  };
}

/** Measured per participant phase by bench:tx: a two-item DynamoDB transaction (2 WRU, billed 2x) and a read. */
export const PHASE_WRITE_UNITS = 4;
export const PHASE_READ_UNITS = 1;
/** The coordinator's record: created, decided, marked complete (bench:tx: 5 WRU, 2 RRU a transaction). */
export const COORDINATOR_WRITE_UNITS = 5;
export const COORDINATOR_READ_UNITS = 2;
/** Standard engine: the phase's SQS send, receive and delete (unbatched: an upper bound). */
export const SQS_REQUESTS_PER_PHASE = 3;
/** A participant Lambda's billed duration per phase and its memory (assumed, arm64). */
export const LAMBDA_MS_PER_PHASE = 50;
export const LAMBDA_MEMORY_MB = 256;

export interface TransactionUsageInput {
  readonly mode: TxMode;
  readonly engine: TxEngine;
  readonly participants: readonly string[];
  /** Participant phases delivered (prepare, commit, abort, action, compensate), retries included. */
  readonly phases: number;
  /** Attempts beyond the first (Step Functions bills a transition per retry). */
  readonly retries: number;
  readonly path: ExecutionPath;
  /** Express only: how long the execution ran (billed per 100 ms). */
  readonly durationMs?: number;
}

export function transactionUsage(input: TransactionUsageInput): UsageTotals {
  const { phases } = input;
  const common = {
    writeUnits: COORDINATOR_WRITE_UNITS + phases * PHASE_WRITE_UNITS,
    readUnits: COORDINATOR_READ_UNITS + phases * PHASE_READ_UNITS,
    s3Puts: 0,
    s3Gets: 0,
    // One invocation per phase plus the one that starts the transaction (the API).
    lambdaInvocations: phases + 1,
    lambdaGbSeconds: ((phases + 1) * LAMBDA_MS_PER_PHASE * LAMBDA_MEMORY_MB) / 1024 / 1000,
  };
  if (input.engine === 'express') {
    const billedMs = Math.max(100, Math.ceil((input.durationMs ?? 100) / 100) * 100);
    return { ...common, sqsRequests: 0, expressRequests: 1, expressGbSeconds: (billedMs / 1000) * (64 / 1024) };
  }
  return {
    ...common,
    sqsRequests: phases * SQS_REQUESTS_PER_PHASE,
    stateTransitions: stateTransitions(input, input.path) + input.retries,
  };
}

export interface CostLine {
  readonly service: 'DynamoDB' | 'SQS' | 'Step Functions' | 'Lambda';
  readonly usd: number;
}

/** The usage split by service, in USD. */
export function costBreakdown(u: UsageTotals): CostLine[] {
  const none: UsageTotals = { writeUnits: 0, readUnits: 0, sqsRequests: 0, s3Puts: 0, s3Gets: 0 };
  return [
    { service: 'DynamoDB', usd: usd({ ...none, writeUnits: u.writeUnits, readUnits: u.readUnits }) },
    { service: 'SQS', usd: usd({ ...none, sqsRequests: u.sqsRequests }) },
    {
      service: 'Step Functions',
      usd: usd({
        ...none,
        ...(u.stateTransitions !== undefined ? { stateTransitions: u.stateTransitions } : {}),
        ...(u.expressRequests !== undefined ? { expressRequests: u.expressRequests } : {}),
        ...(u.expressGbSeconds !== undefined ? { expressGbSeconds: u.expressGbSeconds } : {}),
      }),
    },
    {
      service: 'Lambda',
      usd: usd({
        ...none,
        ...(u.lambdaInvocations !== undefined ? { lambdaInvocations: u.lambdaInvocations } : {}),
        ...(u.lambdaGbSeconds !== undefined ? { lambdaGbSeconds: u.lambdaGbSeconds } : {}),
      }),
    },
  ];
}

/** The path an execution took, from the decision and (for a saga) how many actions ran. */
export function executionPath(mode: TxMode, decision: 'COMMIT' | 'ABORT' | undefined, actionsRun: number): ExecutionPath {
  if (decision !== 'ABORT') return { kind: 'commit' };
  if (mode === TxMode.TwoPhaseCommit) return { kind: 'abort' };
  return { kind: 'saga-abort', failedAt: Math.max(0, actionsRun - 1) };
}
