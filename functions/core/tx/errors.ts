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
