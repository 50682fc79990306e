/**
 * The Concord console: one page, hash-routed, talking to the HTTP API of the origin it was served
 * from (api.ts). Views: #/queues, #/queues/<queue>, #/transactions?status=, #/transactions/<id>,
 * #/costs.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { bearerToken, setBearerToken } from './api.js';
import { CostsView } from './costs.js';
import { useRoute } from './hooks.js';
import { QueueView } from './queue.js';
import { QueuesView } from './queues.js';
import { TimelineView } from './timeline.js';
import { isStatus, TransactionsView } from './transactions.js';

function TokenField() {
  const [token, setToken] = useState(bearerToken());
  const [open, setOpen] = useState(false);
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        setBearerToken(token);
        setOpen(false);
        location.reload();
      }}
    >
      {open ? (
        <>
          <input
            type="password"
            placeholder="JWT bearer token"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            autoComplete="off"
          />
          <button type="submit">use</button>
        </>
      ) : (
        <button type="button" onClick={() => setOpen(true)} title="For a JWT-authorized API: kept for this tab only">
          {bearerToken() ? 'token set' : 'bearer token'}
        </button>
      )}
    </form>
  );
}

function App() {
  const { parts, query } = useRoute();
  const [view = 'queues', id] = parts;
  const status = query.get('status');
  let page = <QueuesView />;
  if (view === 'queues' && id) page = <QueueView queue={id} key={id} />;
  else if (view === 'transactions' && id) page = <TimelineView txId={id} key={id} />;
  else if (view === 'transactions') page = <TransactionsView status={isStatus(status) ? status : 'PENDING'} />;
  else if (view === 'costs') page = <CostsView />;
  const nav = (name: string, href: string) => (
    <a href={href} class={view === name ? 'active' : ''}>
      {name}
    </a>
  );
  return (
    <>
      <header>
        <span class="brand">Concord</span>
        <nav>
          {nav('queues', '#/queues')}
          {nav('transactions', '#/transactions?status=COMMITTED')}
          {nav('costs', '#/costs')}
        </nav>
        <TokenField />
      </header>
      <main>{page}</main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
