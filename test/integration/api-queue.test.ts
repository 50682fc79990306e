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
});
