import { LeaseLossReason } from './errors.js';

/**
 * What the table holds about the delivery of one message (standard queue) or of the head of one
 * message group (FIFO queue). Lease, ack, nack, extend and dead-letter are transitions of this state;
 * each is applied by exactly one conditional write whose condition is the transition's guard.
 */
export interface DeliveryState {
  /** The message can be leased at or after this instant (ms). While leased: the lease's expiry. */
  readonly visibleAt: number;
  /** The random token of the current (or last, if expired) lease; absent before the first lease and after a nack. */
  readonly leaseToken: string | undefined;
  /** Fencing token: grows by one with every lease of the message (Q2). */
  readonly fence: number;
  readonly receiveCount: number;
}

export const initialDeliveryState = (visibleAt: number): DeliveryState => ({
  visibleAt,
  leaseToken: undefined,
  fence: 0,
  receiveCount: 0,
});

/**
 * Guards: what must be true of the stored state for a transition to apply. The core evaluates them
 * (`guardHolds`) for fakes and diagnostics; the DynamoDB adapter turns each into a ConditionExpression
 * that says the same thing (checked against the emulator by test/integration/guards.test.ts).
 */
export type Guard =
  /** Visible now and not yet delivered maxReceiveCount times. */
  | { readonly kind: 'can-lease'; readonly now: number; readonly maxReceiveCount: number }
  /** Visible now, delivered maxReceiveCount times already, and unchanged since it was read (same fence). */
  | { readonly kind: 'exhausted'; readonly now: number; readonly maxReceiveCount: number; readonly fence: number }
  /** Leased by exactly this token, and the lease has not expired. */
  | { readonly kind: 'holds-lease'; readonly token: string; readonly now: number };

export function guardHolds(guard: Guard, state: DeliveryState | undefined): boolean {
  if (!state) return false;
  switch (guard.kind) {
    case 'can-lease':
      return state.visibleAt <= guard.now && state.receiveCount < guard.maxReceiveCount;
    case 'exhausted':
      return state.visibleAt <= guard.now && state.receiveCount >= guard.maxReceiveCount && state.fence === guard.fence;
    case 'holds-lease':
      return state.leaseToken === guard.token && state.visibleAt > guard.now;
  }
}

export const DeliveryDecision = {
  Lease: 'lease',
  DeadLetter: 'dead-letter',
  NotVisible: 'not-visible',
} as const;
export type DeliveryDecision = (typeof DeliveryDecision)[keyof typeof DeliveryDecision];

/** What a receiver should do with a message it found: SQS semantics for maxReceiveCount. */
export function decideDelivery(state: DeliveryState, now: number, maxReceiveCount: number): DeliveryDecision {
  if (state.visibleAt > now) return DeliveryDecision.NotVisible;
  return state.receiveCount >= maxReceiveCount ? DeliveryDecision.DeadLetter : DeliveryDecision.Lease;
}

export function leaseTransition(state: DeliveryState, token: string, now: number, visibilityMs: number): DeliveryState {
  return {
    visibleAt: now + visibilityMs,
    leaseToken: token,
    fence: state.fence + 1,
    receiveCount: state.receiveCount + 1,
  };
}

export function nackTransition(state: DeliveryState, now: number, delayMs: number): DeliveryState {
  return { ...state, visibleAt: now + delayMs, leaseToken: undefined };
}

export function extendTransition(state: DeliveryState, now: number, visibilityMs: number): DeliveryState {
  return { ...state, visibleAt: now + visibilityMs };
}

/** The lease a receipt describes, as far as the failure analysis needs it. */
export interface HeldLease {
  readonly token: string;
  readonly fence: number;
  readonly leaseUntil: number;
}

export type FailureVerdict = { readonly outcome: 'applied-earlier' } | { readonly outcome: 'lost'; readonly reason: LeaseLossReason };

/**
 * A conditional write on a lease failed. Given the item the table returned with the failure
 * (ReturnValuesOnConditionCheckFailure=ALL_OLD; undefined when the item is gone) decide whether
 * an earlier attempt of this very request already applied (Q3: the SDK retried after a lost
 * response) or the lease is really lost (Q2).
 *
 * `retried` is true when the SDK sent the request more than once; only then can an earlier
 * attempt of ours have applied. A caller repeating an ack by hand therefore gets LeaseLost, so
 * there is at most one successful ack per delivery.
 *
 * Crash window covered: ack applied (item deleted) -> response lost -> retry finds no item.
 * While our lease was unexpired nobody else could lease, ack or dead-letter the message, so an
 * item gone before `leaseUntil` was deleted by our own first attempt. This leans on clocks being
 * synchronized to well under a lease (NTP-disciplined, as on Lambda).
 */
export function judgeHolderWriteFailure(
  op: 'ack' | 'nack' | 'extend',
  lease: HeldLease,
  current: DeliveryState | undefined,
  now: number,
  retried: boolean,
): FailureVerdict {
  if (!current) {
    if (op === 'ack' && retried && now < lease.leaseUntil) return { outcome: 'applied-earlier' };
    return { outcome: 'lost', reason: LeaseLossReason.Gone };
  }
  if (current.leaseToken === lease.token) {
    // Our token is still there, so the failure can only be expiry (for extend too: a retry of an
    // applied extend would have found the longer lease and succeeded).
    return { outcome: 'lost', reason: LeaseLossReason.Expired };
  }
  if (current.fence > lease.fence) return { outcome: 'lost', reason: LeaseLossReason.Superseded };
  if (op === 'nack' && retried && current.leaseToken === undefined && current.fence === lease.fence) {
    // Only our own nack removes the token without a new lease raising the fence.
    return { outcome: 'applied-earlier' };
  }
  if (current.fence === lease.fence && current.leaseToken === undefined) {
    return { outcome: 'lost', reason: LeaseLossReason.Released };
  }
  return { outcome: 'lost', reason: LeaseLossReason.Forged };
}

/** A lease attempt failed: did an earlier attempt of the same request (same token) apply? */
export function leaseAppliedEarlier(token: string, current: DeliveryState | undefined): boolean {
  return current?.leaseToken === token;
}
