export { DurableQueue, type DurableQueueProps } from './durable-queue';
