import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import {
  ackResponse,
  deadLettersResponse,
  extendResponse,
  nackResponse,
  queueConfigResponse,
  receiveResponse,
  redriveResponse,
  sendResponse,
  statsResponse,
} from '../../../functions/api/schemas.js';
import { fakeWorld } from './fakes.js';
import { call } from './http.js';

function given() {
  const world = fakeWorld();
  const app = createApp(world.deps);
  const send = (queue: string, json: unknown, headers?: Record<string, string>) =>
    call(app, 'POST', `/v1/queues/${queue}/messages`, { json, ...(headers ? { headers } : {}) });
  const receive = (queue: string, json: unknown = {}) => call(app, 'POST', `/v1/queues/${queue}/receive`, { json });
  return { ...world, app, send, receive };
}

describe('HTTP API: queues', () => {
  describe('POST /v1/queues/{queue}/messages', () => {
    it('stores the message and answers 201 {messageId, duplicate:false}', async () => {
      const { send, queues } = given();
      const reply = await send('orders', { body: 'hello', delaySeconds: 0 });
      expect(reply.status).toBe(201);
      expect(sendResponse.parse(reply.body)).toEqual({ messageId: 'm1', duplicate: false });
      expect((await queues.of('orders').inner.receive()).map((m) => [m.messageId, m.body])).toEqual([['m1', 'hello']]);
    });

    it('takes the Idempotency-Key header as the dedup id: a repeat is one message, marked duplicate', async () => {
      const { send, queues } = given();
      const first = await send('orders', { body: 'pay 42' }, { 'Idempotency-Key': 'order-42' });
      const again = await send('orders', { body: 'pay 42' }, { 'Idempotency-Key': 'order-42' });
      expect(first.body).toEqual({ messageId: 'm1', duplicate: false });
      expect(again.status).toBe(201);
      expect(again.body).toEqual({ messageId: 'm1', duplicate: true });
      expect(await queues.of('orders').stored()).toBe(1);
    });

    it('treats a body dedupId and an equal Idempotency-Key as one key', async () => {
      const { send } = given();
      await send('orders', { body: 'a', dedupId: 'k1' });
      expect((await send('orders', { body: 'a' }, { 'Idempotency-Key': 'k1' })).body).toEqual({ messageId: 'm1', duplicate: true });
      expect((await send('orders', { body: 'a', dedupId: 'k1' }, { 'Idempotency-Key': 'k1' })).status).toBe(201);
    });

    it('refuses an Idempotency-Key that contradicts the body dedupId, writing nothing', async () => {
      const { send, writes } = given();
      const reply = await send('orders', { body: 'a', dedupId: 'k1' }, { 'Idempotency-Key': 'k2' });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'ValidationError', field: 'Idempotency-Key' });
      expect(writes()).toBe(0);
    });

    it('refuses an Idempotency-Key the dedup id rules reject (naming the header)', async () => {
      const { send } = given();
      const reply = await send('orders', { body: 'a' }, { 'Idempotency-Key': 'has space' });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('Idempotency-Key');
      expect(reply.body.error.message).toContain('"has space"');
    });

    it.each([
      ['a missing body', {}, 'body'],
      ['a delay over 900 s', { body: 'x', delaySeconds: 901 }, 'delaySeconds'],
      ['a negative delay', { body: 'x', delaySeconds: -1 }, 'delaySeconds'],
      ['a fractional delay', { body: 'x', delaySeconds: 1.5 }, 'delaySeconds'],
      ['an empty group id', { body: 'x', groupId: '' }, 'groupId'],
      ['an unknown field', { body: 'x', priority: 1 }, 'priority'],
      ['an array instead of an object', ['x'], '(body)'],
    ])('answers 400 naming the field for %s, writing nothing', async (_, json, field) => {
      const { send, writes } = given();
      const reply = await send('orders', json);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('ValidationError');
      expect(reply.body.error.field).toBe(field);
      expect(reply.body.error.message.startsWith(`${field}: `)).toBe(true);
      expect(writes()).toBe(0);
    });

    it('quotes the bad value in the message', async () => {
      const { send } = given();
      const reply = await send('orders', { body: 'x', delaySeconds: 901 });
      expect(reply.body.error.message).toMatch(/^delaySeconds: .*got 901$/);
    });

    it.each([['bad name'], ['x'.repeat(81)], ['a.b']])('answers 400 naming `queue` for the queue name %j', async (name) => {
      const { send, writes } = given();
      const reply = await send(encodeURIComponent(name), { body: 'x' });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('queue');
      expect(writes()).toBe(0);
    });
  });

  describe('POST /v1/queues/{queue}/receive', () => {
    it('leases messages and answers {messages:[{messageId, body, receipt, receiveCount, groupId?, fence}]}', async () => {
      const { send, receive } = given();
      await send('orders', { body: 'one', groupId: 'g1' });
      await send('orders', { body: 'two' });
      const reply = await receive('orders', { max: 10, visibilityTimeoutSeconds: 60 });
      expect(reply.status).toBe(200);
      const { messages } = receiveResponse.parse(reply.body);
      expect(messages).toEqual([
        { messageId: 'm1', body: 'one', receipt: expect.any(String), receiveCount: 1, groupId: 'g1', fence: 1 },
        { messageId: 'm2', body: 'two', receipt: expect.any(String), receiveCount: 1, fence: 1 },
      ]);
    });

    it('accepts no body at all (every field is optional)', async () => {
      const { app, send } = given();
      await send('orders', { body: 'x' });
      const reply = await call(app, 'POST', '/v1/queues/orders/receive');
      expect(reply.status).toBe(200);
      expect(reply.body.messages).toHaveLength(1);
    });

    it('answers an empty list when nothing is ready', async () => {
      const { receive } = given();
      expect((await receive('idle')).body).toEqual({ messages: [] });
    });

    it.each([
      [{ max: 0 }, 'max'],
      [{ max: 11 }, 'max'],
      [{ waitSeconds: 21 }, 'waitSeconds'],
      [{ visibilityTimeoutSeconds: 0 }, 'visibilityTimeoutSeconds'],
      [{ max: '5' }, 'max'],
    ])('answers 400 for %j naming %s', async (json, field) => {
      const { receive } = given();
      const reply = await receive('orders', json);
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe(field);
    });

    it('grows the fence with every lease of a message', async () => {
      const { send, receive, clock } = given();
      await send('orders', { body: 'x' });
      const first = await receive('orders', { visibilityTimeoutSeconds: 1 });
      clock.advance(2_000);
      const second = await receive('orders');
      expect(first.body.messages[0].fence).toBe(1);
      expect(second.body.messages[0].fence).toBe(2);
    });
  });

  describe('ack, nack, extend', () => {
    async function leased() {
      const world = given();
      await world.send('orders', { body: 'x' });
      const { receipt } = (await world.receive('orders', { visibilityTimeoutSeconds: 30 })).body.messages[0];
      return { ...world, receipt: receipt as string };
    }

    it('acks with the current receipt: 200 {acked:true}, and the message is gone', async () => {
      const { app, receipt, queues } = await leased();
      const reply = await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      expect(reply.status).toBe(200);
      expect(ackResponse.parse(reply.body)).toEqual({ acked: true });
      expect(await queues.of('orders').stored()).toBe(0);
    });

    it('answers the same ack repeated within its lease (a retry after a lost answer) 200 again, and 409 gone after the lease', async () => {
      const { app, receipt, clock } = await leased();
      await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      const again = await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ acked: true });
      clock.advance(31_000);
      const late = await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('LeaseLost');
      expect(late.body.error.message).toContain('gone');
    });

    it('answers 409 LeaseLost to an ack whose lease expired and was taken by another receiver', async () => {
      const { app, receipt, clock, receive } = await leased();
      clock.advance(31_000);
      await receive('orders');
      const reply = await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      expect(reply.status).toBe(409);
      expect(reply.body.error).toMatchObject({ code: 'LeaseLost' });
      expect(reply.body.error.message).toContain('superseded');
    });

    it('answers 400 naming `receipt` for something that is not a receipt', async () => {
      const { app } = await leased();
      for (const json of [{ receipt: 'garbage' }, { receipt: '' }, { receipt: 7 }, {}]) {
        const reply = await call(app, 'POST', '/v1/queues/orders/ack', { json });
        expect(reply.status, JSON.stringify(json)).toBe(400);
        expect(reply.body.error.field).toBe('receipt');
      }
    });

    it('nacks: 200 {nacked:true}, and the message is delivered again after the delay', async () => {
      const { app, receipt, receive, clock } = await leased();
      const reply = await call(app, 'POST', '/v1/queues/orders/nack', { json: { receipt, delaySeconds: 5 } });
      expect(reply.status).toBe(200);
      expect(nackResponse.parse(reply.body)).toEqual({ nacked: true });
      expect((await receive('orders')).body.messages).toEqual([]);
      clock.advance(5_000);
      expect((await receive('orders')).body.messages[0].receiveCount).toBe(2);
    });

    it('answers 400 for a delay out of range; a repeated nack 200 again; an ack after the nack 409 released', async () => {
      const { app, receipt } = await leased();
      expect((await call(app, 'POST', '/v1/queues/orders/nack', { json: { receipt, delaySeconds: 901 } })).body.error.field).toBe(
        'delaySeconds',
      );
      await call(app, 'POST', '/v1/queues/orders/nack', { json: { receipt } });
      expect((await call(app, 'POST', '/v1/queues/orders/nack', { json: { receipt } })).status).toBe(200);
      const ack = await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt } });
      expect(ack.status).toBe(409);
      expect(ack.body.error.message).toContain('released');
    });

    it('extends: 200 {extended:true, receipt, leaseUntil}, and the lease outlives its first expiry', async () => {
      const { app, receipt, clock } = await leased();
      const reply = await call(app, 'POST', '/v1/queues/orders/extend', { json: { receipt, visibilityTimeoutSeconds: 120 } });
      expect(reply.status).toBe(200);
      const body = extendResponse.parse(reply.body);
      expect(body.leaseUntil).toBe(new Date(clock.now() + 120_000).toISOString());
      clock.advance(60_000);
      expect((await call(app, 'POST', '/v1/queues/orders/ack', { json: { receipt: body.receipt } })).status).toBe(200);
    });

    it('answers 400 to an extend without visibilityTimeoutSeconds, and 409 after the lease expired', async () => {
      const { app, receipt, clock } = await leased();
      expect((await call(app, 'POST', '/v1/queues/orders/extend', { json: { receipt } })).body.error.field).toBe(
        'visibilityTimeoutSeconds',
      );
      clock.advance(31_000);
      const late = await call(app, 'POST', '/v1/queues/orders/extend', { json: { receipt, visibilityTimeoutSeconds: 10 } });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('LeaseLost');
    });
  });

  describe('GET /v1/queues/{queue}/stats', () => {
    it('counts by state, eventually consistent by default, and says so', async () => {
      const { app, send, receive, queues } = given();
      await send('orders', { body: 'a' });
      await send('orders', { body: 'b' });
      await send('orders', { body: 'c', delaySeconds: 60 });
      await receive('orders');
      const reply = await call(app, 'GET', '/v1/queues/orders/stats');
      expect(reply.status).toBe(200);
      expect(statsResponse.parse(reply.body)).toEqual({
        oldestAgeSeconds: 0,
        visible: 1,
        inFlight: 1,
        delayed: 1,
        deadLettered: 0,
        consistency: 'eventual',
      });
      expect(queues.of('orders').statsCalls).toEqual([{ consistency: 'eventual' }]);
    });

    it('reads strongly when asked', async () => {
      const { app, queues } = given();
      const reply = await call(app, 'GET', '/v1/queues/orders/stats?consistency=strong');
      expect(reply.body.consistency).toBe('strong');
      expect(queues.of('orders').statsCalls).toEqual([{ consistency: 'strong' }]);
    });
  });

  describe('dead letters', () => {
    async function withDeadLetters(count: number) {
      const world = given();
      await call(world.app, 'PUT', '/v1/queues/orders', { json: { maxReceiveCount: 1 } });
      for (let i = 0; i < count; i++) await world.send('orders', { body: `poison ${i}`, groupId: 'g' });
      await world.receive('orders', { max: 10, visibilityTimeoutSeconds: 1 });
      world.clock.advance(2_000);
      await world.receive('orders', { max: 10 }); // each was received once: dead-lettered now
      return world;
    }

    it('lists them a page at a time with a cursor', async () => {
      const { app, clock } = await withDeadLetters(3);
      const first = await call(app, 'GET', '/v1/queues/orders/dead-letters?limit=2');
      expect(first.status).toBe(200);
      const page = deadLettersResponse.parse(first.body);
      expect(page.consistency).toBe('eventual');
      expect(page.deadLetters.map((d) => d.body)).toEqual(['poison 0', 'poison 1']);
      expect(page.deadLetters[0]).toMatchObject({ groupId: 'g', receiveCount: 1, deadLetteredAt: new Date(clock.now()).toISOString() });
      const rest = await call(app, 'GET', `/v1/queues/orders/dead-letters?limit=2&cursor=${page.nextCursor}&consistency=strong`);
      expect(rest.body.deadLetters.map((d: { body: string }) => d.body)).toEqual(['poison 2']);
      expect(rest.body.nextCursor).toBeUndefined();
      expect(rest.body.consistency).toBe('strong');
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=', 'cursor'],
      ['cursor=forged', 'cursor'],
      ['consistency=linearizable', 'consistency'],
      ['page=2', 'page'],
    ])('answers 400 for ?%s naming %s', async (query, field) => {
      const { app } = given();
      const reply = await call(app, 'GET', `/v1/queues/orders/dead-letters?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe(field);
    });

    it('redrives them: {redriven, remaining}', async () => {
      const { app, queues } = await withDeadLetters(3);
      const partial = await call(app, 'POST', '/v1/queues/orders/dead-letters/redrive', { json: { max: 2 } });
      expect(partial.status).toBe(200);
      expect(redriveResponse.parse(partial.body)).toEqual({ redriven: 2, remaining: true });
      const rest = await call(app, 'POST', '/v1/queues/orders/dead-letters/redrive');
      expect(rest.body).toEqual({ redriven: 1, remaining: false });
      expect(await queues.of('orders').stored()).toBe(3);
    });

    it('bounds a redrive in time as well, so a slow rate cannot outlast the request', async () => {
      const { app, queues } = await withDeadLetters(3);
      await call(app, 'POST', '/v1/queues/orders/dead-letters/redrive', { json: { max: 1000, perSecond: 1 } });
      expect(queues.of('orders').redriveCalls).toEqual([{ max: 1000, perSecond: 1, maxSeconds: 20 }]);
    });

    it('refuses a redrive of more than 1000 at once', async () => {
      const { app } = given();
      const reply = await call(app, 'POST', '/v1/queues/orders/dead-letters/redrive', { json: { max: 1001 } });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('max');
    });
  });

  describe('PUT /v1/queues/{queue}', () => {
    it('sets the configuration and answers the whole of it', async () => {
      const { app } = given();
      const reply = await call(app, 'PUT', '/v1/queues/orders', { json: { maxReceiveCount: 3, fifo: true } });
      expect(reply.status).toBe(200);
      expect(queueConfigResponse.parse(reply.body)).toEqual({
        queue: 'orders',
        maxReceiveCount: 3,
        visibilityTimeoutSeconds: 30,
        fifo: true,
        shards: 4,
        dedupWindowSeconds: 300,
      });
    });

    it('answers 409 Conflict when fifo would change on an existing queue', async () => {
      const { app, send } = given();
      await send('orders', { body: 'x' });
      const reply = await call(app, 'PUT', '/v1/queues/orders', { json: { fifo: true } });
      expect(reply.status).toBe(409);
      expect(reply.body.error.code).toBe('Conflict');
      expect(reply.body.error.message).toContain('fifo');
    });

    it.each([
      [{ maxReceiveCount: 0 }, 'maxReceiveCount'],
      [{ visibilityTimeoutSeconds: 43_201 }, 'visibilityTimeoutSeconds'],
      [{ fifo: 'yes' }, 'fifo'],
      [{ retention: 7 }, 'retention'],
    ])('answers 400 for %j naming %s, changing nothing', async (json, field) => {
      const { app, writes } = given();
      const reply = await call(app, 'PUT', '/v1/queues/orders', { json });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe(field);
      expect(writes()).toBe(0);
    });
  });
});
