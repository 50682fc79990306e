import { describe, expect, it } from 'vitest';
import {
  type CoordinatorMessage,
  type ParticipantRecord,
  ParticipantState,
  type Phase,
  planStep,
} from '../../../functions/core/tx/participant-state.js';

const rec = (state: ParticipantRecord['state'], epoch = 1): ParticipantRecord => ({ state, epoch });
const msg = (phase: Phase, epoch = 1): CoordinatorMessage => ({ phase, epoch });
const summary = (record: ParticipantRecord | undefined, m: CoordinatorMessage) => {
  const plan = planStep(record, m);
  if (plan.kind === 'run') return `run -> ${plan.onSuccess}${plan.onDecline ? ` | ${plan.onDecline}` : ''}`;
  if (plan.kind === 'record') return `record ${plan.state}`;
  return plan.reply.kind === 'success' ? `reply ${plan.reply.vote ?? 'ok'}` : `reply ${plan.reply.error}`;
};

describe('planStep (T4: each phase applies at most once; late and replayed messages change nothing)', () => {
  it.each<[string, ParticipantRecord | undefined, CoordinatorMessage, string]>([
    ['first prepare runs', undefined, msg('prepare'), 'run -> PREPARED | ABORTED'],
    ['duplicate prepare re-votes YES', rec(ParticipantState.Prepared), msg('prepare'), 'reply YES'],
    ['prepare after abort votes NO (abort overtook it)', rec(ParticipantState.Aborted), msg('prepare'), 'reply VoteNo'],
    ['prepare from an earlier attempt is refused', rec(ParticipantState.Prepared, 2), msg('prepare', 1), 'reply VoteNo'],
    ['prepare replayed after commit', rec(ParticipantState.Committed), msg('prepare'), 'reply YES'],
    ['commit of a prepared participant runs', rec(ParticipantState.Prepared), msg('commit'), 'run -> COMMITTED'],
    ['duplicate commit', rec(ParticipantState.Committed), msg('commit', 2), 'reply ok'],
    ['commit without prepare is a conflict', undefined, msg('commit'), 'reply Conflict'],
    ['commit after abort is a conflict', rec(ParticipantState.Aborted), msg('commit'), 'reply Conflict'],
    ['abort before prepare records a tombstone', undefined, msg('abort'), 'record ABORTED'],
    ['abort of a prepared participant runs', rec(ParticipantState.Prepared), msg('abort', 2), 'run -> ABORTED'],
    ['duplicate abort', rec(ParticipantState.Aborted), msg('abort'), 'reply ok'],
    ['abort after commit is a conflict', rec(ParticipantState.Committed), msg('abort'), 'reply Conflict'],
    ['first action runs', undefined, msg('action'), 'run -> DONE | FAILED'],
    ['duplicate action', rec(ParticipantState.Done), msg('action'), 'reply ok'],
    ['action after its compensation is refused', rec(ParticipantState.Compensated, 2), msg('action', 1), 'reply ActionFailed'],
    ['action after a failed action', rec(ParticipantState.Failed), msg('action'), 'reply ActionFailed'],
    ['compensate before the action records a tombstone', undefined, msg('compensate'), 'record COMPENSATED'],
    ['compensate a done action runs', rec(ParticipantState.Done), msg('compensate'), 'run -> COMPENSATED'],
    ['compensate a failed action records only', rec(ParticipantState.Failed), msg('compensate'), 'record COMPENSATED'],
    ['duplicate compensate', rec(ParticipantState.Compensated), msg('compensate'), 'reply ok'],
  ])('%s', (_, record, message, expected) => {
    expect(summary(record, message)).toBe(expected);
  });

  it('guards every write on the record it read', () => {
    const prepared = rec(ParticipantState.Prepared);
    const plan = planStep(prepared, msg('commit'));
    expect(plan.kind === 'run' && plan.expected).toBe(prepared);
    const tomb = planStep(undefined, msg('abort'));
    expect(tomb.kind === 'record' && tomb.expected).toBeUndefined();
  });
});
