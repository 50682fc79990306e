import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConcordError,
  ConflictError,
  ContentionError,
  NotFoundError,
  PayloadTooLargeError,
  quote,
  ThrottledError,
  ValidationError,
} from '../../../functions/core/errors.js';
import { PhaseContention, PhaseStepFailed, TransactionConfigurationError } from '../../../functions/core/tx/errors.js';
import { parseInput, withoutUndefined } from '../../../functions/core/validation.js';

/**
 * The error vocabulary (errors.ts, tx/errors.ts) as a specification: each class's name, stable
 * code, retryable flag, message and cause; and parseInput's one way of naming a bad field.
 */
const summary = (e: ConcordError) => ({ name: e.name, code: e.code, retryable: e.retryable, message: e.message, cause: e.cause });

describe('the error classes', () => {
  const cause = new Error('underneath');

  it.each([
    ['NotFoundError', () => new NotFoundError('no such queue'), 'NotFound', false],
    ['ConflictError', () => new ConflictError('immutable setting'), 'Conflict', false],
    ['PayloadTooLargeError', () => new PayloadTooLargeError('too big'), 'PayloadTooLarge', false],
    ['ContentionError', () => new ContentionError('kept losing'), 'Unavailable', true],
    ['ThrottledError', () => new ThrottledError('slow down'), 'Throttled', true],
    ['TransactionConfigurationError', () => new TransactionConfigurationError('no state machine'), 'InternalError', false],
  ] as const)('%s has its name, code and retryable flag, and no cause unless given', (name, make, code, retryable) => {
    // Made inside the test: an error made while the table is built belongs to no test.
    const error = make();
    expect(error).toBeInstanceOf(ConcordError);
    expect(error).toBeInstanceOf(Error);
    expect(summary(error)).toEqual({ name, code, retryable, message: error.message, cause: undefined });
    expect('cause' in error).toBe(false);
  });

  it('keeps the cause it is given', () => {
    expect(new NotFoundError('gone', { cause }).cause).toBe(cause);
    expect(new ContentionError('lost', { cause }).cause).toBe(cause);
    expect(new ConflictError('no', {}).cause).toBeUndefined();
  });

  it('ValidationError names the field in its message and keeps field and cause', () => {
    const error = new ValidationError('participants.0.name', 'must match', { cause });
    expect({ ...summary(error), field: error.field }).toEqual({
      name: 'ValidationError',
      code: 'ValidationError',
      retryable: false,
      message: 'participants.0.name: must match',
      cause,
      field: 'participants.0.name',
    });
    expect('cause' in new ValidationError('f', 'm')).toBe(false);
  });

  it('ThrottledError tells how long to wait, 1 s unless given, and keeps its cause', () => {
    expect(new ThrottledError('slow down').retryAfterSeconds).toBe(1);
    const error = new ThrottledError('slow down', 7, { cause });
    expect({ ...summary(error), retryAfterSeconds: error.retryAfterSeconds }).toEqual({
      name: 'ThrottledError',
      code: 'Throttled',
      retryable: true,
      message: 'slow down',
      cause,
      retryAfterSeconds: 7,
    });
  });

  it('PhaseContention names the transaction (quoted), participant, phase and attempts, and is retryable', () => {
    const error = new PhaseContention('tx-1', 'payments', 'prepare', 5, { cause });
    expect({ ...summary(error), txId: error.txId, participant: error.participant, phase: error.phase }).toEqual({
      name: 'PhaseContention',
      code: 'Unavailable',
      retryable: true,
      message: 'transaction "tx-1": payments prepare did not settle after 5 attempts (contention)',
      cause,
      txId: 'tx-1',
      participant: 'payments',
      phase: 'prepare',
    });
    expect(new PhaseContention('t', 'p', 'commit', 1).cause).toBeUndefined();
  });

  it('PhaseStepFailed names the transaction, participant, phase, error and reason, and is retryable', () => {
    const error = new PhaseStepFailed('tx-2', 'stock', 'compensate', 'Timeout', 'the warehouse did not answer', { cause });
    expect({
      ...summary(error),
      txId: error.txId,
      participant: error.participant,
      phase: error.phase,
      error: error.error,
      reason: error.reason,
    }).toEqual({
      name: 'PhaseStepFailed',
      code: 'Unavailable',
      retryable: true,
      message: 'transaction "tx-2": stock compensate failed (Timeout): the warehouse did not answer',
      cause,
      txId: 'tx-2',
      participant: 'stock',
      phase: 'compensate',
      error: 'Timeout',
      reason: 'the warehouse did not answer',
    });
    expect(new PhaseStepFailed('t', 'p', 'commit', 'E', 'r').cause).toBeUndefined();
  });
});

