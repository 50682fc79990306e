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
  return { holder, until: now + ttlMs, fence: (previous?.fence ?? 0) + 1 };
}

export function renewed(lease: LeaderLease, now: number, ttlMs: number): LeaderLease {
  return { ...lease, until: now + ttlMs };
}

/** A leader should stop acting a safety margin before its lease ends (its clock may run slow). */
export function mayAct(lease: LeaderLease, now: number, safetyMarginMs: number): boolean {
  return now + safetyMarginMs < lease.until;
}
