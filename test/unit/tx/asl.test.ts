import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { buildStateMachine } from '../../../functions/core/tx/asl.js';
import { defineTransaction, type TxMode } from '../../../functions/core/tx/definition.js';

const definitionOf = (mode: TxMode, participants: number) =>
  defineTransaction({
    name: `transfer${participants}`,
    mode,
    participants: Array.from({ length: participants }, (_, i) => ({ name: i === 0 ? 'debit' : `credit-${i}`, timeoutSeconds: 10 })),
  });

type Asl = { StartAt: string; States: Record<string, Record<string, unknown>> };
const parse = (mode: TxMode, n: number): Asl => JSON.parse(buildStateMachine(definitionOf(mode, n), { coordinatorTable: 'tx-table' }));

/** Every state reachable from StartAt through Next, Default, Choices and Catch (branches separately). */
function reachable(states: Record<string, Record<string, unknown>>, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const name = todo.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const s = states[name];
    if (!s) throw new Error(`transition to missing state ${name}`);
    const next = [
      s.Next,
      s.Default,
      ...((s.Choices as Array<{ Next: string }>) ?? []).map((c) => c.Next),
      ...((s.Catch as Array<{ Next: string }>) ?? []).map((c) => c.Next),
    ];
    for (const n of next) if (typeof n === 'string') todo.push(n);
  }
  return seen;
}

describe('buildStateMachine', () => {
  for (const mode of ['2pc', 'saga'] as const) {
    for (const n of [1, 2, 3, 5]) {
      it(`produces valid ASL for ${mode} with ${n} participants, every state reachable and every transition defined`, () => {
        const text = buildStateMachine(definitionOf(mode, n), { coordinatorTable: 'tx-table' });
        const { isValid, errorsText } = aslValidator(JSON.parse(text));
        expect(isValid, errorsText?.('\n')).toBe(true);
        const asl = JSON.parse(text) as Asl;
        expect(reachable(asl.States, asl.StartAt)).toEqual(new Set(Object.keys(asl.States)));
        expect(text).toContain('"TableName": "tx-table"');
      });
    }
  }

  it('2pc: writes the decision with a conditional update before any commit or abort is sent (T2)', () => {
    const asl = parse('2pc', 3);
    for (const name of ['Decide COMMIT', 'Decide ABORT']) {
      const params = asl.States[name]?.Parameters as { ConditionExpression: string };
      expect(params.ConditionExpression).toBe('attribute_not_exists(decision)');
    }
    expect(asl.States['Decide COMMIT']?.Next).toBe('Commit');
    expect(asl.States['Decide ABORT']?.Next).toBe('Abort');
    expect(asl.States.Prepare?.Next).toBe('Decide COMMIT');
    // A lost race for the decision follows the recorded one.
    expect((asl.States['Decide COMMIT']!.Catch as Array<{ Next: string }>)[0]?.Next).toBe('Read decision');
  });

  it('retries throttling on every DynamoDB state, and never a failed condition (an answer, not a fault)', () => {
    const allStates = (states: Record<string, Record<string, unknown>>): Array<Record<string, unknown>> =>
      Object.values(states).flatMap((state) => [
        state,
        ...((state.Branches as Asl[] | undefined) ?? []).flatMap((b) => allStates(b.States)),
      ]);
    for (const mode of ['2pc', 'saga'] as const) {
      const dynamoStates = allStates(parse(mode, 3).States).filter((state) =>
        String(state.Resource).startsWith('arn:aws:states:::dynamodb:'),
      );
      expect(dynamoStates.length).toBeGreaterThanOrEqual(5); // decide (2), read the decision, mark (2+)
      for (const state of dynamoStates) {
        const retried = ((state.Retry as Array<{ ErrorEquals: string[] }> | undefined) ?? []).flatMap((r) => r.ErrorEquals);
        expect(retried).toEqual(
          expect.arrayContaining(['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException']),
        );
        expect(retried).not.toContain('DynamoDB.ConditionalCheckFailedException');
        expect(retried).not.toContain('States.ALL');
      }
    }
  });

  it('2pc: bounds every wait with TimeoutSeconds and retries phase two', () => {
    const asl = parse('2pc', 2);
    const branches = (asl.States.Commit!.Branches as Asl[]).flatMap((b) => Object.values(b.States));
    for (const task of branches) {
      expect(task.TimeoutSeconds).toBe(10);
      expect((task.Retry as Array<{ ErrorEquals: string[] }>)[0]?.ErrorEquals).toEqual(['States.ALL']);
    }
  });

  it('saga: compensates in reverse order from the failed step, and parks a compensation that keeps failing (T5)', () => {
    const asl = parse('saga', 3);
    expect(asl.States['Decide ABORT']?.Next).toBe('from credit-2?');
    expect(asl.States['compensate credit-2']?.Next).toBe('from credit-1?');
    expect(asl.States['compensate credit-1']?.Next).toBe('from debit?');
    expect(asl.States['compensate debit']?.Next).toBe('Aborted or stuck?');
    expect((asl.States['compensate debit']!.Catch as Array<{ Next: string }>)[0]?.Next).toBe('park debit');
    expect(asl.States['failed at credit-1']?.Result).toBe(1);
    const ladder = asl.States['from credit-1?']?.Choices as Array<{ NumericGreaterThanEquals: number }>;
    expect(ladder[0]?.NumericGreaterThanEquals).toBe(1);
  });

  it('saga recovery with ABORT recorded compensates everything without deciding again (no loop)', () => {
    const asl = parse('saga', 2);
    const route = asl.States['Route decision']?.Choices as Array<{ Next: string }>;
    expect(route.map((c) => c.Next)).toEqual(['Mark COMMITTED', 'Compensate all']);
    expect(asl.States['Compensate all']?.Next).toBe('from credit-1?');
  });
});

