/**
 * `concord-aws/testing`: what you need to test your own handlers against Concord's semantics and
 * faults without AWS: InMemoryQueue (the Queue port in memory, LeaseLost and all), the queue
 * conformance suite that both it and the DynamoDB queue pass, a fake clock, seeded entropy, and
 * AWS SDK middlewares that inject the faults Concord's own tests use (a response lost after the
 * write applied, throttling, slow or denied requests, a partly unprocessed batch). Never import it
 * from production code.
 */
export { FakeClock, seededEntropy } from './clock.js';
export {
  ConflictOnce,
  DeniedRequests,
  FailFirstAttempt,
  type FaultPlan,
  LostResponses,
  PartlyUnprocessed,
  SlowRequests,
  ThrottledRequests,
} from './faults.js';
export { InMemoryQueue, type InMemoryQueueOptions, InMemoryQueues } from './in-memory-queue.js';
export { type ConformanceTestApi, describeQueueConformance, type QueueConformanceFixture } from './queue-conformance.js';
