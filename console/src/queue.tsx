import { messageUsage, usd } from 'concord-aws/cost';
import { useState } from 'preact/hooks';
import { api, type DeadLetter, enc, type MessageState, type Page, type PeekedMessage, type QueueStats } from './api.js';
import { ConsistencyBadge, Countdown, ErrorBox, perMillion, preview, Section, seconds, time } from './components.js';
import { usePoll } from './hooks.js';
import { SendForm } from './queues.js';

const STATES: readonly MessageState[] = ['visible', 'in-flight', 'delayed'];

/** Bytes the queue stores for an HTTP-sent body: its JSON text. */
const bodyBytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body ?? null)).length;
const messageUsd = (body: unknown, receives: number) => usd(messageUsage({ bodyBytes: bodyBytes(body), receives }));

/** One queue: live counts, a peek at its messages by state, its dead letters with redrive and delete. */
export function QueueView({ queue }: { queue: string }) {
  const [state, setState] = useState<MessageState>('visible');
  const stats = usePoll(() => api<QueueStats>('GET', `/v1/queues/${enc(queue)}/stats`), [queue]);
  const peek = usePoll(
    () => api<Page & { messages: PeekedMessage[] }>('GET', `/v1/queues/${enc(queue)}/messages?state=${state}&limit=50`),
    [queue, state],
  );
  const dead = usePoll(() => api<Page & { deadLetters: DeadLetter[] }>('GET', `/v1/queues/${enc(queue)}/dead-letters?limit=50`), [queue]);
  const reloadAll = () => {
    stats.reload();
    peek.reload();
    dead.reload();
  };
  const s = stats.data;
  return (
    <div>
      <p class="crumbs">
        <a href="#/queues">queues</a> / <strong>{queue}</strong>
      </p>
      <Section title={`Queue ${queue}`} badge={<ConsistencyBadge value={s?.consistency} />}>
        <ErrorBox error={stats.error} />
        <div class="cards">
          <Card label="visible" value={s?.visible} />
          <Card label="in flight" value={s?.inFlight} />
          <Card label="delayed" value={s?.delayed} />
          <Card label="dead-lettered" value={s?.deadLettered} warn={(s?.deadLettered ?? 0) > 0} />
          <Card label="age of the oldest" value={s ? seconds(s.oldestAgeSeconds) : undefined} />
        </div>
      </Section>
      <SendForm queue={queue} onSent={reloadAll} />
      <Section title="Messages" badge={<ConsistencyBadge value={peek.data?.consistency} />}>
        <p class="muted">A peek: it leases nothing. An in-flight message shows who holds it as its lease's expiry and fencing token.</p>
        <div class="tabs" role="tablist">
          {STATES.map((name) => (
            <button
              type="button"
              role="tab"
              key={name}
              aria-selected={state === name}
              class={state === name ? 'active' : ''}
              onClick={() => setState(name)}
            >
              {name}
            </button>
          ))}
        </div>
        <ErrorBox error={peek.error} />
        <table class="messages">
          <thead>
            <tr>
              <th>message</th>
              <th>body</th>
              <th class="num">receives</th>
              <th class="num">age</th>
              <th>{state === 'in-flight' ? 'lease expires in' : state === 'delayed' ? 'visible at' : 'sent'}</th>
              <th class="num">fence</th>
              <th
                class="num"
                title="The send, a lease per delivery and the ack, at us-east-1 on-demand prices; an upper bound for bodies of 512 bytes and more, which are stored compressed when that saves 10%"
              >
                $ / M like it
              </th>
            </tr>
          </thead>
          <tbody>
            {(peek.data?.messages ?? []).map((m) => (
              <tr key={m.messageId} data-message={m.messageId}>
                <td class="id">
                  {m.messageId}
                  {m.groupId ? <span class="muted"> group {m.groupId}</span> : null}
                </td>
                <td class="body">
                  <code>{preview(m.body)}</code>
                </td>
                <td class="num">{m.receiveCount}</td>
                <td class="num">{seconds(m.ageSeconds)}</td>
                <td>
                  {m.state === 'in-flight' ? (
                    <Countdown until={m.leaseExpiresAt} />
                  ) : m.state === 'delayed' ? (
                    time(m.visibleAt)
                  ) : (
                    time(m.sentAt)
                  )}
                </td>
                <td class="num">{m.fence ?? '—'}</td>
                <td class="num">{perMillion(messageUsd(m.body, m.receiveCount))}</td>
              </tr>
            ))}
            {peek.data && peek.data.messages.length === 0 ? (
              <tr>
                <td colSpan={7} class="muted">
                  No {state} messages.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </Section>
      <DeadLetters queue={queue} dead={dead} onChange={reloadAll} />
    </div>
  );
}

function Card({ label, value, warn }: { label: string; value: number | string | undefined; warn?: boolean }) {
  return (
    <div class={`card ${warn ? 'warn' : ''}`} data-card={label}>
      <div class="value">{value ?? '…'}</div>
      <div class="label">{label}</div>
    </div>
  );
}

function DeadLetters({
  queue,
  dead,
  onChange,
}: {
  queue: string;
  dead: { data: (Page & { deadLetters: DeadLetter[] }) | undefined; error: Error | undefined };
  onChange: () => void;
}) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [note, setNote] = useState('');
  const act = async (what: () => Promise<string>) => {
    try {
      setNote(await what());
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
    onChange();
  };
  const letters = dead.data?.deadLetters ?? [];
  const base = `/v1/queues/${enc(queue)}/dead-letters`;
  return (
    <Section title="Dead letters" badge={<ConsistencyBadge value={dead.data?.consistency} />}>
      <ErrorBox error={dead.error ?? error} />
      <div class="toolbar">
        <button
          type="button"
          disabled={letters.length === 0}
          onClick={() =>
            act(async () => {
              const r = await api<{ redriven: number; remaining: number }>('POST', `${base}/redrive`, {});
              return `redrove ${r.redriven}, ${r.remaining} remaining`;
            })
          }
        >
          redrive all
        </button>
        <span class="muted" data-testid="dead-letter-note">
          {note}
        </span>
      </div>
      <table class="dead-letters">
        <thead>
          <tr>
            <th>message</th>
            <th>body</th>
            <th class="num">receives</th>
            <th>dead-lettered</th>
            <th>reason</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {letters.map((d) => (
            <tr key={d.messageId} data-dead-letter={d.messageId}>
              <td class="id">{d.messageId}</td>
              <td class="body">
                <code>{preview(d.body)}</code>
              </td>
              <td class="num">{d.receiveCount}</td>
              <td>{time(d.deadLetteredAt)}</td>
              <td>{d.reason}</td>
              <td class="actions">
                <button
                  type="button"
                  data-action="redrive"
                  onClick={() =>
                    act(async () => {
                      await api('POST', `${base}/${enc(d.messageId)}/redrive`);
                      return `redrove ${d.messageId}`;
                    })
                  }
                >
                  redrive
                </button>
                <button
                  type="button"
                  class="danger"
                  data-action="delete"
                  onClick={() =>
                    act(async () => {
                      if (!confirm(`Delete dead letter ${d.messageId}? It cannot be redriven afterwards.`)) return 'kept';
                      await api('DELETE', `${base}/${enc(d.messageId)}`);
                      return `deleted ${d.messageId}`;
                    })
                  }
                >
                  delete
                </button>
              </td>
            </tr>
          ))}
          {dead.data && letters.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No dead letters.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </Section>
  );
}