describe('stateTransitions', () => {
  it('counts every state on the 2pc and saga paths', async () => {
    const { stateTransitions } = await import('../../../functions/core/tx/billing.js');
    expect(stateTransitions(definitionOf('2pc', 2), { kind: 'commit' })).toBe(10);
    expect(stateTransitions(definitionOf('2pc', 5), { kind: 'abort' })).toBe(16);
    expect(stateTransitions(definitionOf('saga', 2), { kind: 'commit' })).toBe(6);
    // 3 steps, the 2nd fails: Route, action 0, action 1, failed at, Decide, 3 choices, 2 compensations, Aborted?, Mark, Done
    expect(stateTransitions(definitionOf('saga', 3), { kind: 'saga-abort', failedAt: 1 })).toBe(13);
  });
});

describe('the decision write and read (T2, T3), as whole states', () => {
  const key = { pk: { 'S.$': "States.Format('TX#{}', $.txId)" }, sk: { S: 'tx' } };
  const dynamodbRetry = {
    ErrorEquals: [
      'DynamoDB.ProvisionedThroughputExceededException',
      'DynamoDB.RequestLimitExceeded',
      'DynamoDB.ThrottlingException',
      'DynamoDB.TransactionConflictException',
      'DynamoDB.InternalServerErrorException',
    ],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxAttempts: 4,
    JitterStrategy: 'FULL',
  };
  const decide = (decision: 'COMMIT' | 'ABORT', reason: Record<string, string>, next: string) => ({
    Type: 'Task',
    Comment: 'T2: the decision is written once, by a conditional put, before phase two starts.',
    Resource: 'arn:aws:states:::dynamodb:updateItem',
    Parameters: {
      TableName: 'tx-table',
      Key: key,
      UpdateExpression: 'SET decision = :decision, decidedAt = :decidedAt, decidedEpoch = :decidedEpoch, decisionReason = :decisionReason',
      ConditionExpression: 'attribute_not_exists(decision)',
      ExpressionAttributeValues: {
        ':decision': { S: decision },
        ':decidedAt': { 'S.$': '$$.State.EnteredTime' },
        ':decidedEpoch': { 'N.$': "States.Format('{}', $.epoch)" },
        ':decisionReason': reason,
      },
    },
    ResultPath: null,
    Retry: [dynamodbRetry],
    // A lost race for the decision: follow the one recorded.
    Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.decisionRace', Next: 'Read decision' }],
    Next: next,
  });
  const readDecision = {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:getItem',
    // A strongly consistent read: a decision just written by a racing run is seen.
    Parameters: { TableName: 'tx-table', Key: key, ConsistentRead: true },
    ResultSelector: { 'Item.$': '$.Item' },
    ResultPath: '$.record',
    Retry: [dynamodbRetry],
    Next: 'Route decision',
  };
  const routeDecision = (onCommit: string, onAbort: string) => {
    const decided = (value: string) => ({
      And: [
        { Variable: '$.record.Item.decision.S', IsPresent: true },
        { Variable: '$.record.Item.decision.S', StringEquals: value },
      ],
    });
    return {
      Type: 'Choice',
      Choices: [
        { ...decided('COMMIT'), Next: onCommit },
        { ...decided('ABORT'), Next: onAbort },
      ],
      Default: 'Presume abort',
    };
  };
  const markStatus = (status: string) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:updateItem',
    Parameters: {
      TableName: 'tx-table',
      Key: key,
      UpdateExpression: 'SET #status = :s, ls = :s, completedAt = :t REMOVE ob',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':s': { S: status }, ':t': { 'S.$': '$$.State.EnteredTime' }, ':pending': { S: 'PENDING' } },
    },
    ResultPath: null,
    Retry: [dynamodbRetry],
    Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: 'Done' }],
    Next: 'Done',
  });
  const presumeAbort = (next: string) => ({
    Type: 'Pass',
    Comment: 'A recovery run found no decision: presumed abort (racing a late coordinator safely, T2).',
    Result: { Error: 'PresumedAbort', Cause: 'no decision before the deadline' },
    ResultPath: '$.failure',
    Next: next,
  });
  const recoveryRoute = (normal: string) => ({
    Type: 'Choice',
    Choices: [{ Variable: '$.recover', BooleanEquals: true, Next: 'Read decision' }],
    Default: normal,
  });
  const yes = { S: 'all participants voted YES' };
  const why = { 'S.$': 'States.JsonToString($.failure)' };

  for (const engine of ['standard', 'express'] as const) {
    const build = (mode: TxMode) =>
      (
        JSON.parse(
          buildStateMachine(
            defineTransaction({
              name: 'transfer',
              mode,
              engine,
              participants: [
                { name: 'debit', timeoutSeconds: 10 },
                { name: 'credit', timeoutSeconds: 10 },
              ],
            }),
            { coordinatorTable: 'tx-table' },
          ),
        ) as Asl
      ).States;

    it(`2pc (${engine}): decide once, read the decision consistently when recovering or racing, route on it, mark once`, () => {
      const states = build('2pc');
      expect(states.Route).toEqual(recoveryRoute('Prepare'));
      expect(states['Decide COMMIT']).toEqual(decide('COMMIT', yes, 'Commit'));
      expect(states['Decide ABORT']).toEqual(decide('ABORT', why, 'Abort'));
      expect(states['Read decision']).toEqual(readDecision);
      expect(states['Route decision']).toEqual(routeDecision('Commit', 'Abort'));
      expect(states['Presume abort']).toEqual(presumeAbort('Decide ABORT'));
      expect(states['Mark COMMITTED']).toEqual(markStatus('COMMITTED'));
      expect(states['Mark ABORTED']).toEqual(markStatus('ABORTED'));
      expect(states.Prepare).toMatchObject({
        Type: 'Parallel',
        ResultPath: engine === 'express' ? null : '$.votes',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Decide ABORT' }],
        Next: 'Decide COMMIT',
      });
    });

    it(`saga (${engine}): decide once, a recovery with ABORT recorded compensates all, a presumed abort decides ABORT first`, () => {
      const states = build('saga');
      expect(states.Route).toEqual(recoveryRoute('action debit'));
      expect(states['Decide COMMIT']).toEqual(decide('COMMIT', yes, 'Mark COMMITTED'));
      expect(states['Decide ABORT']).toEqual(decide('ABORT', why, 'from credit?'));
      expect(states['Read decision']).toEqual(readDecision);
      expect(states['Route decision']).toEqual(routeDecision('Mark COMMITTED', 'Compensate all'));
      expect(states['Compensate all']).toEqual({ Type: 'Pass', Result: 1, ResultPath: '$.compensateFrom', Next: 'from credit?' });
      expect(states['Presume abort']).toEqual(presumeAbort('Presumed: compensate all'));
      expect(states['Presumed: compensate all']).toEqual({ Type: 'Pass', Result: 1, ResultPath: '$.compensateFrom', Next: 'Decide ABORT' });
      for (const status of ['COMMITTED', 'ABORTED', 'STUCK']) expect(states[`Mark ${status}`]).toEqual(markStatus(status));
      expect(states['Aborted or stuck?']).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.parked', IsPresent: true, Next: 'Mark STUCK' }],
        Default: 'Mark ABORTED',
      });
    });
  }
});

