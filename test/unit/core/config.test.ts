import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../../functions/core/errors';
import {
  applyConfigPatch,
  parseOrThrow,
  QueueDefaults,
  queueConfigPatchSchema,
  queueNameSchema,
  receiveInputSchema,
  sendInputSchema,
} from '../../../functions/core/queue/config';

const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('accepted');
};

describe('input validation names the offending field', () => {
  it.each([
    ['queue name with a space', () => parseOrThrow(queueNameSchema, 'my queue', 'queue'), 'queue'],
    ['queue name of 81 chars', () => parseOrThrow(queueNameSchema, 'a'.repeat(81), 'queue'), 'queue'],
    ['body not a string', () => parseOrThrow(sendInputSchema, { body: 5 }), 'body'],
    ['missing body', () => parseOrThrow(sendInputSchema, {}), 'body'],
    ['delay over 900 s', () => parseOrThrow(sendInputSchema, { body: 'x', delaySeconds: 901 }), 'delaySeconds'],
    ['fractional delay', () => parseOrThrow(sendInputSchema, { body: 'x', delaySeconds: 1.5 }), 'delaySeconds'],
    ['group id with a space', () => parseOrThrow(sendInputSchema, { body: 'x', groupId: 'a b' }), 'groupId'],
    ['unknown field', () => parseOrThrow(sendInputSchema, { body: 'x', colour: 'red' }), '(body)'],
    ['max 11', () => parseOrThrow(receiveInputSchema, { max: 11 }), 'max'],
    ['wait 21', () => parseOrThrow(receiveInputSchema, { waitSeconds: 21 }), 'waitSeconds'],
    ['maxReceiveCount 0', () => parseOrThrow(queueConfigPatchSchema, { maxReceiveCount: 0 }), 'maxReceiveCount'],
    [
      'a 0 s visibility timeout (a lease that could never be acked)',
      () => parseOrThrow(queueConfigPatchSchema, { visibilityTimeoutSeconds: 0 }),
      'visibilityTimeoutSeconds',
    ],
    ['a 0 s lease on receive', () => parseOrThrow(receiveInputSchema, { visibilityTimeoutSeconds: 0 }), 'visibilityTimeoutSeconds'],
    ['nested path prefix', () => parseOrThrow(sendInputSchema, { body: 1 }, 'messages.3'), 'messages.3.body'],
  ])('%s', (_, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });

  it('quotes the rule in the message', () => {
    expect(() => parseOrThrow(queueNameSchema, 'a b', 'queue')).toThrow(/queue: must match \[A-Za-z0-9_-\]\{1,80\}/);
  });
});

describe('applyConfigPatch', () => {
  const current = { ...QueueDefaults };
  it('keeps unspecified fields', () => {
    expect(applyConfigPatch(current, { maxReceiveCount: 3 }, true)).toEqual({ ...current, maxReceiveCount: 3 });
  });
  it('lets a new queue become FIFO', () => {
    expect(applyConfigPatch(current, { fifo: true }, false).fifo).toBe(true);
  });
  it('refuses to flip fifo on an existing queue', () => {
    expect(() => applyConfigPatch(current, { fifo: true }, true)).toThrow(ConflictError);
  });
  it('refuses to shrink shards, and to reshard a FIFO queue', () => {
    expect(() => applyConfigPatch(current, { shards: 2 }, true)).toThrow(ConflictError);
    expect(applyConfigPatch(current, { shards: 8 }, true).shards).toBe(8);
    expect(() => applyConfigPatch({ ...current, fifo: true }, { shards: 8 }, true)).toThrow(ConflictError);
  });
});
