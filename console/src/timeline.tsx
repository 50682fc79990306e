import { costBreakdown, executionPath, transactionUsage, usd } from 'concord-aws/cost';
import { useState } from 'preact/hooks';
import { api, enc, type Timeline, type TimelineEvent } from './api.js';
import { ConsistencyBadge, clock, ErrorBox, perMillion, Section, StatusBadge } from './components.js';
import { usePoll } from './hooks.js';
import { COORDINATOR_LANE, toLanes } from './timeline-model.js';

const FINAL = new Set(['COMMITTED', 'ABORTED']);

/** One transaction: its phases per participant, its events in order, what it cost. */
export function TimelineView({ txId }: { txId: string }) {
  const [final, setFinal] = useState(false);
  // Live until the transaction is final; then one read is enough.
  const timeline = usePoll(
    async () => {
      const t = await api<Timeline>('GET', `/v1/transactions/${enc(txId)}/timeline`);
      if (FINAL.has(t.status)) setFinal(true);
      return t;
    },
    [txId, final],
    final ? 0 : 2_000,
  );
  // The definition's participants, in order: a lane for each, those that never ran included.
  const view = usePoll(() => api<{ participants?: Array<{ name: string }> }>('GET', `/v1/transactions/${enc(txId)}`), [txId], 0);
  const participants = (view.data?.participants ?? []).map((p) => p.name);
  const [retryNote, setRetryNote] = useState<string>('');
  const [retryError, setRetryError] = useState<Error | undefined>(undefined);
  const t = timeline.data;
  return (
    <div>
      <p class="crumbs">
        <a href="#/transactions?status=PENDING">transactions</a> / <strong>{txId}</strong>
      </p>
      <ErrorBox error={timeline.error} />
      {t ? (
        <>
          <Section title={`Transaction ${t.txId}`} badge={<ConsistencyBadge value={t.consistency} />}>
            <p class="summary">
              <StatusBadge status={t.status} /> {t.mode === '2pc' ? 'two-phase commit' : 'saga'} on the {t.engine} engine, type{' '}
              <code>{t.type}</code>
              {t.status === 'STUCK' ? (
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      const r = await api<{ status: string }>('POST', `/v1/transactions/${enc(t.txId)}/retry`);
                      setRetryNote(`retry started: ${r.status}`);
                      setRetryError(undefined);
                    } catch (e) {
                      setRetryError(e as Error);
                    }
                    timeline.reload();
                  }}
                >
                  retry parked compensations
                </button>
              ) : null}
              <span class="muted">{retryNote}</span>
            </p>
            <ErrorBox error={retryError} />
            <PhaseGrid timeline={t} participants={participants} />
          </Section>
          <CostPanel timeline={t} participants={participants} />
          <Section title="Events">
            <EventList events={t.events} />
          </Section>
        </>
      ) : null}
    </div>
  );
}

