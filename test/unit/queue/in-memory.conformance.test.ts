import { describeQueueConformance, FakeClock, InMemoryQueue, InMemoryQueues } from 'concord-aws/testing';
import { describe, expect, it } from 'vitest';

describeQueueConformance({ describe, it, expect }, 'InMemoryQueue', () => {
  const clock = new FakeClock();
  const queues = new InMemoryQueues({ clock });
  let n = 0;
  return {
    queue: async (config) => {
      const queue = queues.queue(`conformance-${n++}`);
      if (config) await queue.configure(config);
      return queue;
    },
    anotherHandle: (queue) => queue,
    advance: (ms) => clock.advance(ms),
    listQueues: (input) => queues.list(input),
  };
});

describe('InMemoryQueue', () => {
  it('works with its defaults: new InMemoryQueue() sends, receives and acks', async () => {
    const queue = new InMemoryQueue();
    await queue.send({ body: 'x' });
    const [m] = await queue.receive();
    expect(m?.body).toBe('x');
    await queue.ack(m!.receipt);
    expect(await queue.receive()).toEqual([]);
  });

  it('long-polls until a message is sent, and a signal ends the wait', async () => {
    const queue = new InMemoryQueue();
    const waiting = queue.receive({ waitSeconds: 5 });
    await queue.send({ body: 'late' });
    expect((await waiting).map((m) => m.body)).toEqual(['late']);
    const stop = new AbortController();
    const idle = queue.receive({ waitSeconds: 20 }, { signal: stop.signal });
    stop.abort();
    expect(await idle).toEqual([]);
  });
});
