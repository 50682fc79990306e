/**
 * The delivery of one message as data: its state, the guards that say when a transition may apply,
 * and each transition (lease, ack, nack, extend, release, dead-letter) as one function returning
 * its guard and its effect. The DynamoDB adapter renders both into one conditional write
 * (adapters/dynamodb/expressions.ts); InMemoryQueue applies them with `guardHolds` and
 * `applyEffect`. Neither restates a transition: what a lease or a nack does is decided here, once.
 *
 * A standard message carries its delivery state on its own item; a FIFO group carries the state of
 * the delivery of its head message on the group item (fifo.ts adds the head and tail).
 *
 * Every effect sets absolute values, never increments: the guard pins the state the values were
 * computed from (a fence, or a lease token, which names one lease), so the stored item after the
 * write is exactly `applyEffect(before, effect)` (checked against the emulator by
 * test/integration/guards.test.ts).
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

/** A FIFO group item: the delivery of its head message, and the group's sequence numbers (Q4). */
export interface GroupState extends DeliveryState {
  /** Sequence number of the message at the head (the next to deliver). */
  readonly head: number;
  /** Sequence number the next appended message gets. */
  readonly tail: number;
}

export const initialDeliveryState = (visibleAt: number): DeliveryState => ({
  visibleAt,
  leaseToken: undefined,
  fence: 0,
  receiveCount: 0,
});

/**
 * What must be true of the stored item for a transition to apply. Each kind is rendered into a
 * ConditionExpression that says exactly what `guardHolds` says.
 */
export type Guard =
  /** No item at the key (a fresh message, a new group, a move's target). */
  | { readonly kind: 'absent' }
  /** Visible now, not yet delivered maxReceiveCount times, and unchanged since it was read (same fence). */
  | { readonly kind: 'can-lease'; readonly now: number; readonly maxReceiveCount: number; readonly fence: number }
  /** Visible now, delivered maxReceiveCount times already, and unchanged since it was read (same fence). */
  | { readonly kind: 'exhausted'; readonly now: number; readonly maxReceiveCount: number; readonly fence: number }
  /** Leased by exactly this token, and the lease has not expired. */
  | { readonly kind: 'holds-lease'; readonly token: string; readonly now: number }
  /** Leased by this token, expired or not (giving back a lease this receiver just took). */
  | { readonly kind: 'leased-by'; readonly token: string }
  /** FIFO: the group's head is this message. */
  | { readonly kind: 'head-is'; readonly seq: number }
  /** FIFO: the group's tail is this number (the sender's view of the group is current). */
  | { readonly kind: 'tail-is'; readonly tail: number }
  | { readonly kind: 'all'; readonly guards: readonly Guard[] };

/** The fields a stored item may have, as far as guards and effects are concerned. */
export type StoredFields = Partial<GroupState>;

export function guardHolds(guard: Guard, stored: StoredFields | undefined): boolean {
  if (guard.kind === 'absent') return stored === undefined;
  if (guard.kind === 'all') return guard.guards.every((g) => guardHolds(g, stored));
  if (!stored) return false;
  const visibleAt = stored.visibleAt ?? 0;
  const receiveCount = stored.receiveCount ?? 0;
  switch (guard.kind) {
    case 'can-lease':
      return visibleAt <= guard.now && receiveCount < guard.maxReceiveCount && stored.fence === guard.fence;
    case 'exhausted':
      return visibleAt <= guard.now && receiveCount >= guard.maxReceiveCount && stored.fence === guard.fence;
    case 'holds-lease':
      return stored.leaseToken === guard.token && visibleAt > guard.now;
    case 'leased-by':
      return stored.leaseToken === guard.token;
    case 'head-is':
      return stored.head === guard.seq;
    case 'tail-is':
      return stored.tail === guard.tail;
  }
}

export const allOf = (...guards: Guard[]): Guard => ({ kind: 'all', guards });

/** What a transition does to the item its guard was checked on. */
export type Effect<S extends StoredFields> =
  | { readonly kind: 'create'; readonly state: S }
  /** Sets these fields (absolute values) and removes those; the others keep their value. */
  | { readonly kind: 'update'; readonly set: Partial<S>; readonly remove: readonly (keyof GroupState)[] }
  | { readonly kind: 'delete' };

export interface Transition<S extends StoredFields = DeliveryState> {
  readonly guard: Guard;
  readonly effect: Effect<S>;
}

