import { describe, expect, it } from 'vitest';
import { toLanes } from '../../../console/src/timeline-model.js';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 4, 0, 0, ms)).toISOString();

describe('toLanes (the console timeline: phases per participant)', () => {
  it('draws a committed 2PC as prepare/vote, the decision, commit, per participant', () => {
    const lanes = toLanes('2pc', [
      { at: at(0), kind: 'started' },
      { at: at(10), kind: 'prepare', participant: 'bank-a' },
      { at: at(11), kind: 'prepare', participant: 'bank-b' },
      { at: at(20), kind: 'vote', participant: 'bank-a', outcome: 'YES' },
      { at: at(21), kind: 'vote', participant: 'bank-b', outcome: 'YES' },
      { at: at(30), kind: 'decision', outcome: 'COMMIT' },
      { at: at(40), kind: 'commit', participant: 'bank-a', outcome: 'ok' },
      { at: at(41), kind: 'commit', participant: 'bank-b', outcome: 'ok' },
      { at: at(50), kind: 'completed' },
    ]);
    expect(lanes.phases).toEqual(['prepare / vote', 'decision', 'commit / abort']);
    expect(lanes.lanes.map((l) => l.name)).toEqual(['coordinator', 'bank-a', 'bank-b']);
    const bankA = lanes.lanes[1];
    expect(bankA?.cells.map((c) => c.map((e) => e.kind))).toEqual([['prepare', 'vote'], [], ['commit']]);
    expect(lanes.lanes[0]?.cells.map((c) => c.map((e) => e.kind))).toEqual([['started'], ['decision'], ['completed']]);
    expect(lanes).toMatchObject({ decision: 'COMMIT', retries: 0, recoveries: 0, phaseDeliveries: 4 });
  });

  it('counts a prepare told only as its vote once', () => {
    const lanes = toLanes('2pc', [
      { at: at(0), kind: 'vote', participant: 'bank-a', outcome: 'NO' },
      { at: at(1), kind: 'vote', participant: 'bank-b', outcome: 'YES' },
      { at: at(2), kind: 'decision', outcome: 'ABORT' },
      { at: at(3), kind: 'abort', participant: 'bank-b', outcome: 'ok' },
    ]);
    expect(lanes).toMatchObject({ decision: 'ABORT', phaseDeliveries: 3 });
  });

  it('puts a retry in the phase it retried, and a recovery epoch on the coordinator, whatever order they came in', () => {
    const lanes = toLanes('saga', [
      { at: at(60), kind: 'compensate', participant: 'bank-a', attempt: 2, outcome: 'ok' },
      { at: at(0), kind: 'action', participant: 'bank-a', outcome: 'ok' },
      { at: at(10), kind: 'action', participant: 'bank-b', outcome: 'failed' },
      { at: at(20), kind: 'decision', outcome: 'ABORT' },
      { at: at(30), kind: 'compensate', participant: 'bank-a', attempt: 1, outcome: 'failed' },
      { at: at(40), kind: 'retry', participant: 'bank-a', attempt: 2 },
      { at: at(50), kind: 'recovery', epoch: 2 },
    ]);
    expect(lanes.phases).toEqual(['action', 'decision', 'compensate']);
    expect(lanes.lanes[1]?.cells[2].map((e) => `${e.kind}#${e.attempt}`)).toEqual(['compensate#1', 'retry#2', 'compensate#2']);
    expect(lanes.lanes[0]?.cells[1].map((e) => e.kind)).toEqual(['decision', 'recovery']);
    // The retry is told twice (its own event and attempt 2): counted once.
    expect(lanes).toMatchObject({ decision: 'ABORT', retries: 1, recoveries: 1, actionsRun: 2, phaseDeliveries: 4 });
  });
});
