import type { ComponentChildren } from 'preact';
import type { Consistency } from './api.js';
import { useNow } from './hooks.js';

/** Every number the console shows says how fresh it is, as docs/consistency.md names it. */
export function ConsistencyBadge({ value }: { value: Consistency | undefined }) {
  if (!value) return null;
  const title =
    value === 'strong'
      ? 'strongly consistent: read after every write that was acknowledged'
      : 'eventually consistent: may lag the latest writes by a moment';
  return (
    <span class={`badge consistency ${value}`} title={title}>
      {value}
    </span>
  );
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {error.message}
    </div>
  );
}

export function Section({ title, badge, children }: { title: string; badge?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section>
      <h2>
        {title} {badge}
      </h2>
      {children}
    </section>
  );
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value < 60) return `${Math.round(value)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${Math.floor(value / 3600)} h ${Math.round((value % 3600) / 60)} min`;
}

/** Time left until `iso`, ticking; "expired" once it passed. */
export function Countdown({ until }: { until: string | undefined }) {
  const now = useNow(250);
  if (!until) return <span>—</span>;
  const left = (Date.parse(until) - now) / 1000;
  if (left <= 0) return <span class="expired">expired</span>;
  return (
    <span class="countdown" title={until}>
      {left.toFixed(1)} s
    </span>
  );
}

/** The time of day to the millisecond, for events seconds apart. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function time(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

/** USD per million of something that costs `usd` each, to the cent (or three digits below $1). */
export function perMillion(usd: number): string {
  const m = usd * 1e6;
  return `$${m >= 1 ? m.toFixed(2) : Number(m.toPrecision(3)).toString()}`;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status ${status.toLowerCase()}`}>{status}</span>;
}

export function preview(body: unknown, max = 80): string {
  const text = typeof body === 'string' ? JSON.stringify(body) : JSON.stringify(body ?? null);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