describe('the whole generated documents', () => {
  // Every state of the coordinators the system tests run on Step Functions, as a reviewed file: a
  // change to asl.ts shows up as a diff of the document it deploys (and fails here until the file
  // is updated with `npx vitest run --project unit test/unit/tx/asl.test.ts -u`).
  for (const mode of ['2pc', 'saga'] as const) {
    for (const engine of ['standard', 'express'] as const) {
      it(`${mode} on the ${engine} engine`, async () => {
        const definition = defineTransaction({
          name: 'transfer',
          mode,
          engine,
          participants: [
            { name: 'debit', timeoutSeconds: 3, ...(engine === 'standard' ? { heartbeatSeconds: 2 } : {}) },
            {
              name: 'credit',
              timeoutSeconds: 20,
              transportRetry: { maxAttempts: 2, intervalSeconds: 3, backoffRate: 1.5, maxDelaySeconds: 9 },
            },
            { name: 'notify', timeoutSeconds: 2 },
          ],
        });
        await expect(buildStateMachine(definition, { coordinatorTable: 'tx-table' })).toMatchFileSnapshot(
          `asl-documents/${mode}-${engine}.json`,
        );
      });
    }
  }

  it('crash-window pauses: a Wait before each named state, every way into it rewired', async () => {
    const definition = defineTransaction({ name: 'transfer', mode: '2pc', participants: [{ name: 'debit', timeoutSeconds: 10 }] });
    const pauses = { 'Decide COMMIT': 3, 'Read decision': 2 };
    await expect(buildStateMachine(definition, { coordinatorTable: 'tx-table' }, pauses)).toMatchFileSnapshot(
      'asl-documents/2pc-standard-paused.json',
    );
    expect(() => buildStateMachine(definition, { coordinatorTable: 'tx-table' }, { 'No such state': 1 })).toThrow(
      'no state "No such state" to pause before',
    );
  });
});
