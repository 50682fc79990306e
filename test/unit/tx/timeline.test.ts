import { buildTimeline, type PhaseEntry, type TimelineSources } from 'concord-aws/tx';
import { describe, expect, it } from 'vitest';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => t0 + ms;
const phase = (p: PhaseEntry['phase'], state: string, ms: number, extra: Partial<PhaseEntry> = {}): PhaseEntry => ({
  phase: p,
  state,
  epoch: 1,
  at: at(ms),
  ...extra,
});
const base = (over: Partial<TimelineSources>): TimelineSources => ({ createdAt: t0, log: [], participants: [], parked: [], ...over });
/** kind:participant:outcome:epoch, the shape the assertions read. */
const line = (sources: TimelineSources) =>
  buildTimeline(sources).map((e) => [e.kind, e.participant ?? '', e.outcome ?? '', e.epoch ?? ''].join(':'));

describe('buildTimeline', () => {
  it.each<[string, TimelineSources, string[]]>([
    ['a transaction just started', base({}), ['started:::1']],
    [
      'a committed 2PC: votes, the decision, each commit, completion, in time order',
      base({
        participants: [
          { name: 'debit', history: [phase('prepare', 'PREPARED', 10), phase('commit', 'COMMITTED', 40)] },
          { name: 'credit', history: [phase('prepare', 'PREPARED', 12), phase('commit', 'COMMITTED', 38)] },
        ],
        decision: { decision: 'COMMIT', at: at(20), epoch: 1 },
        completed: { status: 'COMMITTED', at: at(50) },
      }),
      [
        'started:::1',
        'vote:debit:YES:1',
        'vote:credit:YES:1',
        'decision::COMMIT:1',
        'commit:credit:ok:1',
        'commit:debit:ok:1',
        'completed::COMMITTED:',
      ],
    ],
    [
      'an aborted 2PC: a NO vote with its reason, the abort of the one that prepared',
      base({
        participants: [
          { name: 'debit', history: [phase('prepare', 'ABORTED', 10, { reason: 'insufficient funds' })] },
          { name: 'credit', history: [phase('prepare', 'PREPARED', 11), phase('abort', 'ABORTED', 30)] },
        ],
        decision: { decision: 'ABORT', at: at(20), epoch: 1, reason: 'VoteNo' },
        completed: { status: 'ABORTED', at: at(40) },
      }),
      ['started:::1', 'vote:debit:NO:1', 'vote:credit:YES:1', 'decision::ABORT:1', 'abort:credit:ok:1', 'completed::ABORTED:'],
    ],
    [
      'a saga whose second action failed: compensation of the first, in reverse',
      base({
        participants: [
          { name: 'debit', history: [phase('action', 'DONE', 10), phase('compensate', 'COMPENSATED', 30)] },
          { name: 'credit', history: [phase('action', 'FAILED', 15, { reason: 'no account' })] },
        ],
        decision: { decision: 'ABORT', at: at(20) },
        completed: { status: 'ABORTED', at: at(40) },
      }),
      ['started:::1', 'action:debit:ok:1', 'action:credit:failed:1', 'decision::ABORT:', 'compensate:debit:ok:1', 'completed::ABORTED:'],
    ],
    [
      'a recovery epoch, a parked compensation, an operator retry that cleared it, and the second run',
      base({
        participants: [
          {
            name: 'debit',
            history: [phase('action', 'DONE', 10), phase('compensate', 'COMPENSATED', 300, { epoch: 3 })],
          },
        ],
        decision: { decision: 'ABORT', at: at(100), epoch: 2, reason: 'PresumedAbort' },
        log: [
          { kind: 'recovery', at: at(100), epoch: 2, detail: 'by sweeper-1 at fence 4' },
          { kind: 'parked', at: at(150), participant: 'debit', detail: 'States.Timeout' },
          { kind: 'retry', at: at(200), epoch: 3, detail: 'operator retry' },
        ],
        completed: { status: 'ABORTED', at: at(310) },
      }),
      [
        'started:::1',
        'action:debit:ok:1',
        'decision::ABORT:2',
        'recovery:::2',
        'parked:debit::',
        'retry:::3',
        'compensate:debit:ok:3',
        'completed::ABORTED:',
      ],
    ],
    [
      'a STUCK saga: the parked compensation shows, and completion says STUCK',
      base({
        participants: [{ name: 'debit', history: [phase('action', 'DONE', 10)] }],
        decision: { decision: 'ABORT', at: at(20) },
        parked: [{ participant: 'debit', at: at(60), error: '{"Error":"StepFailed"}' }],
        completed: { status: 'STUCK', at: at(61) },
      }),
      ['started:::1', 'action:debit:ok:1', 'decision::ABORT:', 'parked:debit::', 'completed::STUCK:'],
    ],
  ])('%s', (_, sources, expected) => {
    expect(line(sources)).toEqual(expected);
  });

  it('breaks ties at one instant in protocol order, then definition order (clocks of a millisecond)', () => {
    const sources = base({
      participants: [
        { name: 'debit', history: [phase('prepare', 'PREPARED', 0), phase('commit', 'COMMITTED', 0)] },
        { name: 'credit', history: [phase('prepare', 'PREPARED', 0), phase('commit', 'COMMITTED', 0)] },
      ],
      decision: { decision: 'COMMIT', at: t0 },
      completed: { status: 'COMMITTED', at: t0 },
    });
    expect(line(sources).map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'started:',
      'vote:debit',
      'vote:credit',
      'decision:',
      'commit:debit',
      'commit:credit',
      'completed:',
    ]);
  });

  it('carries reasons and errors as detail', () => {
    const events = buildTimeline(
      base({
        participants: [{ name: 'debit', history: [phase('prepare', 'ABORTED', 5, { reason: 'insufficient funds' })] }],
        parked: [{ participant: 'debit', at: at(9), error: 'boom' }],
      }),
    );
    expect(events.filter((e) => e.detail).map((e) => [e.kind, e.detail])).toEqual([
      ['vote', 'insufficient funds'],
      ['parked', 'boom'],
    ]);
  });
});
