import { describe, expect, it } from 'vitest';
import { ParticipantState, Phase, planStep, presumedRecord } from '../../../functions/core/tx/participant-state.js';

describe('presumedRecord: what a first delivery finds when nothing failed', () => {
  it.each([
    { phase: Phase.Prepare, epoch: 0, expected: { presumed: true, record: undefined } },
    { phase: Phase.Action, epoch: 2, expected: { presumed: true, record: undefined } },
    { phase: Phase.Commit, epoch: 3, expected: { presumed: true, record: { state: ParticipantState.Prepared, epoch: 3 } } },
    { phase: Phase.Abort, epoch: 0, expected: { presumed: false } },
    { phase: Phase.Compensate, epoch: 1, expected: { presumed: false } },
  ])('$phase at epoch $epoch', ({ phase, epoch, expected }) => {
    expect(presumedRecord({ phase, epoch })).toEqual(expected);
  });

  it('a presumed phase is one the plan runs: the record the prepare writes is the one the commit presumes', () => {
    const epoch = 4;
    const prepare = planStep(undefined, { phase: Phase.Prepare, epoch });
    expect(prepare).toMatchObject({ kind: 'run', expected: undefined, onSuccess: ParticipantState.Prepared });
    const commit = presumedRecord({ phase: Phase.Commit, epoch });
    expect(commit).toEqual({ presumed: true, record: { state: ParticipantState.Prepared, epoch } });
    if (!commit.presumed) throw new Error('unreachable');
    expect(planStep(commit.record, { phase: Phase.Commit, epoch })).toEqual({
      kind: 'run',
      expected: commit.record,
      onSuccess: ParticipantState.Committed,
    });
    const action = presumedRecord({ phase: Phase.Action, epoch });
    if (!action.presumed) throw new Error('unreachable');
    expect(planStep(action.record, { phase: Phase.Action, epoch })).toMatchObject({ kind: 'run', onSuccess: ParticipantState.Done });
  });
});
