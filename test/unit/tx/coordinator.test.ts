import { describe, expect, it } from 'vitest';
import { executionArn, registerStateMachines } from '../../../functions/adapters/tx/coordinator.js';
import { TRANSFER_DEFINITIONS } from '../../../functions/bank/transfer.js';
import { TxMode } from '../../../functions/core/tx/definition.js';

describe('TRANSFER_DEFINITIONS', () => {
  it('holds one two-leg transfer per mode and engine', () => {
    expect(TRANSFER_DEFINITIONS.map((d) => [d.name, d.mode, d.engine, d.participants.map((p) => p.name)])).toEqual([
      ['transfer-2pc', TxMode.TwoPhaseCommit, 'standard', ['debit', 'credit']],
      ['transfer-saga', TxMode.Saga, 'standard', ['debit', 'credit']],
      ['transfer-2pc-express', TxMode.TwoPhaseCommit, 'express', ['debit', 'credit']],
      ['transfer-saga-express', TxMode.Saga, 'express', ['debit', 'credit']],
    ]);
  });
});

describe('registerStateMachines', () => {
  const arns = {
    'transfer-2pc': 'arn:2pc',
    'transfer-saga': 'arn:saga',
    'transfer-2pc-express': 'arn:2pc-x',
    'transfer-saga-express': 'arn:saga-x',
  };
  it('pairs every definition with its ARN, by definition name', () => {
    const registry = registerStateMachines(TRANSFER_DEFINITIONS, arns);
    expect(Object.fromEntries(Object.entries(registry).map(([name, m]) => [name, [m.definition.name, m.stateMachineArn]]))).toEqual({
      'transfer-2pc': ['transfer-2pc', 'arn:2pc'],
      'transfer-saga': ['transfer-saga', 'arn:saga'],
      'transfer-2pc-express': ['transfer-2pc-express', 'arn:2pc-x'],
      'transfer-saga-express': ['transfer-saga-express', 'arn:saga-x'],
    });
  });

  it('throws naming the type without an ARN, instead of leaving it never started or recovered', () => {
    expect(() => registerStateMachines(TRANSFER_DEFINITIONS, { ...arns, 'transfer-saga': '' })).toThrow(
      /no state machine ARN for transaction type "transfer-saga"/,
    );
  });
});

describe('executionArn', () => {
  it('names an execution of the state machine in its own partition (aws, aws-cn, aws-us-gov)', () => {
    expect(executionArn('arn:aws:states:eu-west-1:123456789012:stateMachine:transfer-2pc', 't1-r2')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:transfer-2pc:t1-r2',
    );
    expect(executionArn('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:transfer-saga', 't1')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:execution:transfer-saga:t1',
    );
  });
});
