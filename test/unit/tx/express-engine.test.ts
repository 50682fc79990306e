import aslValidator from 'asl-validator';
import { directInvokeHandler, type HandleResult, participantLambdaHandler } from 'concord-aws/tx';
import { describe, expect, it } from 'vitest';
import { buildStateMachine } from '../../../functions/core/tx/asl.js';
import {
  defineTransaction,
  EXPRESS_EXECUTION_LIMIT_SECONDS,
  type TxMode,
  transactionBudgetSeconds,
} from '../../../functions/core/tx/definition.js';
import { PhaseStepFailed } from '../../../functions/core/tx/errors.js';
import type { Reply } from '../../../functions/core/tx/participant-state.js';

type Asl = { StartAt: string; States: Record<string, Record<string, unknown>> };

const expressOf = (mode: TxMode, participants: number, timeoutSeconds = 5) =>
  defineTransaction({
    name: `transfer${participants}`,
    mode,
    engine: 'express',
    participants: Array.from({ length: participants }, (_, i) => ({ name: i === 0 ? 'debit' : `credit-${i}`, timeoutSeconds })),
  });
const parse = (mode: TxMode, n: number): Asl => JSON.parse(buildStateMachine(expressOf(mode, n), { coordinatorTable: 'tx-table' }));
const tasks = (states: Record<string, Record<string, unknown>>): Array<Record<string, unknown>> =>
  Object.values(states).flatMap((s) => [s, ...((s.Branches as Asl[] | undefined) ?? []).flatMap((b) => tasks(b.States))]);

