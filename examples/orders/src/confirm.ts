import { type ConsumeStats, consume, type Queue } from 'concord-aws/queue';

/**
 * Drains the order queue, confirming each order. `confirm` is given the delivery's fencing
 * token: guard the write with it, so that a consumer whose lease was taken over cannot overwrite
 * a later confirmation (Concord refuses its ack with LeaseLost as well).
 */
export function confirmOrders(
  queue: Queue,
  confirm: (orderId: string, fence: number) => Promise<void>,
  options: { readonly until?: () => boolean } = {},
): Promise<ConsumeStats> {
  return consume(
    queue,
    async (message) => {
      const { orderId } = JSON.parse(message.body) as { orderId: string };
      await confirm(orderId, message.fence);
    },
    { stopWhenEmpty: true, waitSeconds: 1, ...(options.until ? { until: options.until } : {}) },
  );
}
