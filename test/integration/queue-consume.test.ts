import { DeniedRequests } from 'concord-aws/testing';
import { describe, expect, it } from 'vitest';
import { CostMeter } from '../../functions/adapters/cost-meter.js';
import { consume } from '../../functions/services/consume.js';
import { emulatorName } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';
import { sleep } from '../support/wait.js';

async function filledQueue(total: number, shards: number) {
  // Head rescans at most once a second (the default): receives read on from their cursors.
  const h = await queueHarness({ headRescanMs: 1_000 });
  const queue = h.service().queue(`consume-${shards}`);
  await queue.configure({ shards });
  const sent = new Set<string>();
  for (let i = 0; i < total; i += 10) {
    for (const r of await queue.sendBatch(Array.from({ length: Math.min(10, total - i) }, (_, j) => ({ body: `m-${i + j}` })))) {
      if (!r.ok) throw r.error;
      sent.add(r.messageId);
    }
  }
  return { h, queue, sent };
}

describe(`The consumer loop and overlapping receives (${emulatorName()})`, () => {
  it('two overlapping receives of one instance lease different messages, without racing or rereading', async () => {
    const { h, queue, sent } = await filledQueue(20, 1);
    const before = h.meter.snapshot();
    const [first, second] = await Promise.all([queue.receive({ max: 10 }), queue.receive({ max: 10 })]);
    const cost = CostMeter.diff(h.meter.snapshot(), before);
    const ids = [...(first ?? []), ...(second ?? [])].map((m) => m.messageId);
    expect(new Set(ids)).toEqual(sent);
    // The second read the shard after the first had moved the cursor past its candidates.
    expect({ failedConditionalWrites: cost.failedConditionalWrites, queries: cost.requests['DynamoDB.Query'] }).toEqual({
      failedConditionalWrites: 0,
      queries: 2,
    });
  });

  it('handles and acks every message of a busy queue once, with no lease race against itself', async () => {
    const { h, queue, sent } = await filledQueue(600, 4);
    const handled: string[] = [];
    const before = h.meter.snapshot();
    const stats = await consume(
      queue,
      async (message) => {
        handled.push(message.messageId);
      },
      { concurrency: 20, waitSeconds: 1, stopWhenEmpty: true },
    );
    const cost = CostMeter.diff(h.meter.snapshot(), before);
    expect(stats).toEqual({ acked: 600, nacked: 0, leaseLost: 0 });
    expect(handled).toHaveLength(600);
    expect(new Set(handled)).toEqual(sent);
    expect(cost.failedConditionalWrites).toBe(0);
    expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('consumes a FIFO queue in send order per group, one message of a group in hand at a time (Q4)', async () => {
    const h = await queueHarness({ headRescanMs: 1_000 });
    const queue = h.service().queue('consume-fifo');
    await queue.configure({ fifo: true, shards: 2 });
    const groups = ['g1', 'g2', 'g3'];
    for (let i = 0; i < 15; i++) {
      for (const r of await queue.sendBatch(groups.map((groupId) => ({ body: `${groupId}:${i}`, groupId })))) if (!r.ok) throw r.error;
    }
    const seen = new Map<string, number[]>();
    const inHand = new Set<string>();
    let overlapInGroup = false;
    const stats = await consume(
      queue,
      async (message) => {
        const [group, n] = message.body.split(':') as [string, string];
        if (inHand.has(group)) overlapInGroup = true;
        inHand.add(group);
        await sleep(2);
        seen.set(group, [...(seen.get(group) ?? []), Number(n)]);
        inHand.delete(group);
      },
      { concurrency: 20, waitSeconds: 1, stopWhenEmpty: true },
    );
    expect(stats).toEqual({ acked: 45, nacked: 0, leaseLost: 0 });
    expect(overlapInGroup).toBe(false);
    for (const group of groups) expect(seen.get(group)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  it('stops when told to, without waiting out a long poll', async () => {
    const h = await queueHarness();
    const queue = h.service().queue('consume-stop');
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 200);
    const stats = await consume(queue, async () => undefined, { waitSeconds: 20, signal: stop.signal });
    expect(stats).toEqual({ acked: 0, nacked: 0, leaseLost: 0 });
    // A receive that waited out its poll would have returned after 20 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('nacks a message whose handler throws, and handles it again', async () => {
    const { queue } = await filledQueue(1, 1);
    let attempts = 0;
    const stats = await consume(
      queue,
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('first attempt fails');
      },
      { waitSeconds: 1, until: () => attempts >= 2 },
    );
    expect(stats).toEqual({ acked: 1, nacked: 1, leaseLost: 0 });
  });

  it('a nack that cannot be written ends the loop: it throws once nothing runs any more, and no handler runs after', async () => {
    const { h, queue } = await filledQueue(30, 1);
    const denied = new DeniedRequests(h.dynamodb, { operation: 'TransactWriteItems' }); // a nack with a delay moves the message
    let handled = 0;
    let returned = false;
    let handledAfterReturn = 0;
    const outcome = await consume(
      queue,
      async () => {
        handled++;
        if (returned) handledAfterReturn++;
        throw new Error('the handler fails');
      },
      { concurrency: 20, waitSeconds: 1 },
    ).then(
      () => 'returned',
      (error: unknown) => error,
    );
    returned = true;
    await sleep(1_500); // anything still running would show here
    denied.remove();
    expect(outcome).toMatchObject({ name: 'AccessDeniedException' });
    expect(handled).toBeGreaterThan(0);
    expect(handledAfterReturn).toBe(0);
  });
});
