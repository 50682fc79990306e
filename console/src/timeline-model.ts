/**
 * One transaction's timeline as the console draws it: a lane for the coordinator and one per
 * participant, crossed with the protocol's three phases. Pure (no DOM), so that the drawing's rules
 * are tested on their own (test/unit/console/timeline-model.test.ts).
 *
 *               | prepare / vote  | decision        | commit / abort      (2PC)
 *               | action          | decision        | compensate          (saga)
 *   coordinator | started         | decision, ...   | parked, completed
 *   bank-a      | prepare, vote   |                 | commit (attempt 2)
 *
 * Retries land in the phase they retried; a recovery epoch is drawn on the coordinator's lane at
 * the phase the sweeper resumed (the decision column: it re-reads or makes the decision).
 */
import type { TimelineEvent } from '../../functions/cli/client.js';

/** An event of the API's timeline (the CLI's client declares the wire shape once). */
export type LaneEvent = TimelineEvent;

export const COORDINATOR_LANE = 'coordinator';

export interface Lanes {
  readonly phases: readonly [string, string, string];
  readonly lanes: ReadonlyArray<{ readonly name: string; readonly cells: readonly [LaneEvent[], LaneEvent[], LaneEvent[]] }>;
  /** Delivery attempts beyond the first, and recovery epochs started: what the page calls out. */
  readonly retries: number;
  readonly recoveries: number;
  /** Participant phases delivered (each delivery, retries included): what the cost estimate bills. */
  readonly phaseDeliveries: number;
  readonly actionsRun: number;
  readonly decision: 'COMMIT' | 'ABORT' | undefined;
}

const PHASE_ONE = new Set(['prepare', 'vote', 'action']);
const PHASE_TWO = new Set(['commit', 'abort', 'compensate']);
const DELIVERIES = new Set(['prepare', 'commit', 'abort', 'action', 'compensate']);
/** A prepare that applied may be told as its vote alone (the API's timeline does): count the larger. */
const PREPARE_TOLD_AS = new Set(['prepare', 'vote']);

function column(event: LaneEvent, lastColumnOf: Map<string, 0 | 1 | 2>): 0 | 1 | 2 {
  if (PHASE_ONE.has(event.kind)) return 0;
  if (PHASE_TWO.has(event.kind) || event.kind === 'parked' || event.kind === 'completed') return 2;
  if (event.kind === 'retry') return lastColumnOf.get(event.participant ?? COORDINATOR_LANE) ?? 0;
  if (event.kind === 'started') return 0;
  return 1; // decision, recovery, anything new: the coordinator's middle
}

export function toLanes(mode: '2pc' | 'saga', events: readonly LaneEvent[], participants: readonly string[] = []): Lanes {
  const ordered = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const names = [COORDINATOR_LANE, ...participants];
  for (const e of ordered) if (e.participant && !names.includes(e.participant)) names.push(e.participant);
  const lanes = names.map((name) => ({ name, cells: [[], [], []] as [LaneEvent[], LaneEvent[], LaneEvent[]] }));
  const lastColumnOf = new Map<string, 0 | 1 | 2>();
  let retryEvents = 0;
  let laterAttempts = 0;
  let recoveries = 0;
  let phaseDeliveries = 0;
  let prepares = 0;
  let votes = 0;
  let actionsRun = 0;
  let decision: Lanes['decision'];
  for (const e of ordered) {
    const lane = e.participant ?? COORDINATOR_LANE;
    const at = column(e, lastColumnOf);
    lanes[names.indexOf(lane)]?.cells[at].push(e);
    lastColumnOf.set(lane, at);
    if (e.kind === 'retry') retryEvents += 1;
    if (e.attempt !== undefined && e.attempt > 1 && DELIVERIES.has(e.kind)) laterAttempts += 1;
    if (e.kind === 'recovery') recoveries += 1;
    if (DELIVERIES.has(e.kind) && !PREPARE_TOLD_AS.has(e.kind)) phaseDeliveries += 1;
    if (e.kind === 'prepare') prepares += 1;
    if (e.kind === 'vote') votes += 1;
    if (e.kind === 'action') actionsRun += 1;
    if (e.kind === 'decision' && (e.outcome === 'COMMIT' || e.outcome === 'ABORT')) decision = e.outcome;
  }
  return {
    phases: mode === '2pc' ? ['prepare / vote', 'decision', 'commit / abort'] : ['action', 'decision', 'compensate'],
    lanes,
    // A retry may be told as its own event, or as a delivery's attempt number: never count it twice.
    retries: Math.max(retryEvents, laterAttempts),
    recoveries,
    phaseDeliveries: phaseDeliveries + Math.max(prepares, votes),
    actionsRun,
    decision,
  };
}
