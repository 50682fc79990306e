/**
 * What the CLI prints, as pure functions of what the API returned (and `now`, for ages and lease
 * countdowns): tables for people, JSON for scripts. No I/O, no clock, no colour, so that the same
 * input always prints the same text (test/unit/cli/render.test.ts).
 *
 * Every read says how fresh it is, in the words docs/consistency.md uses (`strong` / `eventual`).
 */
import Table from 'cli-table3';
import type {
  Consistency,
  DeadLetter,
  JsonValue,
  PeekedMessage,
  QueueConfig,
  QueueStats,
  QueueSummary,
  Timeline,
  TransactionSummary,
} from './client.js';

/** JSON for scripts: the API's own field names, one document per command, ending in a newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({
    head: [...head],
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) t.push([...row]);
  return `${t.toString()}\n`;
}

/** Two columns, field and value. */
function fields(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}

const consistencyLine = (consistency: Consistency) => `(${consistency} read)\n`;
/** docs/consistency.md: counts are read shard by shard, so a message moving meanwhile may be counted twice or not at all. */
const APPROXIMATE = 'counts approximate while messages move';

/** 75 → `1m 15s`; 0 → `0s`; absent → `-`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const units: [number, string][] = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let left = s;
  for (const [size, name] of units) {
    if (left >= size || (size === 1 && parts.length === 0)) {
      parts.push(`${Math.floor(left / size)}${name}`);
      left %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A lease's end relative to now: `in 25s`, or `expired 3s ago`. */
export function countdown(isoTime: string | undefined, now: number): string {
  if (!isoTime) return '-';
  const ms = Date.parse(isoTime) - now;
  if (Number.isNaN(ms)) return isoTime;
  return ms >= 0 ? `in ${duration(ms / 1000)}` : `expired ${duration(-ms / 1000)} ago`;
}

