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