function offset(events: readonly TimelineEvent[], at: string): string {
  const first = events[0] ? Date.parse(events[0].at) : Date.parse(at);
  const ms = Date.parse(at) - first;
  return ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(1)} s`;
}

function outcomeClass(e: TimelineEvent): string {
  if (e.kind === 'retry' || (e.attempt ?? 1) > 1) return 'retry';
  if (e.kind === 'recovery' || e.kind === 'parked') return 'recovery';
  if (
    e.outcome === 'NO' ||
    e.outcome === 'ABORT' ||
    e.outcome === 'ABORTED' ||
    e.outcome === 'failed' ||
    e.kind === 'abort' ||
    e.kind === 'compensate'
  )
    return 'bad';
  if (e.outcome === 'YES' || e.outcome === 'COMMIT' || e.outcome === 'COMMITTED' || e.outcome === 'ok' || e.kind === 'commit')
    return 'good';
  return '';
}

function Chip({ e, events }: { e: TimelineEvent; events: readonly TimelineEvent[] }) {
  return (
    <div class={`chip ${outcomeClass(e)}`} data-kind={e.kind} title={`${e.at}${e.detail ? `: ${e.detail}` : ''}`}>
      <span class="kind">{e.kind}</span>
      {e.outcome ? <span class="outcome">{e.outcome}</span> : null}
      {e.attempt !== undefined && e.attempt > 1 ? <span class="attempt">attempt {e.attempt}</span> : null}
      {e.epoch !== undefined && (e.epoch > 1 || e.kind === 'recovery') ? <span class="epoch">epoch {e.epoch}</span> : null}
      <span class="at">{offset(events, e.at)}</span>
    </div>
  );
}

function PhaseGrid({ timeline, participants }: { timeline: Timeline; participants: readonly string[] }) {
  const ordered = [...timeline.events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const model = toLanes(timeline.mode, ordered, participants);
  return (
    <div>
      <p class="muted">
        {model.retries} retr{model.retries === 1 ? 'y' : 'ies'}, {model.recoveries} recovery epoch{model.recoveries === 1 ? '' : 's'}
      </p>
      <table class="phases" data-testid="phase-grid">
        <thead>
          <tr>
            <th />
            {model.phases.map((p) => (
              <th key={p}>{p}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {model.lanes.map((lane) => (
            <tr key={lane.name} data-lane={lane.name}>
              <th class={lane.name === COORDINATOR_LANE ? 'coordinator' : ''}>{lane.name}</th>
              {lane.cells.map((cell, i) => (
                <td key={i}>
                  {cell.map((e) => (
                    <Chip key={`${e.at}-${e.kind}-${e.attempt ?? 1}`} e={e} events={ordered} />
                  ))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EventList({ events }: { events: readonly TimelineEvent[] }) {
  const ordered = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return (
    <table class="events">
      <thead>
        <tr>
          <th>at</th>
          <th />
          <th>event</th>
          <th>participant</th>
          <th>outcome</th>
          <th>attempt</th>
          <th>epoch</th>
          <th>detail</th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((e) => (
          <tr key={`${e.at}-${e.kind}-${e.participant ?? ''}-${e.attempt ?? 1}`} class={outcomeClass(e)}>
            <td title={e.at}>{clock(e.at)}</td>
            <td class="muted nowrap">{offset(ordered, e.at)}</td>
            <td>{e.kind}</td>
            <td>{e.participant ?? '—'}</td>
            <td>{e.outcome ?? ''}</td>
            <td>{e.attempt ?? ''}</td>
            <td>{e.epoch ?? ''}</td>
            <td class="muted">{e.detail ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CostPanel({ timeline, participants: names }: { timeline: Timeline; participants: readonly string[] }) {
  const ordered = [...timeline.events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const model = toLanes(timeline.mode, ordered, names);
  const participants = model.lanes.map((l) => l.name).filter((n) => n !== COORDINATOR_LANE);
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  const usage = transactionUsage({
    mode: timeline.mode,
    engine: timeline.engine,
    participants,
    phases: model.phaseDeliveries,
    retries: model.retries,
    path: executionPath(timeline.mode, model.decision, model.actionsRun),
    ...(first && last ? { durationMs: Date.parse(last.at) - Date.parse(first.at) } : {}),
  });
  const total = usd(usage);
  return (
    <Section title="Cost at AWS prices">
      <p>
        <strong data-testid="tx-cost">{perMillion(total)}</strong> per million transactions like this one: {model.phaseDeliveries}{' '}
        participant phases, {usage.writeUnits} WRU, {usage.readUnits} RRU
        {usage.stateTransitions !== undefined ? `, ${usage.stateTransitions} state transitions` : ''}
        {usage.sqsRequests ? `, ${usage.sqsRequests} SQS requests` : ''}, {usage.lambdaInvocations} Lambda invocations.
      </p>
      <table class="breakdown">
        <tbody>
          {costBreakdown(usage).map((line) => (
            <tr key={line.service}>
              <th>{line.service}</th>
              <td class="num">{perMillion(line.usd)} / M</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        An estimate from Concord's cost model (concord-aws/cost) at us-east-1 on-demand prices; bench:tx measures the same quantities.
      </p>
    </Section>
  );
}
