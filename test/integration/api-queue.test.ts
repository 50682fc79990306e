import { consume } from 'concord-aws/queue';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiDeps, createApp } from '../../functions/api/app.js';
import { emulatorName, uniqueName } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';
import { call } from '../unit/api/http.js';

/**
 * The HTTP API's queue routes in front of the real DynamoDB queue on the emulator (MiniStack, and
 * moto by `npm run test:moto`): what a caller retrying over HTTP sees, and the poison-message flow.
 */
describe(`HTTP API over the DynamoDB queue (${emulatorName()})`, () => {
  let h: Awaited<ReturnType<typeof queueHarness>>;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    // Production receive settings: cursors and shard backoffs on.
    h = await queueHarness({ headRescanMs: 1_000 });
    const notHere = () => {
      throw new Error('not part of this test');
    };
    const deps = {
      queues: h.service(),
      coordinator: { start: notHere, view: notHere },
      banks: {},
      transferTypes: { '2pc': 'transfer-2pc', saga: 'transfer-saga' },
      newId: () => uniqueName('id'),
    } as unknown as ApiDeps;
    app = createApp(deps);
  });

  const post = (queue: string, route: string, json: unknown) => call(app, 'POST', `/v1/queues/${queue}/${route}`, { json });

  it('answers a repeated ack within the lease 200 again, and 409 gone once the lease is over', async () => {
    const queue = uniqueName('http-ack');
    await post(queue, 'messages', { body: 'ack me' });
    const { receipt } = (await post(queue, 'receive', { visibilityTimeoutSeconds: 60 })).body.messages[0];
    expect((await post(queue, 'ack', { receipt })).body).toEqual({ acked: true });
    const again = await post(queue, 'ack', { receipt });
    expect([again.status, again.body]).toEqual([200, { acked: true }]);
    h.clock.advance(61_000);
    const late = await post(queue, 'ack', { receipt });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'LeaseLost', message: expect.stringContaining('gone') });
  });

  it('dead-letters a poison message through the API: receive, nack, receive, nack, and an ack after is refused', async () => {
    const queue = uniqueName('http-poison');
    await call(app, 'PUT', `/v1/queues/${queue}`, { json: { maxReceiveCount: 2 } });
    await post(queue, 'messages', { body: 'poison' });
    const first = (await post(queue, 'receive', {})).body.messages;
    expect(first).toHaveLength(1);
    expect((await post(queue, 'nack', { receipt: first[0].receipt, delaySeconds: 0 })).status).toBe(200);
    const second = (await post(queue, 'receive', {})).body.messages; // at once: a ready message is returned
    expect(second.map((m: { receiveCount: number }) => m.receiveCount)).toEqual([2]);
    expect((await post(queue, 'nack', { receipt: second[0].receipt, delaySeconds: 0 })).status).toBe(200);
    // The same nack repeated (a retry) gets the same answer; an ack with that receipt is not an ack.
    expect((await post(queue, 'nack', { receipt: second[0].receipt, delaySeconds: 0 })).status).toBe(200);
    const ack = await post(queue, 'ack', { receipt: second[0].receipt });
    expect(ack.status).toBe(409);
    expect(ack.body.error.message).toContain('released');
    expect((await post(queue, 'receive', {})).body.messages).toEqual([]);
    const stats = await call(app, 'GET', `/v1/queues/${queue}/stats?consistency=strong`);
    expect(stats.body).toMatchObject({ visible: 0, inFlight: 0, deadLettered: 1 });
  });

  describe('bodies are JSON values both ways (docs/queue.md "Bodies")', () => {
    it('HTTP send -> library consumer: a JSON value arrives as its JSON text, marked application/json; a string as itself', async () => {
      const queue = uniqueName('http-json');
      const values = [{ orderId: 42, items: ['a', 'b'] }, [1, 2, 3], 7.5, true, null, 'plain text', '{"looks":"like json"}'];
      for (const body of values) expect((await post(queue, 'messages', { body })).status).toBe(201);
      const seen: Array<[unknown, string | undefined]> = [];
      const stats = await consume(
        h.service().queue(queue),
        async (m) => {
          seen.push([m.contentType === 'application/json' ? JSON.parse(m.body) : m.body, m.contentType]);
        },
        { stopWhenEmpty: true, waitSeconds: 0 },
      );
      expect(stats.acked).toBe(values.length);
      const expected = values.map((v) => [v, typeof v === 'string' ? undefined : 'application/json']);
      const key = (e: unknown) => JSON.stringify(e);
      expect(seen.map(key).sort()).toEqual(expected.map(key).sort());
    });

    it('library send -> HTTP receive, peek and dead letters: marked JSON text comes back parsed, unmarked text as a string', async () => {
      const queue = uniqueName('lib-json');
      const library = h.service().queue(queue);
      await library.configure({ maxReceiveCount: 1 });
      const json = await library.send({ body: JSON.stringify({ orderId: 7 }), contentType: 'application/json' });
      const text = await library.send({ body: '{"unmarked":true}' });
      const peek = await call(app, 'GET', `/v1/queues/${queue}/messages?state=visible&consistency=strong`);
      expect(peek.status).toBe(200);
      const peeked = Object.fromEntries(peek.body.messages.map((m: { messageId: string; body: unknown }) => [m.messageId, m.body]));
      expect(peeked).toEqual({ [json.messageId]: { orderId: 7 }, [text.messageId]: '{"unmarked":true}' });
      const received = (await post(queue, 'receive', { max: 10 })).body.messages as Array<{
        messageId: string;
        body: unknown;
        receipt: string;
      }>;
      expect(Object.fromEntries(received.map((m) => [m.messageId, m.body]))).toEqual(peeked);
      for (const m of received) await post(queue, 'nack', { receipt: m.receipt });
      const dead = await call(app, 'GET', `/v1/queues/${queue}/dead-letters/${json.messageId}`);
      expect(dead.status).toBe(200);
      expect(dead.body).toMatchObject({ messageId: json.messageId, body: { orderId: 7 }, consistency: 'strong' });
    });
  });

  describe("the operators' views over the real queue", () => {
    it('peeks an in-flight message with its fence and lease expiry, never its receipt, and leases nothing', async () => {
      const queue = uniqueName('http-peek');
      await post(queue, 'messages', { body: { n: 1 } });
      const [leased] = (await post(queue, 'receive', { visibilityTimeoutSeconds: 60 })).body.messages;
      await post(queue, 'messages', { body: { n: 2 } });
      const inFlight = await call(app, 'GET', `/v1/queues/${queue}/messages?state=in-flight&consistency=strong`);
      expect(inFlight.body.messages).toEqual([
        expect.objectContaining({ messageId: leased.messageId, state: 'in-flight', body: { n: 1 }, receiveCount: 1, fence: leased.fence }),
      ]);
      expect(JSON.stringify(inFlight.body)).not.toContain(leased.receipt);
      expect(Date.parse(inFlight.body.messages[0].leaseExpiresAt)).toBeGreaterThan(Date.parse(inFlight.body.messages[0].sentAt));
      const visible = await call(app, 'GET', `/v1/queues/${queue}/messages?consistency=strong`);
      expect(visible.body.messages.map((m: { body: unknown; receiveCount: number }) => [m.body, m.receiveCount])).toEqual([[{ n: 2 }, 0]]);
    });

    it('gets, redrives and deletes one dead letter; 404 for one that is not there', async () => {
      const queue = uniqueName('http-dl');
      await call(app, 'PUT', `/v1/queues/${queue}`, { json: { maxReceiveCount: 1 } });
      const a = (await post(queue, 'messages', { body: 'a' })).body.messageId;
      const b = (await post(queue, 'messages', { body: 'b' })).body.messageId;
      for (const m of (await post(queue, 'receive', { max: 10 })).body.messages) await post(queue, 'nack', { receipt: m.receipt });
      expect((await call(app, 'GET', `/v1/queues/${queue}/dead-letters/${a}`)).body).toMatchObject({ messageId: a, body: 'a' });
      expect((await call(app, 'POST', `/v1/queues/${queue}/dead-letters/${a}/redrive`)).body).toEqual({ messageId: a, redriven: true });
      expect((await call(app, 'POST', `/v1/queues/${queue}/dead-letters/${a}/redrive`)).status).toBe(404);
      expect((await call(app, 'DELETE', `/v1/queues/${queue}/dead-letters/${b}`)).status).toBe(204);
      expect((await call(app, 'DELETE', `/v1/queues/${queue}/dead-letters/${b}`)).status).toBe(404);
      expect((await call(app, 'GET', `/v1/queues/${queue}/dead-letters/${b}`)).status).toBe(404);
      expect((await post(queue, 'receive', {})).body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([a]);
    });

    it('lists a queue that was only ever sent to (never configured), with its config and stats', async () => {
      const queue = uniqueName('http-listed');
      await post(queue, 'messages', { body: 'x' });
      let found: unknown;
      let cursor: string | undefined;
      do {
        const page = await call(app, 'GET', `/v1/queues?limit=100&consistency=strong${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        found ??= page.body.queues.find((q: { queue: string }) => q.queue === queue);
        cursor = page.body.nextCursor;
      } while (cursor && !found);
      expect(found).toMatchObject({ queue, config: { maxReceiveCount: 5, fifo: false }, stats: { visible: 1, consistency: 'strong' } });
    });
  });
});