describe('defineTransaction: engine', () => {
  it('defaults to the standard engine, as before', () => {
    expect(defineTransaction({ name: 't', mode: '2pc', participants: [{ name: 'a' }] }).engine).toBe('standard');
  });

  it('refuses an unknown engine, naming the field and the value', () => {
    expect(() => defineTransaction({ name: 't', mode: '2pc', engine: 'turbo' as never, participants: [{ name: 'a' }] })).toThrow(
      /engine.*"turbo"/,
    );
  });

  it('refuses a phase timeout over the Express limit, naming the participant and the value', () => {
    expect(() =>
      defineTransaction({
        name: 't',
        mode: '2pc',
        engine: 'express',
        participants: [{ name: 'a' }, { name: 'slow', timeoutSeconds: 301 }],
      }),
    ).toThrow(/participants\.1\.timeoutSeconds.*"slow".*301 s.*300 s/);
  });

  it('refuses a definition whose whole budget (timeouts with retries) would outlive an Express execution', () => {
    let error: unknown;
    try {
      defineTransaction({ name: 't', mode: 'saga', engine: 'express', participants: [{ name: 'a', timeoutSeconds: 60 }, { name: 'b' }] });
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/participants\.0\.timeoutSeconds.*"a": timeoutSeconds 60.*over the Express execution limit of 300 s/);
  });

  it('refuses heartbeats on Express (there is no task token to beat)', () => {
    expect(() =>
      defineTransaction({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a', heartbeatSeconds: 2 }] }),
    ).toThrow(/participants\.0\.heartbeatSeconds.*"a"/);
  });

  it('gives Express its own defaults, which fit the limit with room to spare', () => {
    const d = defineTransaction({ name: 't', mode: '2pc', engine: 'express', participants: [{ name: 'a' }, { name: 'b' }] });
    expect(d.participants[0]).toMatchObject({ timeoutSeconds: 10, completionRetry: { maxAttempts: 4 } });
    expect(transactionBudgetSeconds(d)).toBe(112);
    expect(transactionBudgetSeconds(d)).toBeLessThanOrEqual(EXPRESS_EXECUTION_LIMIT_SECONDS);
  });
});

describe('buildStateMachine: express engine', () => {
  for (const mode of ['2pc', 'saga'] as const) {
    for (const n of [1, 2, 5]) {
      it(`produces valid ASL for ${mode} with ${n} participants, reaching participants only by lambda:invoke`, () => {
        const text = buildStateMachine(expressOf(mode, n, 3), { coordinatorTable: 'tx-table' });
        const { isValid, errorsText } = aslValidator(JSON.parse(text));
        expect(isValid, errorsText?.('\n')).toBe(true);
        const resources = tasks((JSON.parse(text) as Asl).States).map((s) => String(s.Resource ?? ''));
        expect(resources.filter((r) => r.includes('sqs') || r.includes('waitForTaskToken'))).toEqual([]);
        expect(resources.filter((r) => r === 'arn:aws:states:::lambda:invoke').length).toBe(mode === '2pc' ? 3 * n : 2 * n);
      });
    }
  }

  it('2pc: a NO vote fails its branch with the reply as Error and Cause, so the Parallel aborts as on Standard', () => {
    const asl = parse('2pc', 2);
    const branch = (asl.States.Prepare!.Branches as Asl[])[1]!;
    expect(branch.States['credit-1 voted?']).toMatchObject({
      Choices: [{ Variable: '$.invoked.reply.ok', BooleanEquals: false, Next: 'credit-1 voted NO' }],
      Default: 'credit-1 voted YES',
    });
    expect(branch.States['credit-1 voted NO']).toEqual({
      Type: 'Fail',
      ErrorPath: '$.invoked.reply.error',
      CausePath: '$.invoked.reply.cause',
    });
    expect(asl.States.Prepare!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Decide ABORT' }]);
    expect(asl.States['Decide ABORT']).toMatchObject({ Parameters: { ConditionExpression: 'attribute_not_exists(decision)' } });
  });

  it('retries a failed invocation in phase one but not a timeout, and phase two until its policy runs out', () => {
    const asl = parse('2pc', 2);
    const prepare = (asl.States.Prepare!.Branches as Asl[])[0]!.States['prepare debit']!;
    expect(prepare).toMatchObject({ TimeoutSeconds: 5, Parameters: { 'FunctionName.$': '$.participants[0].functionName' } });
    expect((prepare.Retry as Array<{ ErrorEquals: string[] }>)[0]?.ErrorEquals).toEqual(['States.TaskFailed']);
    const commit = (asl.States.Commit!.Branches as Asl[])[0]!.States['commit debit']!;
    expect((commit.Retry as Array<{ ErrorEquals: string[]; MaxAttempts: number }>)[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      MaxAttempts: 4,
    });
    expect(commit.ResultPath).toBeNull();
  });

  it('saga: a refused action goes to its compensation ladder with the refusal recorded as the failure', () => {
    const asl = parse('saga', 2);
    expect(asl.States['action debit']?.Next).toBe('debit acted?');
    expect(asl.States['debit acted?']).toMatchObject({ Default: 'action credit-1' });
    expect(asl.States['credit-1 refused']).toMatchObject({
      Parameters: { 'Error.$': '$.invoked.reply.error', 'Cause.$': '$.invoked.reply.cause' },
      ResultPath: '$.failure',
      Next: 'failed at credit-1',
    });
    expect((asl.States['compensate debit']!.Catch as Array<{ Next: string }>)[0]?.Next).toBe('park debit');
  });
});

describe('directInvokeHandler', () => {
  const envelope = (phase: 'prepare' | 'commit' | 'action' | 'compensate') => ({
    transaction: 't',
    mode: '2pc' as const,
    txId: 'tx1',
    epoch: 1,
    participant: 'debit',
    phase,
    payload: { amount: 1 },
  });
  const answering = (reply: Reply) => ({
    handle: async (): Promise<HandleResult> => ({ reply, applied: true, lateReply: false }),
  });

  it('answers a YES vote with ok and the vote', async () => {
    const handler = directInvokeHandler(answering({ kind: 'success', vote: 'YES' }));
    expect(await handler(envelope('prepare'))).toEqual({ ok: true, participant: 'debit', phase: 'prepare', vote: 'YES' });
  });

  it('answers a NO vote as data, with the cause the standard engine records', async () => {
    const handler = directInvokeHandler(answering({ kind: 'failure', error: 'VoteNo', reason: 'insufficient funds' }));
    expect(await handler(envelope('prepare'))).toEqual({
      ok: false,
      error: 'VoteNo',
      cause: JSON.stringify({ participant: 'debit', phase: 'prepare', reason: 'insufficient funds' }),
    });
  });

  it('throws a failed phase-two step or compensation, so that the state machine retries it', async () => {
    for (const phase of ['commit', 'compensate'] as const) {
      const handler = directInvokeHandler(answering({ kind: 'failure', error: 'StepFailed', reason: 'the money was spent' }));
      await expect(handler(envelope(phase))).rejects.toBeInstanceOf(PhaseStepFailed);
      await expect(handler(envelope(phase))).rejects.toThrow(/StepFailed.*the money was spent/);
    }
  });

  it('is what participantLambdaHandler runs for an event that is one envelope (the express engine)', async () => {
    const handler = participantLambdaHandler({ ...answering({ kind: 'success' }), resolveInDoubt: async () => [] }, { inDoubtAfterMs: 1 });
    expect(await handler(envelope('commit'))).toEqual({ ok: true, participant: 'debit', phase: 'commit' });
  });
});
