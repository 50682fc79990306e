import { costBreakdown, executionPath, messageUsage, PRICES, transactionUsage, usd } from 'concord-aws/cost';
import { describe, expect, it } from 'vitest';

describe('the cost estimates the console shows', () => {
  it('a 1 KB message costs what bench:queue measured for one: 3 WRU, an eighth of a read unit (bench: 0.167)', () => {
    const u = messageUsage({ bodyBytes: 1024 - 150, receives: 1 });
    expect(u.writeUnits).toBe(3);
    expect(u.readUnits).toBeCloseTo(0.125, 3);
    expect(usd(u)).toBeCloseTo(3 * PRICES.dynamoWriteUnit + 0.125 * PRICES.dynamoReadUnit, 12);
  });

  it('each further delivery adds a lease; a larger body more units per write', () => {
    expect(messageUsage({ bodyBytes: 100, receives: 3 }).writeUnits).toBe(5);
    expect(messageUsage({ bodyBytes: 3000, receives: 1 }).writeUnits).toBe(12); // 3,150 bytes: 4 WRU a write
  });

  it('a committed two-participant 2PC on Standard bills its 10 transitions and the 21 WRU bench:tx measured', () => {
    const u = transactionUsage({
      mode: '2pc',
      engine: 'standard',
      participants: ['a', 'b'],
      phases: 4,
      retries: 0,
      path: { kind: 'commit' },
    });
    expect(u.stateTransitions).toBe(10);
    expect(u.writeUnits).toBe(21);
    const lines = costBreakdown(u);
    expect(lines.find((l) => l.service === 'Step Functions')?.usd).toBeCloseTo(10 * PRICES.stepFunctionsTransition, 12);
    expect(lines.reduce((n, l) => n + l.usd, 0)).toBeCloseTo(usd(u), 12);
  });

  it('Express bills a request and its duration, no transitions, and costs less than Standard', () => {
    const common = { mode: '2pc', participants: ['a', 'b'], phases: 4, retries: 0, path: { kind: 'commit' } } as const;
    const express = transactionUsage({ ...common, engine: 'express', durationMs: 850 });
    const standard = transactionUsage({ ...common, engine: 'standard' });
    expect(express.stateTransitions).toBeUndefined();
    expect(express.expressRequests).toBe(1);
    expect(express.expressGbSeconds).toBeCloseTo(0.9 * (64 / 1024), 9);
    expect(usd(express)).toBeLessThan(usd(standard) / 5);
  });

  it('a retry costs a transition more', () => {
    const base = {
      mode: 'saga',
      engine: 'standard',
      participants: ['a', 'b'],
      phases: 3,
      path: executionPath('saga', 'ABORT', 2),
    } as const;
    expect(
      (transactionUsage({ ...base, retries: 1 }).stateTransitions ?? 0) - (transactionUsage({ ...base, retries: 0 }).stateTransitions ?? 0),
    ).toBe(1);
  });

  it('reads the execution path from the decision', () => {
    expect(executionPath('2pc', 'COMMIT', 0)).toEqual({ kind: 'commit' });
    expect(executionPath('2pc', 'ABORT', 0)).toEqual({ kind: 'abort' });
    expect(executionPath('saga', 'ABORT', 2)).toEqual({ kind: 'saga-abort', failedAt: 1 });
  });
});
