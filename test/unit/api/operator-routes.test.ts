import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import {
  deadLetterResponse,
  listQueuesResponse,
  listTransactionsResponse,
  peekResponse,
  receiveResponse,
  retryResponse,
  timelineResponse,
} from '../../../functions/api/schemas.js';
import { fakeWorld } from './fakes.js';
import { call } from './http.js';

function given() {
  const world = fakeWorld();
  const app = createApp(world.deps);
  const send = (queue: string, json: unknown) => call(app, 'POST', `/v1/queues/${queue}/messages`, { json });
  const receive = (queue: string, json: unknown = {}) => call(app, 'POST', `/v1/queues/${queue}/receive`, { json });
  const get = (path: string) => call(app, 'GET', path);
  return { ...world, app, send, receive, get };
}

describe("HTTP API: the operators' routes", () => {
  describe('bodies are JSON values', () => {
    it.each([
      ['an object', { orderId: 42, lines: [{ sku: 'a' }] }],
      ['an array', [1, 'two', { three: 3 }]],
      ['a number', 42.5],
      ['a boolean', false],
      ['null', null],
      ['a string', 'plain'],
      ['a string that looks like JSON', '{"orderId":42}'],
    ])('delivers %s as the same JSON value', async (_, body) => {
      const { send, receive } = given();
      expect((await send('orders', { body })).status).toBe(201);
      const reply = await receive('orders');
      expect(receiveResponse.parse(reply.body).messages.map((m) => m.body)).toEqual([body]);
    });

    it('stores a non-string value as its JSON text marked application/json, a string as itself (what a library consumer sees)', async () => {
      const { send, queues } = given();
      await send('orders', { body: { orderId: 42 } });
      await send('orders', { body: 'plain' });
      const received = await queues.of('orders').inner.receive({ max: 10 });
      expect(received.map((m) => [m.body, m.contentType])).toEqual([
        ['{"orderId":42}', 'application/json'],
        ['plain', undefined],
      ]);
    });

    it('hands an HTTP receiver the parsed value of a library message marked JSON, and unmarked text as a string', async () => {
      const { queues, receive } = given();
      await queues.of('orders').inner.send({ body: '{"a":[1]}', contentType: 'application/json' });
      await queues.of('orders').inner.send({ body: '{"a":[1]}' });
      expect((await receive('orders', { max: 10 })).body.messages.map((m: { body: unknown }) => m.body)).toEqual([{ a: [1] }, '{"a":[1]}']);
    });
  });

  describe('GET /v1/queues', () => {
    it('lists the queues used or configured, with config and stats, paged by a cursor', async () => {
      const { app, send, get } = given();
      await send('b-queue', { body: 'x' });
      await call(app, 'PUT', '/v1/queues/a-queue', { json: { maxReceiveCount: 3 } });
      await get('/v1/queues/c-never-used/stats'); // a read creates nothing
      const first = await get('/v1/queues?limit=1');
      expect(first.status).toBe(200);
      const page = listQueuesResponse.parse(first.body);
      expect(page.queues.map((q) => [q.queue, q.config.maxReceiveCount])).toEqual([['a-queue', 3]]);
      const second = listQueuesResponse.parse((await get(`/v1/queues?limit=1&cursor=${page.nextCursor}`)).body);
      expect(second.queues.map((q) => [q.queue, q.stats.visible])).toEqual([['b-queue', 1]]);
      expect(second.nextCursor).toBe(undefined);
      expect(second.consistency).toBe('eventual');
    });

    it('refuses a cursor it did not hand out, naming it', async () => {
      const reply = await given().get('/v1/queues?cursor=forged');
      expect([reply.status, reply.body.error.field]).toEqual([400, 'cursor']);
    });
  });

  describe('GET /v1/queues/{queue}/messages', () => {
    it('peeks without leasing: an in-flight message shows its fence and lease expiry and never its receipt', async () => {
      const { send, receive, get, clock } = given();
      await send('orders', { body: { n: 1 } });
      const leased = receiveResponse.parse((await receive('orders', { visibilityTimeoutSeconds: 60 })).body).messages[0];
      await send('orders', { body: { n: 2 } });
      const inFlight = peekResponse.parse((await get('/v1/queues/orders/messages?state=in-flight')).body);
      expect(inFlight.messages).toEqual([
        expect.objectContaining({
          messageId: leased?.messageId,
          state: 'in-flight',
          body: { n: 1 },
          receiveCount: 1,
          fence: leased?.fence,
          leaseExpiresAt: new Date(clock.now() + 60_000).toISOString(),
        }),
      ]);
      expect(JSON.stringify(inFlight)).not.toContain(leased?.receipt as string);
      const visible = peekResponse.parse((await get('/v1/queues/orders/messages')).body);
      expect(visible.messages.map((m) => [m.body, m.receiveCount, m.fence])).toEqual([[{ n: 2 }, 0, undefined]]);
      // Peeking leased nothing: the visible one is received as a first delivery.
      expect(receiveResponse.parse((await receive('orders')).body).messages.map((m) => [m.body, m.receiveCount])).toEqual([[{ n: 2 }, 1]]);
    });

    it('refuses an unknown state, naming it', async () => {
      const reply = await given().get('/v1/queues/orders/messages?state=leased');
      expect([reply.status, reply.body.error.field]).toEqual([400, 'state']);
    });
  });

  describe('one dead letter', () => {
    async function deadLettered() {
      const world = given();
      await call(world.app, 'PUT', '/v1/queues/orders', { json: { maxReceiveCount: 1 } });
      await world.send('orders', { body: { poison: true } });
      const [m] = receiveResponse.parse((await world.receive('orders')).body).messages;
      await call(world.app, 'POST', '/v1/queues/orders/nack', { json: { receipt: m?.receipt } });
      return { ...world, id: m?.messageId as string };
    }

    it('GET returns it with its body as a JSON value; 404 for an id not there', async () => {
      const { get, id } = await deadLettered();
      const reply = await get(`/v1/queues/orders/dead-letters/${id}`);
      expect(reply.status).toBe(200);
      expect(deadLetterResponse.parse(reply.body)).toMatchObject({
        messageId: id,
        body: { poison: true },
        receiveCount: 1,
        consistency: 'strong',
      });
      expect((await get('/v1/queues/orders/dead-letters/nope')).status).toBe(404);
    });

    it('redrive moves it back (once: 404 after), DELETE removes it for good (204, then 404)', async () => {
      const { app, receive, id, queues } = await deadLettered();
      expect((await call(app, 'POST', `/v1/queues/orders/dead-letters/${id}/redrive`)).body).toEqual({ messageId: id, redriven: true });
      expect((await call(app, 'POST', `/v1/queues/orders/dead-letters/${id}/redrive`)).status).toBe(404);
      const [back] = receiveResponse.parse((await receive('orders')).body).messages;
      await call(app, 'POST', '/v1/queues/orders/nack', { json: { receipt: back?.receipt } });
      const deleted = await call(app, 'DELETE', `/v1/queues/orders/dead-letters/${id}`);
      expect([deleted.status, deleted.body]).toEqual([204, '']);
      expect((await call(app, 'DELETE', `/v1/queues/orders/dead-letters/${id}`)).status).toBe(404);
      expect((await queues.of('orders').inner.stats()).deadLettered).toBe(0);
    });

    it('refuses a message id no queue hands out, naming it, and writes nothing', async () => {
      const { app, writes } = given();
      const reply = await call(app, 'DELETE', '/v1/queues/orders/dead-letters/has%20space');
      expect([reply.status, reply.body.error.field]).toEqual([400, 'messageId']);
      expect(writes()).toBe(0);
    });
  });

  describe('transactions', () => {
    async function threeTransfers() {
      const world = given();
      const start = async (id: string) => {
        await call(world.app, 'POST', '/v1/transfers', {
          json: { from: { bank: 'bank-a', id: 'a' }, to: { bank: 'bank-b', id: 'b' }, amount: 1, transferId: id },
        });
        world.clock.advance(1_000);
      };
      await start('t1');
      await start('t2');
      await start('t3');
      world.coordinator.finish('t2', 'COMMITTED', { decision: 'COMMIT', decisionReason: '' });
      return world;
    }

    it('GET /v1/transactions lists one status, newest first, paged, and says it is eventual', async () => {
      const { get } = await threeTransfers();
      const pending = listTransactionsResponse.parse((await get('/v1/transactions?status=PENDING&limit=1')).body);
      expect(pending.transactions.map((t) => [t.txId, t.participants])).toEqual([['t3', ['debit', 'credit']]]);
      const next = listTransactionsResponse.parse((await get(`/v1/transactions?status=PENDING&cursor=${pending.nextCursor}`)).body);
      expect(next.transactions.map((t) => t.txId)).toEqual(['t1']);
      const committed = listTransactionsResponse.parse((await get('/v1/transactions?status=COMMITTED')).body);
      expect([committed.transactions.map((t) => t.txId), committed.consistency]).toEqual([['t2'], 'eventual']);
    });

    it('refuses a status that is not one, and a strong read it cannot give, naming the field', async () => {
      const { get } = given();
      expect((await get('/v1/transactions?status=DONE')).body.error.field).toBe('status');
      expect((await get('/v1/transactions?consistency=strong')).body.error.field).toBe('consistency');
    });

    it("GET /v1/transactions/{id}/timeline draws the records: the participants' phases, the decision, recoveries, parking", async () => {
      const { get, coordinator, bankA, bankB } = await threeTransfers();
      const t = Date.parse((await coordinator.view('t2')).createdAt);
      bankA.participant.set('t2', 'debit', {
        state: 'COMMITTED',
        epoch: 1,
        history: [
          { phase: 'prepare', state: 'PREPARED', epoch: 1, at: t + 1 },
          { phase: 'commit', state: 'COMMITTED', epoch: 1, at: t + 3 },
        ],
      });
      bankB.participant.set('t2', 'credit', {
        state: 'PREPARED',
        epoch: 1,
        history: [{ phase: 'prepare', state: 'PREPARED', epoch: 1, at: t + 2 }],
      });
      coordinator.logs.set('t2', [{ kind: 'recovery', at: t + 4, epoch: 2, detail: 'by sweeper at fence 3' }]);
      const reply = await get('/v1/transactions/t2/timeline');
      expect(reply.status).toBe(200);
      const timeline = timelineResponse.parse(reply.body);
      expect(timeline.events.map((e) => [e.kind, e.participant ?? '', e.outcome ?? ''])).toEqual([
        ['started', '', ''],
        ['decision', '', 'COMMIT'],
        ['completed', '', 'COMMITTED'],
        ['vote', 'debit', 'YES'],
        ['vote', 'credit', 'YES'],
        ['commit', 'debit', 'ok'],
        ['recovery', '', ''],
      ]);
      expect(timeline.consistency).toBe('strong');
      expect((await get('/v1/transactions/nope/timeline')).status).toBe(404);
    });

    it('POST /v1/transactions/{id}/retry retries a STUCK transaction (202), 409 for any other, 404 for none', async () => {
      const { app, coordinator, operator } = await threeTransfers();
      coordinator.finish('t1', 'STUCK', { decision: 'ABORT', decisionReason: '' });
      const retried = await call(app, 'POST', '/v1/transactions/t1/retry');
      expect(retried.status).toBe(202);
      expect(retryResponse.parse(retried.body)).toEqual({ txId: 't1', status: 'PENDING', epoch: 2 });
      expect(operator.retried).toEqual(['t1']);
      const committed = await call(app, 'POST', '/v1/transactions/t2/retry');
      expect([committed.status, committed.body.error.code]).toEqual([409, 'Conflict']);
      expect((await call(app, 'POST', '/v1/transactions/none/retry')).status).toBe(404);
    });
  });
});
