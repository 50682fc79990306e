import type { Clock } from '../../functions/core/clock';

/**
 * Real time plus an offset the test can move forward. Lease expiry is decided by the `now` the
 * client puts into its conditions, so moving this clock expires leases without sleeping.
 */
export class SteppingClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
