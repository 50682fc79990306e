import { ConcordError, type ConcordErrorOptions, quote } from '../errors.js';

/**
 * A deployment's configuration names a transaction type without its state machine, or the other
 * way round: found at cold start, so that a type is never left unstarted or unrecovered.
 */
export class TransactionConfigurationError extends ConcordError {
  override readonly name = 'TransactionConfigurationError';
  readonly code = 'InternalError';
}

/**
 * A participant's phase lost the race for its own record (or its business writes' conditions)
 * on every attempt. Nothing of this attempt was applied; the message is delivered again.
 */
export class PhaseContention extends ConcordError {
  override readonly name = 'PhaseContention';
  readonly code = 'Unavailable';
  override readonly retryable = true;
  constructor(
    readonly txId: string,
    readonly participant: string,
    readonly phase: string,
    attempts: number,
    options?: ConcordErrorOptions,
  ) {
    super(`transaction ${quote(txId)}: ${participant} ${phase} did not settle after ${attempts} attempts (contention)`, options);
  }
}

/**
 * A phase-two step or a compensation the participant could not do now (the express engine's
 * direct invocation throws it, so that the state machine's Retry runs the step again and parks a
 * compensation whose retries run out, T5). Retryable by definition.
 */
export class PhaseStepFailed extends ConcordError {
  override readonly name = 'PhaseStepFailed';
  readonly code = 'Unavailable';
  override readonly retryable = true;
  constructor(
    readonly txId: string,
    readonly participant: string,
    readonly phase: string,
    readonly error: string,
    readonly reason: string,
    options?: ConcordErrorOptions,
  ) {
    super(`transaction ${quote(txId)}: ${participant} ${phase} failed (${error}): ${reason}`, options);
  }
}
