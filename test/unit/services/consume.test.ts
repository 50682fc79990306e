import { consume, type LeaseLost } from 'concord-aws/queue';
import { FakeClock, InMemoryQueue } from 'concord-aws/testing';
import { describe, expect, it } from 'vitest';

/** consume() is a worker over the Queue port: these run it on InMemoryQueue, no emulator. */
describe('consume', () => {
  it('acks each message whose handler resolves, once, and drains with stopWhenEmpty', async () => {
    const queue = new InMemoryQueue();
    for (let i = 0; i < 25; i++) await queue.send({ body: `m${i}` });
    const seen: string[] = [];
    const stats = await consume(queue, async (m) => void seen.push(m.body), { stopWhenEmpty: true, waitSeconds: 0 });
    expect(stats).toEqual({ acked: 25, nacked: 0, leaseLost: 0 });
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort());
    expect(await queue.stats({ consistency: 'strong' })).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('nacks a message whose handler throws; it comes back, and is dead-lettered at maxReceiveCount', async () => {
    const queue = new InMemoryQueue('poison', { config: { maxReceiveCount: 2 }, nackBackoff: { baseMs: 0, capMs: 0 } });
    await queue.send({ body: 'bad' });
    let attempts = 0;
    const stats = await consume(
      queue,
      async () => {
        attempts++;
        throw new Error('cannot handle it');
      },
      { stopWhenEmpty: true, waitSeconds: 0 },
    );
    expect(attempts).toBe(2);
    expect(stats).toEqual({ acked: 0, nacked: 2, leaseLost: 0 });
    expect((await queue.stats({ consistency: 'strong' })).deadLettered).toBe(1);
  });

  it('counts a lease lost while the handler ran (never thrown), and tells onLeaseLost', async () => {
    const clock = new FakeClock();
    const queue = new InMemoryQueue('slow', { clock });
    await queue.send({ body: 'slow job' });
    const lost: LeaseLost[] = [];
    const stats = await consume(
      queue,
      async () => {
        clock.advance(31_000); // the handler outlives its lease (no heartbeat: the fake clock does not tick it)
        const [taken] = await queue.receive(); // another consumer takes the message
        await queue.ack(taken!.receipt);
      },
      { stopWhenEmpty: true, waitSeconds: 0, onLeaseLost: (error) => void lost.push(error) },
    );
    expect(stats).toEqual({ acked: 0, nacked: 0, leaseLost: 1 });
    expect(lost.map((e) => e.reason)).toEqual(['gone']);
  });

  it('stops when its signal aborts, ending a long poll at once, and settles what is in hand', async () => {
    const queue = new InMemoryQueue();
    const stop = new AbortController();
    const started = Date.now();
    const running = consume(queue, async () => undefined, { waitSeconds: 20, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    expect(await running).toEqual({ acked: 0, nacked: 0, leaseLost: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('never has more than `concurrency` messages in hand', async () => {
    const queue = new InMemoryQueue();
    for (let i = 0; i < 30; i++) await queue.send({ body: `m${i}` });
    let inHand = 0;
    let most = 0;
    await consume(
      queue,
      async () => {
        most = Math.max(most, ++inHand);
        await new Promise((r) => setTimeout(r, 5));
        inHand--;
      },
      { concurrency: 4, stopWhenEmpty: true, waitSeconds: 0 },
    );
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThan(1);
  });

  it('refuses a concurrency out of range, naming it', async () => {
    await expect(consume(new InMemoryQueue(), async () => undefined, { concurrency: 0 })).rejects.toMatchObject({ field: 'concurrency' });
  });
});
