import { z } from 'zod';
import { ValidationError } from '../errors.js';

/**
 * A transaction type: its participants and, per participant, the time it may take and how its
 * transport is retried. One definition drives the state machine (asl.ts) and the workers
 * (adapters/tx/participant.ts), which register handlers under the participant names.
 */
export const TxMode = { TwoPhaseCommit: '2pc', Saga: 'saga' } as const;
export type TxMode = (typeof TxMode)[keyof typeof TxMode];

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
  /** Retries of transport failures (the message never reached the queue). */
  readonly transportRetry: RetryPolicy;
  /** Phase two (2PC commit/abort) and saga compensations are retried until they succeed or this runs out. */
  readonly completionRetry: RetryPolicy;
}

export interface TransactionDefinition {
  readonly name: string;
  readonly mode: TxMode;
  /** In order: a saga runs actions in this order and compensations in reverse. */
  readonly participants: readonly ParticipantSpec[];
}

export const DEFAULT_TRANSPORT_RETRY: RetryPolicy = { maxAttempts: 3, intervalSeconds: 1, backoffRate: 2 };
export const DEFAULT_COMPLETION_RETRY: RetryPolicy = { maxAttempts: 8, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 30 };

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

export function defineTransaction(input: {
  name: string;
  mode: TxMode;
  participants: ReadonlyArray<Partial<ParticipantSpec> & { name: string }>;
}): TransactionDefinition {
  if (!NAME.test(input.name)) throw new ValidationError('name', `must match ${NAME.source}, got ${JSON.stringify(input.name)}`);
  if (input.mode !== TxMode.TwoPhaseCommit && input.mode !== TxMode.Saga) {
    throw new ValidationError('mode', `must be "2pc" or "saga", got ${JSON.stringify(input.mode)}`);
  }
  if (input.participants.length < 1 || input.participants.length > 20) {
    throw new ValidationError('participants', 'must hold 1..20 participants');
  }
  const seen = new Set<string>();
  const participants = input.participants.map((p, i): ParticipantSpec => {
    const field = `participants.${i}`;
    if (!NAME.test(p.name)) throw new ValidationError(`${field}.name`, `must match ${NAME.source}, got ${JSON.stringify(p.name)}`);
    if (seen.has(p.name)) throw new ValidationError(`${field}.name`, `duplicate participant ${JSON.stringify(p.name)}`);
    seen.add(p.name);
    const timeoutSeconds = p.timeoutSeconds ?? 30;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 86_400) {
      throw new ValidationError(`${field}.timeoutSeconds`, 'must be an integer in 1..86400');
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
      completionRetry: p.completionRetry ?? DEFAULT_COMPLETION_RETRY,
    };
  });
  return { name: input.name, mode: input.mode, participants };
}

/**
 * An upper bound of how long a transaction can run before the sweeper may presume it stuck:
 * every phase of every participant at its timeout, plus the completion retries' waits.
 */
export function transactionBudgetSeconds(definition: TransactionDefinition): number {
  const retryWait = (r: RetryPolicy) => {
    let total = 0;
    for (let i = 0; i < r.maxAttempts; i++)
      total += Math.min(r.maxDelaySeconds ?? Number.POSITIVE_INFINITY, r.intervalSeconds * r.backoffRate ** i);
    return total;
  };
  const phases = definition.participants.map((p) => p.timeoutSeconds * (1 + p.completionRetry.maxAttempts) + retryWait(p.completionRetry));
  const firstPhase = definition.participants.map((p) => p.timeoutSeconds);
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