describe('quote', () => {
  it('quotes strings and renders other values as JSON, or as text when JSON has none', () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote(42)).toBe('42');
    expect(quote({ a: [1, null] })).toBe('{"a":[1,null]}');
    expect(quote(undefined)).toBe('undefined');
    expect(quote(Symbol.for('s'))).toBe('Symbol(s)');
  });

  it('renders a value JSON cannot (a cycle, a bigint) as text', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(quote(cyclic)).toBe('[object Object]');
    expect(quote(10n)).toBe('10');
  });

  it('cuts text longer than the limit (60 unless given) and marks the cut; text at the limit is whole', () => {
    const at60 = 'x'.repeat(58); // 58 + 2 quotes = 60
    expect(quote(at60)).toBe(`"${at60}"`);
    expect(quote(`${at60}y`)).toBe(`"${at60}y…`);
    expect(quote('abcdef', 4)).toBe('"abc…');
    expect(quote('ab', 4)).toBe('"ab"');
  });
});

describe('parseInput', () => {
  const schema = z.strictObject({ name: z.string(), limits: z.object({ max: z.number().int() }).optional() });

  it('returns the parsed value when it is valid', () => {
    expect(parseInput(schema, { name: 'q', limits: { max: 3 } })).toEqual({ name: 'q', limits: { max: 3 } });
  });

  it('names the first offending field, dotted and prefixed, with the rule and the value found there', () => {
    const thrown = (value: unknown, prefix?: string) => {
      try {
        parseInput(schema, value, prefix);
      } catch (error) {
        return { field: (error as ValidationError).field, message: (error as ValidationError).message, type: (error as Error).name };
      }
      throw new Error('parseInput accepted the value');
    };
    expect(thrown({ name: 'q', limits: { max: 1.5 } }, 'queue')).toEqual({
      field: 'queue.limits.max',
      message: 'queue.limits.max: Invalid input: expected int, received number, got 1.5',
      type: 'ValidationError',
    });
    expect(thrown({ name: 7 })).toEqual({
      field: 'name',
      message: 'name: Invalid input: expected string, received number, got 7',
      type: 'ValidationError',
    });
    // A missing field: no value to quote.
    expect(thrown({})).toEqual({
      field: 'name',
      message: 'name: Invalid input: expected string, received undefined',
      type: 'ValidationError',
    });
    // The value itself is wrong: the field is the prefix, or (body) without one.
    expect(thrown('text', 'queue')).toEqual({
      field: 'queue',
      message: 'queue: Invalid input: expected object, received string, got "text"',
      type: 'ValidationError',
    });
    expect(thrown(null)).toEqual({
      field: '(body)',
      message: '(body): Invalid input: expected object, received null, got null',
      type: 'ValidationError',
    });
    // A path through a value that is not an object finds nothing to quote.
    expect(thrown({ name: 'q', limits: 'x' })).toEqual({
      field: 'limits',
      message: 'limits: Invalid input: expected object, received string, got "x"',
      type: 'ValidationError',
    });
  });

  it('quotes only a value found in the input as given, not one a transform made up', () => {
    const wrapped = z.preprocess((v) => ({ length: v }), z.object({ length: z.number() }));
    expect(() => parseInput(wrapped, 'abc')).toThrow(new ValidationError('length', 'Invalid input: expected number, received string'));
    expect(() => parseInput(wrapped, null)).toThrow(new ValidationError('length', 'Invalid input: expected number, received null'));
  });

  it('names an unknown field itself, not its parent', () => {
    expect(() => parseInput(schema, { name: 'q', extra: 1 }, 'body')).toThrow(new ValidationError('body.extra', 'unknown field'));
    expect(() => parseInput(schema, { name: 'q', extra: 1 })).toThrow(new ValidationError('extra', 'unknown field'));
  });

  it('a failure without an issue still names the prefix, or (body)', () => {
    const failing = { safeParse: () => ({ success: false, error: new z.ZodError([]) }) } as unknown as z.ZodUnknown;
    expect(() => parseInput(failing, {}, 'queue')).toThrow(new ValidationError('queue', 'invalid'));
    expect(() => parseInput(failing, {})).toThrow(new ValidationError('(body)', 'invalid'));
  });
});

describe('withoutUndefined', () => {
  it('drops the undefined fields and keeps every other value, falsy ones included', () => {
    expect(withoutUndefined({ a: undefined, b: 0, c: '', d: null, e: false, f: 'x' })).toEqual({ b: 0, c: '', d: null, e: false, f: 'x' });
    expect(Object.keys(withoutUndefined({ a: undefined, b: 1 }))).toEqual(['b']);
  });
});
