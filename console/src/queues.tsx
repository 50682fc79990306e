import { useState } from 'preact/hooks';
import { api, enc, type Page, type QueueSummary } from './api.js';
import { ConsistencyBadge, ErrorBox, Section, seconds } from './components.js';
import { usePoll } from './hooks.js';

/** Every queue with its live counts (GET /v1/queues, every 2 s). */
export function QueuesView() {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = usePoll(
    () => api<Page & { queues: QueueSummary[] }>('GET', `/v1/queues?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`),
    [cursor],
  );
  const queues = page.data?.queues ?? [];
  return (
    <div>
      <Section title="Queues" badge={<ConsistencyBadge value={page.data?.consistency} />}>
        <ErrorBox error={page.error} />
        <table class="queues">
          <thead>
            <tr>
              <th>queue</th>
              <th class="num">visible</th>
              <th class="num">in flight</th>
              <th class="num">delayed</th>
              <th class="num">dead-lettered</th>
              <th class="num">oldest</th>
              <th>counts</th>
              <th>configuration</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr key={q.queue} data-queue={q.queue}>
                <td>
                  <a href={`#/queues/${enc(q.queue)}`}>{q.queue}</a>
                </td>
                <td class="num" data-count="visible">
                  {q.stats.visible}
                </td>
                <td class="num" data-count="inFlight">
                  {q.stats.inFlight}
                </td>
                <td class="num" data-count="delayed">
                  {q.stats.delayed}
                </td>
                <td class={`num ${q.stats.deadLettered > 0 ? 'warn' : ''}`} data-count="deadLettered">
                  {q.stats.deadLettered}
                </td>
                <td class="num">{seconds(q.stats.oldestAgeSeconds)}</td>
                <td>
                  <ConsistencyBadge value={q.stats.consistency} />
                </td>
                <td class="muted">
                  {q.config.fifo ? 'FIFO' : 'standard'}, {q.config.shards} shard{q.config.shards === 1 ? '' : 's'}, lease{' '}
                  {q.config.visibilityTimeoutSeconds} s, dead-letter after {q.config.maxReceiveCount}
                </td>
              </tr>
            ))}
            {page.data && queues.length === 0 ? (
              <tr>
                <td colSpan={8} class="muted">
                  No queues yet: a queue exists once a message is sent to it.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        <div class="pager">
          {cursor ? (
            <button type="button" onClick={() => setCursor(undefined)}>
              first page
            </button>
          ) : null}
          {page.data?.nextCursor ? (
            <button type="button" onClick={() => setCursor(page.data?.nextCursor)}>
              next page
            </button>
          ) : null}
        </div>
      </Section>
      <SendForm onSent={page.reload} />
    </div>
  );
}

/** Sends one message: the body is parsed as JSON when it is JSON, else sent as a string. */
export function SendForm({ queue, onSent }: { queue?: string; onSent: () => void }) {
  const [name, setName] = useState(queue ?? '');
  const [body, setBody] = useState('{"hello":"world"}');
  const [result, setResult] = useState<string>('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const send = async (event: Event) => {
    event.preventDefault();
    let value: unknown = body;
    try {
      value = JSON.parse(body);
    } catch {
      /* not JSON: a string body */
    }
    try {
      const sent = await api<{ messageId: string }>('POST', `/v1/queues/${enc(queue ?? name)}/messages`, { body: value });
      setResult(`sent ${sent.messageId}`);
      setError(undefined);
      onSent();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Section title="Send a message">
      <form class="send" onSubmit={send}>
        {queue ? null : (
          <label>
            queue <input name="queue" value={name} onInput={(e) => setName(e.currentTarget.value)} required pattern="[A-Za-z0-9_-]{1,80}" />
          </label>
        )}
        <label class="grow">
          body (JSON, or text) <input name="body" value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </label>
        <button type="submit">send</button>
        <span class="muted" data-testid="send-result">
          {result}
        </span>
      </form>
      <ErrorBox error={error} />
    </Section>
  );
}
