/**
 * The example's own unit test, with Concord's testing kit: InMemoryQueue has the real queue's
 * semantics (LeaseLost included) and a FakeClock expires leases without sleeping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseLost } from 'concord-aws/queue';
import { FakeClock, InMemoryQueue } from 'concord-aws/testing';
import { confirmOrders } from '../src/confirm.js';
import { ORDER_QUEUE } from '../src/orders.js';

describe('confirmOrders', () => {
  it('confirms each order once, with the fence of its delivery', async () => {
    const queue = new InMemoryQueue(ORDER_QUEUE);
    await queue.send({ body: JSON.stringify({ orderId: 'o-1' }) });
    const confirmed: Array<[string, number]> = [];
    const stats = await confirmOrders(queue, async (orderId, fence) => {
      confirmed.push([orderId, fence]);
    });
    assert.deepEqual(confirmed, [['o-1', 1]]);
    assert.equal(stats.acked, 1);
  });

  it('a consumer whose lease expired and was taken over is refused (LeaseLost), and the fence tells the writes apart', async () => {
    const clock = new FakeClock();
    const queue = new InMemoryQueue(ORDER_QUEUE, { clock });
    await queue.send({ body: JSON.stringify({ orderId: 'o-2' }) });
    const [slow] = await queue.receive({ visibilityTimeoutSeconds: 10 });
    clock.advance(11_000);
    const [fast] = await queue.receive();
    assert.ok(slow && fast && fast.fence > slow.fence);
    await assert.rejects(queue.ack(slow.receipt), (error: unknown) => error instanceof LeaseLost && error.reason === 'superseded');
    await queue.ack(fast.receipt);
  });
});
