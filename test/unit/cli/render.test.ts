import { describe, expect, it } from 'vitest';
import type { DeadLetter, PeekedMessage, QueueSummary, Timeline } from '../../../functions/cli/client.js';
import {
  countdown,
  duration,
  moreHint,
  preview,
  renderConfig,
  renderDeadLetters,
  renderJson,
  renderPeek,
  renderQueues,
  renderRedriven,
  renderRetried,
  renderSent,
  renderStats,
  renderTimeline,
  renderTransactions,
} from '../../../functions/cli/render.js';

const now = Date.parse('2026-12-02T05:00:00.000Z');
/** The cells of a rendered table's rows (borders dropped), for assertions that do not pin the drawing. */
const cells = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) =>
      line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );

describe('render', () => {
  describe('duration', () => {
    it.each([
      [0, '0s'],
      [59.4, '59s'],
      [75, '1m 15s'],
      [3_600, '1h'],
      [3_725, '1h 2m'],
      [90_061, '1d 1h'],
      [undefined, '-'],
      [null, '-'],
      [-5, '0s'],
    ])('%s seconds → %s', (seconds, text) => {
      expect(duration(seconds)).toBe(text);
    });
  });

  it('counts a lease down, and says when it has expired', () => {
    expect(countdown('2026-12-02T05:00:25.000Z', now)).toBe('in 25s');
    expect(countdown('2026-12-02T04:59:57.000Z', now)).toBe('expired 3s ago');
    expect(countdown(undefined, now)).toBe('-');
  });

  it('previews a body as JSON, so a string keeps its quotes and a number does not get any, cut to the width', () => {
    expect(preview('hello')).toBe('"hello"');
    expect(preview(42)).toBe('42');
    expect(preview({ orderId: 42 })).toBe('{"orderId":42}');
    expect(preview('x'.repeat(100), 10)).toBe(`"${'x'.repeat(8)}…`);
  });

  it('lists queues with their counts, kind and limits, and says the counts are eventual and approximate (docs/consistency.md)', () => {
    const queues: QueueSummary[] = [
      {
        queue: 'orders',
        config: { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, fifo: false },
        stats: { visible: 3, inFlight: 1, delayed: 0, deadLettered: 2, oldestAgeSeconds: 75, consistency: 'eventual' },
      },
      {
        queue: 'payments.fifo',
        config: { maxReceiveCount: 3, visibilityTimeoutSeconds: 60, fifo: true },
        stats: { visible: 0, inFlight: 0, delayed: 4, deadLettered: 0, consistency: 'eventual' },
      },
    ];
    const text = renderQueues(queues);
    expect(cells(text)).toEqual([
      ['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DEAD', 'OLDEST', 'KIND', 'MAX RECEIVES', 'VISIBILITY'],
      ['orders', '3', '1', '0', '2', '1m 15s', 'standard', '5', '30s'],
      ['payments.fifo', '0', '0', '4', '0', '-', 'fifo', '3', '60s'],
    ]);
    expect(text).toMatch(/\(eventual reads; counts approximate while messages move\)\n$/);
    expect(renderQueues([])).toBe('no queues\n');
  });

  it('shows stats field by field, with how fresh they are', () => {
    const text = renderStats('orders', {
      visible: 3,
      inFlight: 1,
      delayed: 0,
      deadLettered: 2,
      oldestAgeSeconds: 5,
      consistency: 'strong',
    });
    expect(text).toBe(
      'queue          orders\nvisible        3\nin flight      1\ndelayed        0\ndead-lettered  2\noldest         5s\n(strong read; counts approximate while messages move)\n',
    );
  });

  it('shows a configuration with its units', () => {
    expect(
      renderConfig({ queue: 'q', maxReceiveCount: 3, visibilityTimeoutSeconds: 45, fifo: true, shards: 4, dedupWindowSeconds: 300 }),
    ).toBe('queue         q\nkind          fifo\nmax receives  3\nvisibility    45s\nshards        4\ndedup window  300s\n');
  });

  it("peeks: an in-flight message's lease end counts down and shows its fence; a delayed one says when it becomes visible", () => {
    const messages: PeekedMessage[] = [
      {
        messageId: 'm1',
        state: 'in-flight',
        body: { orderId: 42 },
        receiveCount: 2,
        sentAt: '2026-12-02T04:58:00.000Z',
        ageSeconds: 120,
        leaseExpiresAt: '2026-12-02T05:00:25.000Z',
        fence: 7,
      },
      {
        messageId: 'm2',
        state: 'delayed',
        body: 'later',
        receiveCount: 0,
        sentAt: '2026-12-02T05:00:00.000Z',
        ageSeconds: 0,
        visibleAt: '2026-12-02T05:01:00.000Z',
      },
      { messageId: 'm3', state: 'visible', body: 1, groupId: 'g', receiveCount: 0, sentAt: '2026-12-02T05:00:00.000Z', ageSeconds: 3 },
    ];
    expect(cells(renderPeek(messages, now, 'eventual'))).toEqual([
      ['MESSAGE', 'STATE', 'RECEIVES', 'AGE', 'LEASE ENDS', 'FENCE', 'GROUP', 'BODY'],
      ['m1', 'in-flight', '2', '2m', 'in 25s', '7', '-', '{"orderId":42}'],
      ['m2', 'delayed', '0', '0s', 'visible in 1m', '-', '-', '"later"'],
      ['m3', 'visible', '0', '3s', '-', '-', 'g', '1'],
    ]);
    expect(renderPeek([], now, 'eventual')).toBe('no messages\n(eventual read)\n');
  });

  it('lists dead letters with how long ago they died and why', () => {
    const letters: DeadLetter[] = [
      {
        messageId: 'd1',
        body: 'poison',
        receiveCount: 5,
        sentAt: '2026-12-02T04:00:00.000Z',
        deadLetteredAt: '2026-12-02T04:59:00.000Z',
        reason: 'maxReceiveCount',
      },
    ];
    expect(cells(renderDeadLetters(letters, now, 'eventual'))).toEqual([
      ['MESSAGE', 'RECEIVES', 'DEAD-LETTERED', 'REASON', 'BODY'],
      ['d1', '5', '1m ago', 'maxReceiveCount', '"poison"'],
    ]);
  });

  it('lists transactions', () => {
    const text = renderTransactions(
      [
        {
          txId: 't1',
          type: 'transfer',
          mode: '2pc',
          engine: 'standard',
          status: 'COMMITTED',
          createdAt: '2026-12-02T04:00:00.000Z',
          completedAt: '2026-12-02T04:00:01.000Z',
          participants: ['bank-a', 'bank-b'],
        },
      ],
      'eventual',
    );
    expect(cells(text)[1]).toEqual([
      't1',
      'COMMITTED',
      'transfer',
      '2pc/standard',
      '2026-12-02T04:00:00.000Z',
      '2026-12-02T04:00:01.000Z',
      'bank-a, bank-b',
    ]);
  });

  it('draws a timeline in time order with each event offset from the start', () => {
    const timeline: Timeline = {
      txId: 't1',
      type: 'transfer',
      mode: '2pc',
      engine: 'standard',
      status: 'COMMITTED',
      consistency: 'strong',
      events: [
        { at: '2026-12-02T04:00:00.000Z', kind: 'started' },
        { at: '2026-12-02T04:00:00.250Z', kind: 'vote', participant: 'bank-a', outcome: 'YES' },
        { at: '2026-12-02T04:00:00.500Z', kind: 'decision', outcome: 'COMMIT', epoch: 1 },
        { at: '2026-12-02T04:00:01.000Z', kind: 'commit', participant: 'bank-a', attempt: 2, outcome: 'ok', detail: 'after a retry' },
      ],
    };
    const text = renderTimeline(timeline);
    expect(text.startsWith('transaction  t1\ntype         transfer\nmode         2pc (standard engine)\nstatus       COMMITTED\n')).toBe(
      true,
    );
    expect(cells(text).slice(1)).toEqual([
      ['2026-12-02T04:00:00.000Z', '+0.000s', 'started', '-', '-', '-', '-', ''],
      ['2026-12-02T04:00:00.250Z', '+0.250s', 'vote', 'bank-a', '-', '-', 'YES', ''],
      ['2026-12-02T04:00:00.500Z', '+0.500s', 'decision', '-', '1', '-', 'COMMIT', ''],
      ['2026-12-02T04:00:01.000Z', '+1.000s', 'commit', 'bank-a', '-', '2', 'ok', 'after a retry'],
    ]);
    expect(text.endsWith('(strong read)\n')).toBe(true);
  });

  it('says what a send, a redrive and a cut-short listing did', () => {
    expect(renderSent('q', { messageId: 'm1', duplicate: false })).toBe('sent message m1 to q\n');
    expect(renderSent('q', { messageId: 'm1', duplicate: true })).toMatch(/^duplicate of message m1/);
    expect(renderRedriven('q', { redriven: 1, remaining: false })).toBe('redrove 1 dead letter of q back into the queue\n');
    expect(renderRedriven('q', { redriven: 3, remaining: true })).toMatch(/3 dead letters .* more are waiting/);
    expect(renderRetried({ txId: 't1', status: 'PENDING', epoch: 3 })).toBe(
      'retrying the parked compensations of t1: now PENDING under epoch 3\n',
    );
    expect(moreHint('abc', 100)).toBe('100 shown; more with --cursor abc (or --all)\n');
    expect(moreHint(undefined, 3)).toBe('');
  });

  it('prints JSON as one document ending in a newline', () => {
    expect(renderJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
