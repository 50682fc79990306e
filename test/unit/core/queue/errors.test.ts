import { describe, expect, it } from 'vitest';
import { ConcordError } from '../../../../functions/core/errors.js';
import { LeaseLossReason, LeaseLost, SendOutcomeUnknown } from '../../../../functions/core/queue/errors.js';

describe('LeaseLossReason', () => {
  it('names the five ways a receipt stops being the current lease', () => {
    expect(LeaseLossReason).toEqual({
      Expired: 'expired',
      Superseded: 'superseded',
      Released: 'released',
      Gone: 'gone',
      Forged: 'forged',
    });
  });
});

describe('LeaseLost (Q2)', () => {
  it('is a terminal ConcordError with code LeaseLost, carrying the reason and the message id', () => {
    const error = new LeaseLost(LeaseLossReason.Superseded, 'm-1');
    expect(error).toBeInstanceOf(ConcordError);
    expect(error).toBeInstanceOf(Error);
    expect({
      name: error.name,
      code: error.code,
      retryable: error.retryable,
      reason: error.reason,
      messageId: error.messageId,
      message: error.message,
      cause: error.cause,
    }).toEqual({
      name: 'LeaseLost',
      code: 'LeaseLost',
      retryable: false,
      reason: 'superseded',
      messageId: 'm-1',
      message: 'lease lost (superseded) for message m-1',
      cause: undefined,
    });
  });

  it('says what it knows: the message id and the detail only when given', () => {
    expect(new LeaseLost(LeaseLossReason.Gone, undefined).message).toBe('lease lost (gone)');
    expect(new LeaseLost(LeaseLossReason.Gone, '').message).toBe('lease lost (gone)');
    expect(new LeaseLost(LeaseLossReason.Expired, undefined, 'visible again since 12:00').message).toBe(
      'lease lost (expired): visible again since 12:00',
    );
    expect(new LeaseLost(LeaseLossReason.Forged, 'm-2', 'token unknown').message).toBe(
      'lease lost (forged) for message m-2: token unknown',
    );
    expect(new LeaseLost(LeaseLossReason.Released, 'm-3', '').message).toBe('lease lost (released) for message m-3');
  });

  it('keeps the error that led to it as its cause', () => {
    const cause = new Error('ConditionalCheckFailed');
    expect(new LeaseLost(LeaseLossReason.Expired, 'm', undefined, { cause }).cause).toBe(cause);
  });
});

describe('SendOutcomeUnknown (Q1, Q3)', () => {
  it('is a retryable ConcordError with code Unavailable (HTTP 503) that names the message and the failure', () => {
    const cause = new Error('socket hang up');
    const error = new SendOutcomeUnknown('m-9', 'the connection closed', { cause });
    expect(error).toBeInstanceOf(ConcordError);
    expect({ name: error.name, code: error.code, retryable: error.retryable, messageId: error.messageId, cause: error.cause }).toEqual({
      name: 'SendOutcomeUnknown',
      code: 'Unavailable',
      retryable: true,
      messageId: 'm-9',
      cause,
    });
    expect(error.message).toBe(
      'the send of message m-9 may or may not have been stored (the connection closed); it was not repeated, which could deliver it twice. Resend with a dedupId (Idempotency-Key) to make a resend safe',
    );
  });

  it('has no cause unless given one', () => {
    expect(new SendOutcomeUnknown('m', 'timeout').cause).toBeUndefined();
  });
});
