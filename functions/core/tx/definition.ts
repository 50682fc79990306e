import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { TxEngine, TxMode } from './modes.js';

/**
 * A transaction type: its participants and, per participant, the time it may take and how its
 * transport is retried. One definition drives the state machine (asl.ts) and the workers
 * (adapters/tx/participant.ts), which register handlers under the participant names.
 */
export { TxEngine, TxMode } from './modes.js';

/** An Express execution ends after 5 minutes, whatever it was doing (AWS Step Functions quotas). */
export const EXPRESS_EXECUTION_LIMIT_SECONDS = 300;

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  /** Caps each wait (AWS honours it; MiniStack ignores it, see docs/emulators.md). */
  readonly maxDelaySeconds?: number;
}

export interface ParticipantSpec {
  /** Unique within the definition; the state names and the worker's handler keys use it. */
  readonly name: string;
  /** How long one phase (prepare/commit/abort, or action/compensate) may take, end to end. */
  readonly timeoutSeconds: number;
  /**
   * Heartbeat interval for long phases. On AWS a missed heartbeat fails the task early; MiniStack
   * does not enforce it, so `timeoutSeconds` is always set as well. @default none
   */
  readonly heartbeatSeconds?: number;
  /**
   * Retries of transport failures in phase one. Standard: the message never reached the queue.
   * Express: the invocation failed (throttled, or the participant crashed before answering).
   */
  readonly transportRetry: RetryPolicy;
  /** Phase two (2PC commit/abort) and saga compensations are retried until they succeed or this runs out. */
  readonly completionRetry: RetryPolicy;
}

export interface TransactionDefinition {
  readonly name: string;
  readonly mode: TxMode;
  readonly engine: TxEngine;
  /** In order: a saga runs actions in this order and compensations in reverse. */
  readonly participants: readonly ParticipantSpec[];
}

export const DEFAULT_TRANSPORT_RETRY: RetryPolicy = { maxAttempts: 3, intervalSeconds: 1, backoffRate: 2 };
export const DEFAULT_COMPLETION_RETRY: RetryPolicy = { maxAttempts: 8, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 30 };
/**
 * Express defaults: a phase is one synchronous Lambda call, so 10 s is generous, and phase two is
 * retried after 1, 2, 4 and 8 s, so that a two-phase commit with the defaults needs at most 112 s
 * (transactionBudgetSeconds) of the 300 an execution may live.
 */
export const EXPRESS_DEFAULT_TIMEOUT_SECONDS = 10;
export const EXPRESS_DEFAULT_COMPLETION_RETRY: RetryPolicy = { maxAttempts: 4, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 8 };

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

export function defineTransaction(input: {
  name: string;
  mode: TxMode;
  /** @default 'standard' */
  engine?: TxEngine;
  participants: ReadonlyArray<Partial<ParticipantSpec> & { name: string }>;
}): TransactionDefinition {
  if (!NAME.test(input.name)) throw new ValidationError('name', `must match ${NAME.source}, got ${JSON.stringify(input.name)}`);
  if (input.mode !== TxMode.TwoPhaseCommit && input.mode !== TxMode.Saga) {
    throw new ValidationError('mode', `must be "2pc" or "saga", got ${JSON.stringify(input.mode)}`);
  }
  const engine = input.engine ?? TxEngine.Standard;
  if (engine !== TxEngine.Standard && engine !== TxEngine.Express) {
    throw new ValidationError('engine', `must be "standard" or "express", got ${JSON.stringify(input.engine)}`);
  }
  const express = engine === TxEngine.Express;
  if (input.participants.length < 1 || input.participants.length > 20) {
    throw new ValidationError('participants', 'must hold 1..20 participants');
  }
  const seen = new Set<string>();
  const participants = input.participants.map((p, i): ParticipantSpec => {
    const field = `participants.${i}`;
    if (!NAME.test(p.name)) throw new ValidationError(`${field}.name`, `must match ${NAME.source}, got ${JSON.stringify(p.name)}`);
    if (seen.has(p.name)) throw new ValidationError(`${field}.name`, `duplicate participant ${JSON.stringify(p.name)}`);
    seen.add(p.name);
    const timeoutSeconds = p.timeoutSeconds ?? (express ? EXPRESS_DEFAULT_TIMEOUT_SECONDS : 30);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 86_400) {
      throw new ValidationError(`${field}.timeoutSeconds`, 'must be an integer in 1..86400');
    }
    if (express && timeoutSeconds > EXPRESS_EXECUTION_LIMIT_SECONDS) {
      throw new ValidationError(
        `${field}.timeoutSeconds`,
        `participant ${JSON.stringify(p.name)}: ${timeoutSeconds} s is over the Express execution limit of ${EXPRESS_EXECUTION_LIMIT_SECONDS} s`,
      );
    }
    if (express && p.heartbeatSeconds !== undefined) {
      throw new ValidationError(
        `${field}.heartbeatSeconds`,
        `participant ${JSON.stringify(p.name)}: heartbeats need task tokens, which the Express engine does not use`,
      );
    }
    if (
      p.heartbeatSeconds !== undefined &&
      !(Number.isInteger(p.heartbeatSeconds) && p.heartbeatSeconds >= 1 && p.heartbeatSeconds < timeoutSeconds)
    ) {
      throw new ValidationError(`${field}.heartbeatSeconds`, 'must be an integer below timeoutSeconds');
    }
    return {
      name: p.name,
      timeoutSeconds,
      ...(p.heartbeatSeconds !== undefined ? { heartbeatSeconds: p.heartbeatSeconds } : {}),
      transportRetry: p.transportRetry ?? DEFAULT_TRANSPORT_RETRY,
      completionRetry: p.completionRetry ?? (express ? EXPRESS_DEFAULT_COMPLETION_RETRY : DEFAULT_COMPLETION_RETRY),
    };
  });
  const definition: TransactionDefinition = { name: input.name, mode: input.mode, engine, participants };
  if (express) assertFitsExpress(definition);
  return definition;
}

