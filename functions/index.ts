/**
 * `concord-aws`: what every part of Concord shares. The error family (each error has a stable
 * `code`, which the HTTP API maps to a status, and a `retryable` flag) and the time and entropy
 * types that Concord takes instead of reading globals.
 *
 * The parts: `concord-aws/queue` (the fenced queue), `concord-aws/tx` (2PC and sagas),
 * `concord-aws/cdk` (the constructs), `concord-aws/testing` (fakes, faults, the conformance suite),
 * `concord-aws/cost` (the cost meter).
 */
export type { Clock, Entropy } from './core/clock.js';
export { ConcordError, ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from './core/errors.js';
