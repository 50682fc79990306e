import { describe, expect, it } from 'vitest';
import {
  answersWithRefusal,
  type CoordinatorMessage,
  isInDoubt,
  type ParticipantRecord,
  ParticipantState,
  Phase,
  planDecline,
  planStep,
  type Reply,
  replyAfterRun,
  type StepPlan,
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

describe('planStep as whole plans (what the runtime branches on: kind, expected record, reply, duplicate)', () => {
  const yes: Reply = { kind: 'success', vote: 'YES' };
  const done: Reply = { kind: 'success' };
  const failure = (error: Extract<Reply, { kind: 'failure' }>['error'], reason: string): Reply => ({ kind: 'failure', error, reason });
  const prepared = rec(ParticipantState.Prepared, 2);
  const committed = rec(ParticipantState.Committed, 2);
  const aborted = rec(ParticipantState.Aborted, 2);
  const doneRecord = rec(ParticipantState.Done, 2);
  const failed = rec(ParticipantState.Failed, 2);
  const compensated = rec(ParticipantState.Compensated, 2);

  it.each<[string, ParticipantRecord | undefined, CoordinatorMessage, StepPlan]>([
    // 2PC, phase one
    ['first prepare', undefined, msg('prepare', 2), { kind: 'run', expected: undefined, onSuccess: 'PREPARED', onDecline: 'ABORTED' }],
    ['duplicate prepare', prepared, msg('prepare', 2), { kind: 'reply', reply: yes, duplicate: true }],
    ['prepare of a later attempt meets PREPARED', prepared, msg('prepare', 3), { kind: 'reply', reply: yes, duplicate: true }],
    ['prepare replayed after commit', committed, msg('prepare', 2), { kind: 'reply', reply: yes, duplicate: true }],
    [
      'prepare after an abort (tombstone)',
      aborted,
      msg('prepare', 2),
      { kind: 'reply', reply: failure('VoteNo', 'already aborted'), duplicate: true },
    ],
    [
      'prepare after its own NO vote repeats the reason',
      { ...aborted, reason: 'insufficient funds' },
      msg('prepare', 2),
      { kind: 'reply', reply: failure('VoteNo', 'insufficient funds'), duplicate: true },
    ],
    [
      'prepare of an earlier attempt (stale epoch)',
      prepared,
      msg('prepare', 1),
      { kind: 'reply', reply: failure('VoteNo', 'stale prepare (epoch 1 < 2)'), duplicate: true },
    ],
    // 2PC, phase two
    ['commit of a prepared participant', prepared, msg('commit', 2), { kind: 'run', expected: prepared, onSuccess: 'COMMITTED' }],
    ['duplicate commit', committed, msg('commit', 2), { kind: 'reply', reply: done, duplicate: true }],
    [
      'commit unprepared',
      undefined,
      msg('commit', 2),
      { kind: 'reply', reply: failure('Conflict', 'commit while unprepared'), duplicate: false },
    ],
    [
      'commit after abort',
      aborted,
      msg('commit', 2),
      { kind: 'reply', reply: failure('Conflict', 'commit while ABORTED'), duplicate: false },
    ],
    ['abort before prepare', undefined, msg('abort', 2), { kind: 'record', expected: undefined, state: 'ABORTED', reply: done }],
    ['abort of a prepared participant', prepared, msg('abort', 2), { kind: 'run', expected: prepared, onSuccess: 'ABORTED' }],
    ['duplicate abort', aborted, msg('abort', 2), { kind: 'reply', reply: done, duplicate: true }],
    [
      'abort after commit',
      committed,
      msg('abort', 2),
      { kind: 'reply', reply: failure('Conflict', 'abort while COMMITTED'), duplicate: false },
    ],
    // Saga
    ['first action', undefined, msg('action', 2), { kind: 'run', expected: undefined, onSuccess: 'DONE', onDecline: 'FAILED' }],
    ['duplicate action', doneRecord, msg('action', 2), { kind: 'reply', reply: done, duplicate: true }],
    [
      'action after its failure repeats the reason',
      { ...failed, reason: 'out of stock' },
      msg('action', 2),
      { kind: 'reply', reply: failure('ActionFailed', 'out of stock'), duplicate: true },
    ],
    [
      'action after its compensation (tombstone)',
      compensated,
      msg('action', 2),
      { kind: 'reply', reply: failure('ActionFailed', 'action compensated'), duplicate: true },
    ],
    [
      'action of an earlier attempt (stale epoch)',
      doneRecord,
      msg('action', 1),
      { kind: 'reply', reply: failure('ActionFailed', 'stale action (epoch 1 < 2)'), duplicate: true },
    ],
    [
      'compensate before the action',
      undefined,
      msg('compensate', 2),
      { kind: 'record', expected: undefined, state: 'COMPENSATED', reply: done },
    ],
    ['compensate a done action', doneRecord, msg('compensate', 2), { kind: 'run', expected: doneRecord, onSuccess: 'COMPENSATED' }],
    ['compensate a failed action', failed, msg('compensate', 2), { kind: 'record', expected: failed, state: 'COMPENSATED', reply: done }],
    ['duplicate compensate', compensated, msg('compensate', 2), { kind: 'reply', reply: done, duplicate: true }],
    [
      'compensate meets a 2PC record',
      prepared,
      msg('compensate', 2),
      { kind: 'reply', reply: failure('Conflict', 'compensate while PREPARED'), duplicate: false },
    ],
  ])('%s', (_, record, message, plan) => {
    expect(planStep(record, message)).toEqual(plan);
  });

  it('a phase-one message of an earlier attempt is refused whatever the record says, and changes nothing (T4)', () => {
    for (const state of Object.values(ParticipantState)) {
      expect(planStep(rec(state, 5), msg('prepare', 4))).toEqual({
        kind: 'reply',
        reply: { kind: 'failure', error: 'VoteNo', reason: 'stale prepare (epoch 4 < 5)' },
        duplicate: true,
      });
      expect(planStep(rec(state, 5), msg('action', 4))).toEqual({
        kind: 'reply',
        reply: { kind: 'failure', error: 'ActionFailed', reason: 'stale action (epoch 4 < 5)' },
        duplicate: true,
      });
    }
  });
});

describe('after the handler ran', () => {
  it('a handler that did its part answers YES in phase one, done otherwise', () => {
    expect(Object.values(Phase).map((phase) => [phase, replyAfterRun(phase)])).toEqual([
      ['prepare', { kind: 'success', vote: 'YES' }],
      ['commit', { kind: 'success' }],
      ['abort', { kind: 'success' }],
      ['action', { kind: 'success' }],
      ['compensate', { kind: 'success' }],
    ]);
  });

  it('a decline in phase one is recorded and answered: NO vote (ABORTED), action failed for good (FAILED) (T1)', () => {
    const first = (phase: Phase) => planStep(undefined, msg(phase)) as Extract<StepPlan, { kind: 'run' }>;
    expect(planDecline(first('prepare'), 'prepare', 'insufficient funds')).toEqual({
      kind: 'record',
      state: 'ABORTED',
      reply: { kind: 'failure', error: 'VoteNo', reason: 'insufficient funds' },
    });
    expect(planDecline(first('action'), 'action', 'out of stock')).toEqual({
      kind: 'record',
      state: 'FAILED',
      reply: { kind: 'failure', error: 'ActionFailed', reason: 'out of stock' },
    });
  });

  it('a decline of commit, abort or compensate records nothing and is a step to retry, never an ABORTED record (T3, T5)', () => {
    const cases: [ParticipantRecord, Phase][] = [
      [rec(ParticipantState.Prepared), 'commit'],
      [rec(ParticipantState.Prepared), 'abort'],
      [rec(ParticipantState.Done), 'compensate'],
    ];
    for (const [record, phase] of cases) {
      const plan = planStep(record, msg(phase));
      expect(plan.kind).toBe('run');
      expect(planDecline(plan as Extract<StepPlan, { kind: 'run' }>, phase, 'not now')).toEqual({
        kind: 'retry',
        reply: { kind: 'failure', error: 'StepFailed', reason: 'not now' },
      });
    }
  });
});

describe('isInDoubt and answersWithRefusal', () => {
  it('T3: only a participant that voted YES and has no decision yet is in doubt', () => {
    expect(isInDoubt(undefined)).toBe(false);
    expect(Object.values(ParticipantState).filter((state) => isInDoubt(rec(state)))).toEqual(['PREPARED']);
  });

  it('only phase one answers a refusal as data; the other phases fail as errors to retry', () => {
    expect(Object.values(Phase).filter(answersWithRefusal)).toEqual(['prepare', 'action']);
  });
});
