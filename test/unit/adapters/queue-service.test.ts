import { describe, expect, it } from 'vitest';
import { createQueueService } from '../../../functions/adapters/dynamodb/queue/index.js';

describe('QueueService.queue', () => {
  const service = (maxCachedQueues: number) =>
    createQueueService({ dynamodb: { send: () => Promise.reject(new Error('no I/O here')) } as never, tableName: 't', maxCachedQueues });

  it('hands out one handle per queue name, so its cursors and cached configuration are shared', () => {
    const queues = service(10);
    expect(queues.queue('orders')).toBe(queues.queue('orders'));
    expect(queues.queue('orders')).not.toBe(queues.queue('payments'));
  });

  it('keeps at most maxCachedQueues handles, dropping the least recently used', () => {
    const queues = service(3);
    const a = queues.queue('a');
    const b = queues.queue('b');
    queues.queue('c');
    expect(queues.queue('a')).toBe(a); // used again: now the most recent
    queues.queue('d'); // over the bound: drops b, the least recently used
    expect(queues.queue('a')).toBe(a);
    expect(queues.queue('b')).not.toBe(b);
  });

  it('refuses a bad queue name, naming the field', () => {
    expect(() => service(3).queue('no spaces')).toThrow(expect.objectContaining({ name: 'ValidationError', field: 'queue' }));
  });
});
