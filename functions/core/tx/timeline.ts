/**
 * One transaction's timeline, built from the records Concord writes (pure: no I/O, no clock).
 *
 * | source                                  | events                                                  |
 * |-----------------------------------------|---------------------------------------------------------|
 * | transaction record `createdAt`          | started (epoch 1)                                       |
 * | each participant record's history `h`   | vote (prepare: YES/NO), commit, abort, action, compensate |
 * | transaction record decision             | decision (COMMIT/ABORT, its epoch and reason)           |
 * | transaction record log `lg`             | recovery (the sweeper's new epoch), retry (an operator's), parked (cleared by a retry) |
 * | parked compensations                    | parked (T5)                                             |
 * | transaction record `completedAt`        | completed (COMMITTED / ABORTED / STUCK)                 |
 *
 * What it cannot show: phase deliveries that applied nothing (a duplicate, a late or replayed
 * message, a step the participant failed and the state machine retried) leave no record, so they
 * are absent; each phase shows once, when it applied, with the epoch of the message that applied
 * it. Times come from different clocks (the coordinator's, each participant's, Step Functions'),
 * so events closer than the clocks' skew may be drawn out of their real order.
 */

export const TimelineEventKind = {
  Started: 'started',
  /** Reserved: a prepare shows as its participant's vote. */
  Prepare: 'prepare',
  Vote: 'vote',
  Decision: 'decision',
  Commit: 'commit',
  Abort: 'abort',
  Action: 'action',
  Compensate: 'compensate',
  Retry: 'retry',
  Recovery: 'recovery',
  Parked: 'parked',
  Completed: 'completed',
} as const;
export type TimelineEventKind = (typeof TimelineEventKind)[keyof typeof TimelineEventKind];

export interface TimelineEvent {
  /** ms since the epoch. */
  readonly at: number;
  readonly kind: TimelineEventKind;
  readonly participant?: string;
  readonly epoch?: number;
  /** YES/NO for a vote, COMMIT/ABORT for the decision, ok/failed for a phase, the final status for completed. */
  readonly outcome?: string;
  readonly detail?: string;
}

/** One phase a participant applied, as its record's history keeps it. */
export interface PhaseEntry {
  readonly phase: 'prepare' | 'commit' | 'abort' | 'action' | 'compensate';
  /** The participant state the phase left (PREPARED, ABORTED, COMMITTED, DONE, FAILED, COMPENSATED). */
  readonly state: string;
  readonly epoch: number;
  readonly at: number;
  readonly reason?: string;
}

/** An entry of the transaction record's log. */
export interface LogEntry {
  readonly kind: 'recovery' | 'retry' | 'parked';
  readonly at: number;
  readonly epoch?: number;
  readonly participant?: string;
  readonly detail?: string;
}

export interface TimelineSources {
  readonly createdAt: number;
  readonly decision?: { readonly decision: string; readonly at: number; readonly epoch?: number; readonly reason?: string };
  readonly completed?: { readonly status: string; readonly at: number };
  readonly log: readonly LogEntry[];
  /** In definition order. */
  readonly participants: ReadonlyArray<{ readonly name: string; readonly history: readonly PhaseEntry[] }>;
  readonly parked: ReadonlyArray<{ readonly participant: string; readonly at: number; readonly error?: string }>;
}

/** Ties at the same instant are drawn in protocol order. */
const ORDER: Readonly<Record<TimelineEventKind, number>> = {
  started: 0,
  prepare: 1,
  vote: 2,
  action: 3,
  decision: 4,
  recovery: 5,
  retry: 6,
  commit: 7,
  abort: 8,
  compensate: 9,
  parked: 10,
  completed: 11,
};

const FAILED_STATES = new Set(['FAILED']);

export function phaseEvent(participant: string, entry: PhaseEntry): TimelineEvent {
  const common = { at: entry.at, participant, epoch: entry.epoch, ...(entry.reason !== undefined ? { detail: entry.reason } : {}) };
  if (entry.phase === 'prepare') return { ...common, kind: TimelineEventKind.Vote, outcome: entry.state === 'PREPARED' ? 'YES' : 'NO' };
  return { ...common, kind: entry.phase, outcome: FAILED_STATES.has(entry.state) ? 'failed' : 'ok' };
}

export function buildTimeline(sources: TimelineSources): TimelineEvent[] {
  const events: TimelineEvent[] = [{ at: sources.createdAt, kind: TimelineEventKind.Started, epoch: 1 }];
  for (const p of sources.participants) for (const entry of p.history) events.push(phaseEvent(p.name, entry));
  if (sources.decision) {
    const { decision, at, epoch, reason } = sources.decision;
    events.push({
      at,
      kind: TimelineEventKind.Decision,
      outcome: decision,
      ...(epoch !== undefined ? { epoch } : {}),
      ...(reason !== undefined ? { detail: reason } : {}),
    });
  }
  for (const entry of sources.log) {
    events.push({
      at: entry.at,
      kind: entry.kind,
      ...(entry.participant !== undefined ? { participant: entry.participant } : {}),
      ...(entry.epoch !== undefined ? { epoch: entry.epoch } : {}),
      ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
    });
  }
  for (const parked of sources.parked) {
    events.push({
      at: parked.at,
      kind: TimelineEventKind.Parked,
      participant: parked.participant,
      ...(parked.error !== undefined ? { detail: parked.error } : {}),
    });
  }
  if (sources.completed) {
    events.push({ at: sources.completed.at, kind: TimelineEventKind.Completed, outcome: sources.completed.status });
  }
  const position = new Map(sources.participants.map((p, i) => [p.name, i]));
  // Stable: equal keys keep the order they were pushed in.
  return events
    .map((event, i) => ({ event, i }))
    .sort(
      (a, b) =>
        a.event.at - b.event.at ||
        ORDER[a.event.kind] - ORDER[b.event.kind] ||
        (position.get(a.event.participant ?? '') ?? -1) - (position.get(b.event.participant ?? '') ?? -1) ||
        a.i - b.i,
    )
    .map(({ event }) => event);
}
