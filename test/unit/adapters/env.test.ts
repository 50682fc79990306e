import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { json, list, object, optional, optionalSeconds, readEnv, required } from '../../../functions/config/env.js';

describe('readEnv', () => {
  it('reads what is set, and leaves an optional variable out when unset or empty', () => {
    const env = readEnv(
      { TABLE: required, BUCKET: optional, QUEUES: list, AFTER: optionalSeconds, MAP: json(z.record(z.string(), z.string())) },
      { TABLE: 't', BUCKET: '', QUEUES: 'a, b', AFTER: '120', MAP: '{"x":"arn"}' },
    );
    expect(env).toEqual({ TABLE: 't', BUCKET: undefined, QUEUES: ['a', 'b'], AFTER: 120, MAP: { x: 'arn' } });
    expect(readEnv({ AFTER: optionalSeconds }, {})).toEqual({ AFTER: undefined });
  });

  it.each([
    [{ TABLE: required }, {}, 'TABLE: is not set'],
    [{ TABLE: required }, { TABLE: '' }, 'TABLE: is empty'],
    [{ QUEUES: list }, { QUEUES: 'a,,b' }, 'QUEUES.1: has an empty name'],
    [{ AFTER: optionalSeconds }, { AFTER: 'soon' }, 'AFTER'],
    [{ AFTER: optionalSeconds }, { AFTER: '1.5' }, 'AFTER: must be a whole number of seconds'],
    [{ AFTER: optionalSeconds }, { AFTER: '0' }, 'AFTER: must be at least 1'],
    [{ MAP: json(object({ arn: required })) }, { MAP: '{' }, 'MAP: is not valid JSON'],
    [{ MAP: json(object({ arn: required })) }, { MAP: '{}' }, 'MAP.arn: is not set'],
  ] as const)('stops at init naming the variable: %j with %j', (shape, env, message) => {
    expect(() => readEnv(shape as z.ZodRawShape, env)).toThrow(`environment variable ${message}`);
  });
});