/** A body as JSON (so a string shows its quotes and `42` is a number), cut to `width`. */
export function preview(body: JsonValue, width = 40): string {
  const text = JSON.stringify(body) ?? 'undefined';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function renderQueues(queues: readonly QueueSummary[]): string {
  if (queues.length === 0) return 'no queues\n';
  const rows = queues.map((q) => [
    q.queue,
    String(q.stats.visible),
    String(q.stats.inFlight),
    String(q.stats.delayed),
    String(q.stats.deadLettered),
    duration(q.stats.oldestAgeSeconds),
    q.config.fifo ? 'fifo' : 'standard',
    String(q.config.maxReceiveCount),
    `${q.config.visibilityTimeoutSeconds}s`,
  ]);
  const consistencies = new Set(queues.map((q) => q.stats.consistency));
  return (
    table(['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DEAD', 'OLDEST', 'KIND', 'MAX RECEIVES', 'VISIBILITY'], rows) +
    `(${[...consistencies].join(', ')} reads; ${APPROXIMATE})\n`
  );
}

export function renderStats(queue: string, stats: QueueStats): string {
  return (
    fields([
      ['queue', queue],
      ['visible', String(stats.visible)],
      ['in flight', String(stats.inFlight)],
      ['delayed', String(stats.delayed)],
      ['dead-lettered', String(stats.deadLettered)],
      ['oldest', duration(stats.oldestAgeSeconds)],
    ]) + `(${stats.consistency} read; ${APPROXIMATE})\n`
  );
}

export function renderConfig(config: QueueConfig & { queue: string }): string {
  return fields([
    ['queue', config.queue],
    ['kind', config.fifo ? 'fifo' : 'standard'],
    ['max receives', String(config.maxReceiveCount)],
    ['visibility', `${config.visibilityTimeoutSeconds}s`],
    ...(config.shards !== undefined ? [['shards', String(config.shards)] as [string, string]] : []),
    ...(config.dedupWindowSeconds !== undefined ? [['dedup window', `${config.dedupWindowSeconds}s`] as [string, string]] : []),
  ]);
}

export function renderPeek(messages: readonly PeekedMessage[], now: number, consistency: Consistency): string {
  if (messages.length === 0) return `no messages\n${consistencyLine(consistency)}`;
  const rows = messages.map((m) => [
    m.messageId,
    m.state,
    String(m.receiveCount),
    duration(m.ageSeconds),
    m.state === 'in-flight' ? countdown(m.leaseExpiresAt, now) : m.state === 'delayed' ? `visible ${countdown(m.visibleAt, now)}` : '-',
    m.fence !== undefined ? String(m.fence) : '-',
    m.groupId ?? '-',
    preview(m.body),
  ]);
  return table(['MESSAGE', 'STATE', 'RECEIVES', 'AGE', 'LEASE ENDS', 'FENCE', 'GROUP', 'BODY'], rows) + consistencyLine(consistency);
}

export function renderDeadLetters(deadLetters: readonly DeadLetter[], now: number, consistency: Consistency): string {
  if (deadLetters.length === 0) return `no dead letters\n${consistencyLine(consistency)}`;
  const rows = deadLetters.map((d) => [
    d.messageId,
    String(d.receiveCount),
    `${duration((now - Date.parse(d.deadLetteredAt)) / 1000)} ago`,
    d.reason,
    preview(d.body),
  ]);
  return table(['MESSAGE', 'RECEIVES', 'DEAD-LETTERED', 'REASON', 'BODY'], rows) + consistencyLine(consistency);
}

export function renderDeadLetter(queue: string, d: DeadLetter): string {
  return fields([
    ['queue', queue],
    ['message', d.messageId],
    ...(d.groupId !== undefined ? [['group', d.groupId] as [string, string]] : []),
    ['receives', String(d.receiveCount)],
    ['sent at', d.sentAt],
    ['dead-lettered at', d.deadLetteredAt],
    ['reason', d.reason],
    ['body', JSON.stringify(d.body, null, 2).replace(/\n/g, '\n  ')],
  ]);
}

export function renderTransactions(transactions: readonly TransactionSummary[], consistency: Consistency): string {
  if (transactions.length === 0) return `no transactions\n${consistencyLine(consistency)}`;
  const rows = transactions.map((t) => [
    t.txId,
    t.status,
    t.type,
    `${t.mode}/${t.engine}`,
    t.createdAt,
    t.completedAt ?? '-',
    t.participants.join(', '),
  ]);
  return (
    table(['TRANSACTION', 'STATUS', 'TYPE', 'MODE/ENGINE', 'CREATED', 'COMPLETED', 'PARTICIPANTS'], rows) + consistencyLine(consistency)
  );
}

/** The timeline, in time order, each event with its offset from the first. */
export function renderTimeline(t: Timeline): string {
  const head = fields([
    ['transaction', t.txId],
    ['type', t.type],
    ['mode', `${t.mode} (${t.engine} engine)`],
    ['status', t.status],
  ]);
  if (t.events.length === 0) return `${head}no events\n${consistencyLine(t.consistency)}`;
  const start = Date.parse(t.events[0]!.at);
  const rows = t.events.map((e) => {
    const offset = Date.parse(e.at) - start;
    return [
      e.at,
      Number.isNaN(offset) ? '-' : `+${(offset / 1000).toFixed(3)}s`,
      e.kind,
      e.participant ?? '-',
      e.epoch !== undefined ? String(e.epoch) : '-',
      e.attempt !== undefined ? String(e.attempt) : '-',
      e.outcome ?? '-',
      e.detail ?? '',
    ];
  });
  return `${head}${table(['AT', 'ELAPSED', 'EVENT', 'PARTICIPANT', 'EPOCH', 'ATTEMPT', 'OUTCOME', 'DETAIL'], rows)}${consistencyLine(t.consistency)}`;
}

export function renderSent(queue: string, sent: { messageId: string; duplicate: boolean }): string {
  return sent.duplicate
    ? `duplicate of message ${sent.messageId} in ${queue} (within the dedup window: nothing new was stored)\n`
    : `sent message ${sent.messageId} to ${queue}\n`;
}

export function renderRedriven(queue: string, result: { redriven: number; remaining: boolean }): string {
  const noun = result.redriven === 1 ? 'dead letter' : 'dead letters';
  return `redrove ${result.redriven} ${noun} of ${queue} back into the queue${result.remaining ? '; more are waiting (run again)' : ''}\n`;
}

export function renderRetried(result: { txId: string; status: string; epoch?: number }): string {
  return `retrying the parked compensations of ${result.txId}: now ${result.status}${result.epoch !== undefined ? ` under epoch ${result.epoch}` : ''}\n`;
}

/** The hint after a listing that stopped before the last page. */
export function moreHint(nextCursor: string | undefined, shown: number): string {
  return nextCursor ? `${shown} shown; more with --cursor ${nextCursor} (or --all)\n` : '';
}
