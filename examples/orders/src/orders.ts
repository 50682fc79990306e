/**
 * The orders example's own facts: its queue, its transaction type, its tables' keys and the
 * environment its Lambdas read. A shop takes an order: the order item and the message that
 * confirms it are written in one DynamoDB transaction (Concord's outbox, Q7); a consumer confirms
 * the order with a write fenced by the delivery's fencing token (Q2); and a two-phase commit
 * reserves the stock in the inventory service, a participant of its own.
 */
import { defineTransaction } from 'concord-aws/tx';

export const ORDER_QUEUE = 'orders';

/** One participant: the inventory service holds the stock in phase one, takes it on commit. */
export const RESERVE_STOCK = defineTransaction({
  name: 'reserve-stock',
  mode: '2pc',
  participants: [{ name: 'reserve', timeoutSeconds: 30 }],
});

export interface Order {
  readonly orderId: string;
  readonly item: string;
  readonly quantity: number;
}

export interface Reservation {
  readonly item: string;
  readonly quantity: number;
}

export const orderKey = (orderId: string) => ({ pk: { S: `ORDER#${orderId}` }, sk: { S: 'order' } });
export const stockKey = (item: string) => ({ pk: { S: `STOCK#${item}` }, sk: { S: 'stock' } });

/** The example's environment variables (Concord's own come from its constructs' `environment`). */
export const Env = {
  OrdersTable: 'ORDERS_TABLE',
  InventoryTable: 'INVENTORY_TABLE',
  InventoryQueueUrl: 'INVENTORY_QUEUE_URL',
} as const;

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