/** The item after `effect`, as DynamoDB would store it (undefined: deleted). */
export function applyEffect<S extends StoredFields>(stored: S | undefined, effect: Effect<S>): S | undefined {
  switch (effect.kind) {
    case 'create':
      return effect.state;
    case 'delete':
      return undefined;
    case 'update': {
      // A field set to undefined is not written (as renderUpdate leaves it out): it keeps its value.
      const next: Record<string, unknown> = { ...stored };
      for (const [field, value] of Object.entries(effect.set)) if (value !== undefined) next[field] = value;
      for (const field of effect.remove) delete next[field];
      return next as S;
    }
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

/** A new message: stored under a fresh random key, never seen before (Q1: a put can only meet itself). */
export function sendTransition(availableAt: number): Transition {
  return { guard: { kind: 'absent' }, effect: { kind: 'create', state: initialDeliveryState(availableAt) } };
}

/**
 * A dead letter back in the queue: visible now, its receive count starts over, its fence carries on
 * from the deliveries it had (fences keep growing per message across a redrive, Q2).
 */
export function redriveTransition(deadLetter: { readonly fence: number }, now: number): Transition {
  return { guard: { kind: 'absent' }, effect: { kind: 'create', state: { ...initialDeliveryState(now), fence: deadLetter.fence } } };
}

/** The lease a receipt describes: what its holder's writes are judged by. */
export interface HeldLease {
  readonly token: string;
  readonly fence: number;
  readonly receiveCount: number;
  readonly leaseUntil: number;
}

/** A lease of what a receiver found: hidden until the lease expires, one more delivery, a higher fence. */
export function leaseTransition(
  found: DeliveryState,
  lease: { readonly token: string; readonly now: number; readonly visibilityMs: number; readonly maxReceiveCount: number },
): Transition {
  return {
    guard: { kind: 'can-lease', now: lease.now, maxReceiveCount: lease.maxReceiveCount, fence: found.fence },
    effect: {
      kind: 'update',
      set: {
        visibleAt: lease.now + lease.visibilityMs,
        leaseToken: lease.token,
        fence: found.fence + 1,
        receiveCount: found.receiveCount + 1,
      },
      remove: [],
    },
  };
}

/** Only the current, unexpired lease holder may write (Q2). */
export const holdsLease = (lease: HeldLease, now: number): Guard => ({ kind: 'holds-lease', token: lease.token, now });

/** The ack of a standard message: the item goes. (FIFO: fifo.ts advances the group.) */
export function ackTransition(lease: HeldLease, now: number): Transition {
  return { guard: holdsLease(lease, now), effect: { kind: 'delete' } };
}

/** A nack in place: visible again after `delayMs`, the lease given up; fence and count stay. */
export function nackTransition(lease: HeldLease, now: number, delayMs: number): Transition {
  return { guard: holdsLease(lease, now), effect: { kind: 'update', set: { visibleAt: now + delayMs }, remove: ['leaseToken'] } };
}

/**
 * A standard message nacked with a delay moves to the sort key of the instant it is visible again
 * (so backed-off messages never pile up at the head of the ready range): the item at the receipt's
 * key goes, and this state is created at the new key. Fence and count carry over.
 */
export function movedByNack(lease: HeldLease, now: number, delayMs: number): { readonly from: Transition; readonly to: Transition } {
  return {
    from: { guard: holdsLease(lease, now), effect: { kind: 'delete' } },
    to: {
      guard: { kind: 'absent' },
      effect: {
        kind: 'create',
        state: { visibleAt: now + delayMs, leaseToken: undefined, fence: lease.fence, receiveCount: lease.receiveCount },
      },
    },
  };
}

/** A heartbeat: the lease now ends `visibilityMs` from now. */
export function extendTransition(lease: HeldLease, now: number, visibilityMs: number): Transition {
  return { guard: holdsLease(lease, now), effect: { kind: 'update', set: { visibleAt: now + visibilityMs }, remove: [] } };
}

/**
 * A receiver gives back a lease it took but could not deliver (the body would not load): visible
 * at once and uncounted, so that a passing failure does not push the message toward the DLQ. The
 * fence stays raised (fences never go back).
 */
export function releaseTransition(lease: HeldLease, now: number): Transition {
  return {
    guard: { kind: 'leased-by', token: lease.token },
    effect: { kind: 'update', set: { visibleAt: now, receiveCount: lease.receiveCount - 1 }, remove: ['leaseToken'] },
  };
}

/** Q6, found by a receive: delivered maxReceiveCount times and visible again, the message leaves for the DLQ. */
export function deadLetterOnReceive(found: DeliveryState, now: number, maxReceiveCount: number): Transition {
  return { guard: { kind: 'exhausted', now, maxReceiveCount, fence: found.fence }, effect: { kind: 'delete' } };
}

/** Q6, by its holder: a nack on the last allowed delivery sends the message to the DLQ instead. */
export function deadLetterOnNack(lease: HeldLease, now: number): Transition {
  return { guard: holdsLease(lease, now), effect: { kind: 'delete' } };
}

/** A nack on a delivery numbered maxReceiveCount or later dead-letters the message (as SQS would on the next receive). */
export function nackDeadLetters(lease: HeldLease, maxReceiveCount: number): boolean {
  return lease.receiveCount >= maxReceiveCount;
}
