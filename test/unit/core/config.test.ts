import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../../functions/core/errors.js';
import {
  applyConfigPatch,
  QueueDefaults,
  queueConfigPatchSchema,
  queueNameSchema,
  receiveInputSchema,
  sendInputSchema,
} from '../../../functions/core/queue/config.js';
import { parseInput } from '../../../functions/core/validation.js';

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
    ['queue name with a space', () => parseInput(queueNameSchema, 'my queue', 'queue'), 'queue'],
    ['queue name of 81 chars', () => parseInput(queueNameSchema, 'a'.repeat(81), 'queue'), 'queue'],
    ['body not a string', () => parseInput(sendInputSchema, { body: 5 }), 'body'],
    ['missing body', () => parseInput(sendInputSchema, {}), 'body'],
    ['delay over 900 s', () => parseInput(sendInputSchema, { body: 'x', delaySeconds: 901 }), 'delaySeconds'],
    ['fractional delay', () => parseInput(sendInputSchema, { body: 'x', delaySeconds: 1.5 }), 'delaySeconds'],
    ['group id with a space', () => parseInput(sendInputSchema, { body: 'x', groupId: 'a b' }), 'groupId'],
    ['unknown field, named itself', () => parseInput(sendInputSchema, { body: 'x', colour: 'red' }), 'colour'],
    ['max 11', () => parseInput(receiveInputSchema, { max: 11 }), 'max'],
    ['wait 21', () => parseInput(receiveInputSchema, { waitSeconds: 21 }), 'waitSeconds'],
    ['maxReceiveCount 0', () => parseInput(queueConfigPatchSchema, { maxReceiveCount: 0 }), 'maxReceiveCount'],
    [
      'a 0 s visibility timeout (a lease that could never be acked)',
      () => parseInput(queueConfigPatchSchema, { visibilityTimeoutSeconds: 0 }),
      'visibilityTimeoutSeconds',
    ],
    ['a 0 s lease on receive', () => parseInput(receiveInputSchema, { visibilityTimeoutSeconds: 0 }), 'visibilityTimeoutSeconds'],
    ['nested path prefix', () => parseInput(sendInputSchema, { body: 1 }, 'messages.3'), 'messages.3.body'],
  ])('%s', (_, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });

  it('quotes the rule in the message', () => {
    expect(() => parseInput(queueNameSchema, 'a b', 'queue')).toThrow(/queue: must match \[A-Za-z0-9_-\]\{1,80\}/);
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
