import { useState } from 'preact/hooks';
import { api, enc, type Page, type TransactionSummary, type TxStatus } from './api.js';
import { ConsistencyBadge, ErrorBox, Section, StatusBadge, time } from './components.js';
import { usePoll } from './hooks.js';

const STATUSES: readonly TxStatus[] = ['PENDING', 'COMMITTED', 'ABORTED', 'STUCK'];

/** Transactions of one status, newest first (GET /v1/transactions?status=). */
export function TransactionsView({ status }: { status: TxStatus }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = usePoll(
    () =>
      api<Page & { transactions: TransactionSummary[] }>(
        'GET',
        `/v1/transactions?status=${status}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
      ),
    [status, cursor],
    3_000,
  );
  const rows = page.data?.transactions ?? [];
  return (
    <Section title="Transactions" badge={<ConsistencyBadge value={page.data?.consistency} />}>
      <div class="tabs" role="tablist">
        {STATUSES.map((s) => (
          <a
            key={s}
            role="tab"
            aria-selected={s === status}
            class={s === status ? 'active' : ''}
            href={`#/transactions?status=${s}`}
            onClick={() => setCursor(undefined)}
          >
            {s.toLowerCase()}
          </a>
        ))}
      </div>
      <ErrorBox error={page.error} />
      <table class="transactions">
        <thead>
          <tr>
            <th>transaction</th>
            <th>status</th>
            <th>mode</th>
            <th>engine</th>
            <th>participants</th>
            <th>started</th>
            <th>completed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.txId} data-tx={t.txId}>
              <td class="id">
                <a href={`#/transactions/${enc(t.txId)}`}>{t.txId}</a>
                <div class="muted">{t.type}</div>
              </td>
              <td>
                <StatusBadge status={t.status} />
              </td>
              <td>{t.mode}</td>
              <td>{t.engine}</td>
              <td>{t.participants.join(', ')}</td>
              <td>{time(t.createdAt)}</td>
              <td>{time(t.completedAt)}</td>
            </tr>
          ))}
          {page.data && rows.length === 0 ? (
            <tr>
              <td colSpan={7} class="muted">
                No {status.toLowerCase()} transactions.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <div class="pager">
        {cursor ? (
          <button type="button" onClick={() => setCursor(undefined)}>
            newest
          </button>
        ) : null}
        {page.data?.nextCursor ? (
          <button type="button" onClick={() => setCursor(page.data?.nextCursor)}>
            older
          </button>
        ) : null}
      </div>
    </Section>
  );
}

export function isStatus(value: string | null): value is TxStatus {
  return value !== null && (STATUSES as readonly string[]).includes(value);
}
