/**
 * Leader election by a lease item with a fencing token (E1). At most one valid lease per role at
 * any instant: acquiring needs the previous lease to be absent or expired, and raises the fence;
 * renewing needs the same holder and fence and an unexpired lease. Every action the leader takes
 * carries its fence as a condition, so an ex-leader that was paused past its lease (GC, a frozen
 * Lambda) has its writes rejected instead of racing the new leader.
 */
export interface LeaderLease {
  readonly holder: string;
  /** Expiry, ms since epoch. */
  readonly until: number;
  readonly fence: number;
}

export type ElectionGuard =
  | { readonly kind: 'vacant'; readonly now: number }
  | { readonly kind: 'held-by'; readonly holder: string; readonly fence: number; readonly now: number };

export function electionGuardHolds(guard: ElectionGuard, lease: LeaderLease | undefined): boolean {
  if (guard.kind === 'vacant') return lease === undefined || lease.until <= guard.now;
  return lease !== undefined && lease.holder === guard.holder && lease.fence === guard.fence && lease.until > guard.now;
}

export function acquired(previous: LeaderLease | undefined, holder: string, now: number, ttlMs: number): LeaderLease {
  const { until, fence } = acquisition(holder, now, ttlMs).next;
  return { holder, until, fence: fence === 'raise' ? (previous?.fence ?? 0) + 1 : fence };
}

export function renewed(lease: LeaderLease, now: number, ttlMs: number): LeaderLease {
  return { ...lease, until: renewal(lease, now, ttlMs).next.until };
}

/** A leader should stop acting a safety margin before its lease ends (its clock may run slow). */
export function mayAct(lease: LeaderLease, now: number, safetyMarginMs: number): boolean {
  return now + safetyMarginMs < lease.until;
}

/**
 * A change of the lease as data: the guard the current lease must pass, and the lease after it.
 * The adapter renders both into one conditional write (the Sweeper), never restating them.
 * `fence: 'raise'` is previous + 1 (so the writer need not read the previous lease first).
 */
export interface ElectionTransition {
  readonly guard: ElectionGuard;
  readonly next: { readonly holder: string; readonly until: number; readonly fence: number | 'raise' };
}

/** Take the lease when it is vacant or expired; the fence rises, so every earlier holder is fenced out. */
export function acquisition(holder: string, now: number, ttlMs: number): ElectionTransition {
  return { guard: { kind: 'vacant', now }, next: { holder, until: now + ttlMs, fence: 'raise' } };
}

/** Extend our own unexpired lease; the fence stays. */
export function renewal(lease: LeaderLease, now: number, ttlMs: number): ElectionTransition {
  return { guard: heldBy(lease, now), next: { holder: lease.holder, until: now + ttlMs, fence: lease.fence } };
}

/** The guard every action of a leader carries: the lease is still ours, with our fence, unexpired. */
export function heldBy(lease: LeaderLease, now: number): ElectionGuard {
  return { kind: 'held-by', holder: lease.holder, fence: lease.fence, now };
}

/** The lease after `transition`, when its guard held for `previous` (what the write leaves behind). */
export function applyElection(previous: LeaderLease | undefined, transition: ElectionTransition): LeaderLease | undefined {
  if (!electionGuardHolds(transition.guard, previous)) return undefined;
  const { holder, until, fence } = transition.next;
  return { holder, until, fence: fence === 'raise' ? (previous?.fence ?? 0) + 1 : fence };
}