/**
 * The Express limit applies to the whole execution: every phase at its timeout with its retries
 * must fit in it, or a slow participant would have the execution cut off in phase two, every time.
 * The error names the participant whose share is the largest, and the value.
 */
function assertFitsExpress(definition: TransactionDefinition): void {
  const budget = transactionBudgetSeconds(definition);
  if (budget <= EXPRESS_EXECUTION_LIMIT_SECONDS) return;
  const shares = definition.participants.map((p, i) => ({ i, p, seconds: participantBudgetSeconds(p) }));
  const largest = shares.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  throw new ValidationError(
    `participants.${largest.i}.timeoutSeconds`,
    `participant ${JSON.stringify(largest.p.name)}: timeoutSeconds ${largest.p.timeoutSeconds} with ${largest.p.completionRetry.maxAttempts} completion retries ` +
      `makes the transaction need up to ${budget} s, over the Express execution limit of ${EXPRESS_EXECUTION_LIMIT_SECONDS} s ` +
      '(lower timeoutSeconds or completionRetry, or use the standard engine)',
  );
}

const retryWaitSeconds = (r: RetryPolicy) => {
  let total = 0;
  for (let i = 0; i < r.maxAttempts; i++)
    total += Math.min(r.maxDelaySeconds ?? Number.POSITIVE_INFINITY, r.intervalSeconds * r.backoffRate ** i);
  return total;
};

/**
 * Phase one (prepare, or a saga's action). Standard: the task waits for the token once (its SQS
 * send is what is retried, in moments). Express: the invocation itself is retried when it fails
 * (a throttled or crashed Lambda), each attempt up to the timeout.
 */
function firstPhaseBudgetSeconds(definition: TransactionDefinition, p: ParticipantSpec): number {
  if (definition.engine !== TxEngine.Express) return p.timeoutSeconds;
  return p.timeoutSeconds * (1 + p.transportRetry.maxAttempts) + retryWaitSeconds(p.transportRetry);
}

/** One participant's phase-two (or compensation) share: every attempt at its timeout, plus the waits between. */
function participantBudgetSeconds(p: ParticipantSpec): number {
  return p.timeoutSeconds * (1 + p.completionRetry.maxAttempts) + retryWaitSeconds(p.completionRetry);
}

/**
 * An upper bound of how long a transaction can run before the sweeper may presume it stuck:
 * every phase of every participant at its timeout, plus the completion retries' waits.
 */
export function transactionBudgetSeconds(definition: TransactionDefinition): number {
  const phases = definition.participants.map(participantBudgetSeconds);
  const firstPhase = definition.participants.map((p) => firstPhaseBudgetSeconds(definition, p));
  // 2PC runs participants in parallel; a saga one after another (and compensates in reverse).
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return definition.mode === TxMode.TwoPhaseCommit ? Math.max(...firstPhase) + Math.max(...phases) : sum(firstPhase) + sum(phases);
}

/**
 * Definitions as JSON (the sweeper's environment): each one is checked again by
 * `defineTransaction`, so a malformed one stops the Lambda at cold start naming the field.
 */
export const transactionDefinitionsSchema = z.array(z.unknown()).transform((definitions, ctx): TransactionDefinition[] => {
  try {
    return definitions.map((definition) => defineTransaction(definition as Parameters<typeof defineTransaction>[0]));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});
