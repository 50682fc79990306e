import { ConcordError, type ConcordErrorOptions } from '../errors.js';

export const LeaseLossReason = {
  /** The lease's visibility timeout passed before the operation reached the table. */
  Expired: 'expired',
  /** Another consumer leased the message after this lease expired (its fence is higher). */
  Superseded: 'superseded',
  /** The lease was given up by a nack. */
  Released: 'released',
  /** Nothing at the receipt's key: the message was acknowledged, dead-lettered, or moved by a delayed nack. */
  Gone: 'gone',
  /** The receipt's token never belonged to this message. */
  Forged: 'forged',
} as const;
export type LeaseLossReason = (typeof LeaseLossReason)[keyof typeof LeaseLossReason];

/**
 * Q2: an ack, nack or extend whose receipt is not the message's current lease. Never swallowed:
 * the work done under that lease may be repeated by the consumer that holds the lease now.
 */
export class LeaseLost extends ConcordError {
  override readonly name = 'LeaseLost';
  readonly code = 'LeaseLost';
  constructor(
    readonly reason: LeaseLossReason,
    readonly messageId: string | undefined,
    detail?: string,
    options?: ConcordErrorOptions,
  ) {
    super(`lease lost (${reason})${messageId ? ` for message ${messageId}` : ''}${detail ? `: ${detail}` : ''}`, options);
  }
}

/**
 * Q1/Q3: a send without a dedup id failed in a way that leaves its outcome unknown: the message
 * may have been stored, and even delivered and acknowledged already. It is not sent again, since
 * that could deliver it twice. A send with a dedup id (HTTP: an Idempotency-Key) can be repeated
 * safely; so can this one, by a caller that tolerates a duplicate.
 */
export class SendOutcomeUnknown extends ConcordError {
  override readonly name = 'SendOutcomeUnknown';
  /** A backing service failed mid-request (HTTP 503). */
  readonly code = 'Unavailable';
  /** Only with a dedupId (Idempotency-Key) is a resend safe; without one it may deliver twice. */
  override readonly retryable = true;
  constructor(
    readonly messageId: string,
    failure: string,
    options?: ConcordErrorOptions,
  ) {
    super(
      `the send of message ${messageId} may or may not have been stored (${failure}); it was not repeated, which could deliver it twice. Resend with a dedupId (Idempotency-Key) to make a resend safe`,
      options,
    );
  }
}
