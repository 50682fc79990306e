import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  DEFAULT_COMPLETION_RETRY,
  DEFAULT_TRANSPORT_RETRY,
  defineTransaction,
  EXPRESS_DEFAULT_COMPLETION_RETRY,
  type RetryPolicy,
  transactionBudgetSeconds,
  transactionDefinitionsSchema,
} from '../../../functions/core/tx/definition.js';

/**
 * defineTransaction as a specification: the whole definition it returns (defaults per engine),
 * every rule it checks at its boundaries with the field and message it names, the Express
 * budget (every phase at its timeout with its retries within the 300 s an execution may live),
 * and the schema that checks definitions read from the environment.
 */
type Input = Parameters<typeof defineTransaction>[0];
const NAME_RULE = 'must match ^[A-Za-z][A-Za-z0-9_-]{0,39}$';
const noRetry: RetryPolicy = { maxAttempts: 0, intervalSeconds: 1, backoffRate: 2 };

function rejection(input: Input): { field: string; message: string } {
  try {
    defineTransaction(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return { field: (error as ValidationError).field, message: (error as ValidationError).message };
  }
  throw new Error('defineTransaction accepted the input');
}

describe('defineTransaction: the definition it returns', () => {
  it('standard: 30 s per phase and the standard retries unless given, no heartbeat unless given', () => {
    expect(
      defineTransaction({ name: 'transfer', mode: '2pc', participants: [{ name: 'debit' }, { name: 'credit', heartbeatSeconds: 5 }] }),
    ).toEqual({
      name: 'transfer',
      mode: '2pc',
      engine: 'standard',
      participants: [
        { name: 'debit', timeoutSeconds: 30, transportRetry: DEFAULT_TRANSPORT_RETRY, completionRetry: DEFAULT_COMPLETION_RETRY },
        {
          name: 'credit',
          timeoutSeconds: 30,
          heartbeatSeconds: 5,
          transportRetry: DEFAULT_TRANSPORT_RETRY,
          completionRetry: DEFAULT_COMPLETION_RETRY,
        },
      ],
    });
    const [debit] = defineTransaction({ name: 't', mode: 'saga', participants: [{ name: 'debit' }] }).participants;
    expect(debit && 'heartbeatSeconds' in debit).toBe(false);
  });

  it('express: 10 s per phase and the express completion retries unless given', () => {
    expect(defineTransaction({ name: 'order', mode: 'saga', engine: 'express', participants: [{ name: 'stock' }] })).toEqual({
      name: 'order',
      mode: 'saga',
      engine: 'express',
      participants: [
        { name: 'stock', timeoutSeconds: 10, transportRetry: DEFAULT_TRANSPORT_RETRY, completionRetry: EXPRESS_DEFAULT_COMPLETION_RETRY },
      ],
    });
  });

  it('keeps the timeouts and retries it is given', () => {
    const transportRetry: RetryPolicy = { maxAttempts: 1, intervalSeconds: 2, backoffRate: 1 };
    const completionRetry: RetryPolicy = { maxAttempts: 2, intervalSeconds: 3, backoffRate: 1.5, maxDelaySeconds: 4 };
    for (const engine of ['standard', 'express'] as const) {
      expect(
        defineTransaction({
          name: 't',
          mode: '2pc',
          engine,
          participants: [{ name: 'a', timeoutSeconds: 7, transportRetry, completionRetry }],
        }),
      ).toEqual({ name: 't', mode: '2pc', engine, participants: [{ name: 'a', timeoutSeconds: 7, transportRetry, completionRetry }] });
    }
  });
});

describe('defineTransaction: the rules, each naming its field', () => {
  it.each([
    ['a', true],
    ['Z9_-x', true],
    [`a${'b'.repeat(39)}`, true],
    [`a${'b'.repeat(40)}`, false],
    ['', false],
    ['1a', false],
    ['_a', false],
    ['a.b', false],
    ['a b', false],
  ])('the transaction name %j is accepted: %s', (name, accepted) => {
    const input: Input = { name, mode: '2pc', participants: [{ name: 'p' }] };
    if (accepted) expect(defineTransaction(input).name).toBe(name);
    else expect(rejection(input)).toEqual({ field: 'name', message: `name: ${NAME_RULE}, got ${JSON.stringify(name)}` });
  });

  it('the mode and the engine must be known ones, naming the value found', () => {
    expect(rejection({ name: 't', mode: 'xa' as never, participants: [{ name: 'p' }] })).toEqual({
      field: 'mode',
      message: 'mode: must be "2pc" or "saga", got "xa"',
    });
    expect(rejection({ name: 't', mode: 'saga', engine: 'turbo' as never, participants: [{ name: 'p' }] })).toEqual({
      field: 'engine',
      message: 'engine: must be "standard" or "express", got "turbo"',
    });
  });

  it('holds 1 to 20 participants', () => {
    const named = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}` }));
    expect(defineTransaction({ name: 't', mode: 'saga', participants: named(20) }).participants).toHaveLength(20);
    for (const n of [0, 21]) {
      expect(rejection({ name: 't', mode: 'saga', participants: named(n) })).toEqual({
        field: 'participants',
        message: 'participants: must hold 1..20 participants',
      });
    }
  });

  it('participant names follow the same rule and are unique, the error naming the index', () => {
    expect(rejection({ name: 't', mode: '2pc', participants: [{ name: 'a' }, { name: 'bad name' }] })).toEqual({
      field: 'participants.1.name',
      message: `participants.1.name: ${NAME_RULE}, got "bad name"`,
    });
    expect(rejection({ name: 't', mode: '2pc', participants: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] })).toEqual({
      field: 'participants.2.name',
      message: 'participants.2.name: duplicate participant "a"',
    });
  });

  it.each([
    [1, true],
    [86_400, true],
    [0, false],
    [86_401, false],
    [1.5, false],
    [Number.NaN, false],
  ])('a standard timeoutSeconds of %d is accepted: %s', (timeoutSeconds, accepted) => {
    const input: Input = { name: 't', mode: '2pc', participants: [{ name: 'a' }, { name: 'b', timeoutSeconds }] };
    if (accepted) expect(defineTransaction(input).participants[1]?.timeoutSeconds).toBe(timeoutSeconds);
    else
      expect(rejection(input)).toEqual({
        field: 'participants.1.timeoutSeconds',
        message: 'participants.1.timeoutSeconds: must be an integer in 1..86400',
      });
  });

  it.each([
    [1, true],
    [29, true],
    [30, false],
    [0, false],
    [2.5, false],
  ])('a standard heartbeatSeconds of %d (timeout 30) is accepted: %s', (heartbeatSeconds, accepted) => {
    const input: Input = { name: 't', mode: 'saga', participants: [{ name: 'a', timeoutSeconds: 30, heartbeatSeconds }] };
    if (accepted) expect(defineTransaction(input).participants[0]?.heartbeatSeconds).toBe(heartbeatSeconds);
    else
      expect(rejection(input)).toEqual({
        field: 'participants.0.heartbeatSeconds',
        message: 'participants.0.heartbeatSeconds: must be an integer below timeoutSeconds',
      });
  });

  it('express: no heartbeats, and no phase longer than an execution may live, naming the participant and the value', () => {
    expect(
      rejection({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a' }, { name: 'b', heartbeatSeconds: 2 }] }),
    ).toEqual({
      field: 'participants.1.heartbeatSeconds',
      message: 'participants.1.heartbeatSeconds: participant "b": heartbeats need task tokens, which the Express engine does not use',
    });
    expect(rejection({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a', timeoutSeconds: 301 }] })).toEqual({
      field: 'participants.0.timeoutSeconds',
      message: 'participants.0.timeoutSeconds: participant "a": 301 s is over the Express execution limit of 300 s',
    });
    // A phase of exactly 300 s is within the phase rule; it is the whole budget (two phases) that breaks the limit.
    expect(
      rejection({
        name: 't',
        mode: '2pc',
        engine: 'express',
        participants: [{ name: 'a', timeoutSeconds: 300, transportRetry: noRetry, completionRetry: noRetry }],
      }).message,
    ).toBe(
      'participants.0.timeoutSeconds: participant "a": timeoutSeconds 300 with 0 completion retries makes the transaction need up to 600 s, ' +
        'over the Express execution limit of 300 s (lower timeoutSeconds or completionRetry, or use the standard engine)',
    );
    // The general rule comes first: a timeout outside 1..86400 is named as such on either engine.
    expect(rejection({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a', timeoutSeconds: 0 }] }).message).toBe(
      'participants.0.timeoutSeconds: must be an integer in 1..86400',
    );
  });
});

describe('the transaction budget and the Express limit', () => {
  it('standard: phase one is one timeout; phase two every attempt at its timeout plus the capped waits; 2PC in parallel, a saga in a row', () => {
    // Default completion retry: 9 attempts of 30 s, waits 1+2+4+8+16+30+30+30 = 121 (capped at 30).
    const one = defineTransaction({ name: 't', mode: '2pc', participants: [{ name: 'a' }] });
    expect(transactionBudgetSeconds(one)).toBe(30 + 270 + 121);
    const twoPc = defineTransaction({ name: 't', mode: '2pc', participants: [{ name: 'a' }, { name: 'b', timeoutSeconds: 60 }] });
    expect(transactionBudgetSeconds(twoPc)).toBe(60 + (540 + 121));
    const saga = defineTransaction({ name: 't', mode: 'saga', participants: [{ name: 'a' }, { name: 'b', timeoutSeconds: 60 }] });
    expect(transactionBudgetSeconds(saga)).toBe(30 + 60 + (270 + 121) + (540 + 121));
  });

  it('express: phase one retries the invocation, each attempt at the timeout, with uncapped waits unless capped', () => {
    // Defaults: phase one 4 x 10 + (1+2+4) = 47, phase two 5 x 10 + (1+2+4+8) = 65.
    expect(
      transactionBudgetSeconds(
        defineTransaction({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a' }, { name: 'b' }] }),
      ),
    ).toBe(112);
    expect(
      transactionBudgetSeconds(
        defineTransaction({ name: 't', mode: 'saga', engine: 'express', participants: [{ name: 'a' }, { name: 'b' }] }),
      ),
    ).toBe(224);
    const capped: RetryPolicy = { maxAttempts: 2, intervalSeconds: 5, backoffRate: 3, maxDelaySeconds: 10 };
    const definition = defineTransaction({
      name: 't',
      mode: '2pc',
      engine: 'express',
      participants: [{ name: 'a', timeoutSeconds: 20, transportRetry: capped, completionRetry: noRetry }],
    });
    expect(transactionBudgetSeconds(definition)).toBe(20 * 3 + (5 + 10) + 20);
  });

  it('express: a budget of exactly 300 s fits, one second more does not', () => {
    const single = (timeoutSeconds: number): Input => ({
      name: 't',
      mode: '2pc',
      engine: 'express',
      participants: [{ name: 'a', timeoutSeconds, transportRetry: noRetry, completionRetry: noRetry }],
    });
    expect(transactionBudgetSeconds(defineTransaction(single(150)))).toBe(300);
    expect(rejection(single(151))).toEqual({
      field: 'participants.0.timeoutSeconds',
      message:
        'participants.0.timeoutSeconds: participant "a": timeoutSeconds 151 with 0 completion retries makes the transaction need up to 302 s, ' +
        'over the Express execution limit of 300 s (lower timeoutSeconds or completionRetry, or use the standard engine)',
    });
  });

  it('express: the error names the participant with the largest phase-two share (the first of equals)', () => {
    expect(
      rejection({
        name: 't',
        mode: '2pc',
        engine: 'express',
        participants: [{ name: 'a' }, { name: 'slow', timeoutSeconds: 40 }, { name: 'c' }],
      }),
    ).toEqual({
      field: 'participants.1.timeoutSeconds',
      message:
        'participants.1.timeoutSeconds: participant "slow": timeoutSeconds 40 with 4 completion retries makes the transaction need up to 382 s, ' +
        'over the Express execution limit of 300 s (lower timeoutSeconds or completionRetry, or use the standard engine)',
    });
    // Three default participants in a row: 3 x 47 + 3 x 65 = 336; all shares equal, the first is named.
    expect(
      rejection({ name: 't', mode: 'saga', engine: 'express', participants: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }).message,
    ).toBe(
      'participants.0.timeoutSeconds: participant "a": timeoutSeconds 10 with 4 completion retries makes the transaction need up to 336 s, ' +
        'over the Express execution limit of 300 s (lower timeoutSeconds or completionRetry, or use the standard engine)',
    );
  });

  it('standard: the same long budget is allowed (no execution limit)', () => {
    expect(defineTransaction({ name: 't', mode: 'saga', participants: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }).engine).toBe(
      'standard',
    );
  });
});

describe('transactionDefinitionsSchema (definitions from the environment)', () => {
  it('checks each definition with defineTransaction and returns the definitions', () => {
    const input = [
      { name: 'a', mode: '2pc', participants: [{ name: 'p' }] },
      { name: 'b', mode: 'saga', engine: 'express', participants: [{ name: 'q' }] },
    ];
    expect(transactionDefinitionsSchema.parse(input)).toEqual(input.map((d) => defineTransaction(d as Input)));
    expect(transactionDefinitionsSchema.parse([])).toEqual([]);
  });

  it('fails with the message of the first bad definition, naming its field', () => {
    const result = transactionDefinitionsSchema.safeParse([
      { name: 'a', mode: '2pc', participants: [{ name: 'p' }] },
      { name: 'b', mode: '2pc', participants: [] },
    ]);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => ({ code: issue.code, message: issue.message }))).toEqual([
      { code: 'custom', message: 'participants: must hold 1..20 participants' },
    ]);
  });

  it('a definition that is not an object fails too, with the error it raised', () => {
    const result = transactionDefinitionsSchema.safeParse([null]);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toMatch(/null/);
    expect(transactionDefinitionsSchema.safeParse({}).success).toBe(false);
  });
});
