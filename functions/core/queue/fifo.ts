/**
 * The FIFO group protocol (Q4) as transitions of the group item (GroupState): the group's head is
 * the only message of the group that can be leased, so at most one is in flight, and messages are
 * delivered in the order their sequence numbers were given out by appends.
 *
 *   send:  append  group.tail → tail + n, message items put at tail .. tail + n - 1 (one transaction)
 *   lease: the group item itself (delivery.ts leaseTransition), its head names the message
 *   ack / dead-letter: advance  head → head + 1, the head message item deleted (one transaction);
 *          the last message deletes the group, so empty groups never accumulate in the ready range
 *
 * A group deleted and created again starts a new generation at sequence number 0: a receipt of
 * the old generation meets a head that is not its message (judge.ts says Gone, not Forged).
 */
import { allOf, type DeliveryState, type GroupState, type Guard, type HeldLease, holdsLease, type Transition } from './delivery.js';

/**
 * Appends `count` messages. `knownTail` is the sender's view of the group (a hint: the guard makes
 * it exact); undefined when it believes the group does not exist, which creates it. A redriven
 * message starts the fences of a new group at `fenceFloor`, so its next lease goes above every
 * fence it was delivered with (Q2 across a redrive).
 */
export function appendTransition(knownTail: number | undefined, count: number, now: number, fenceFloor: number): Transition<GroupState> {
  if (knownTail === undefined) {
    return {
      guard: { kind: 'absent' },
      effect: {
        kind: 'create',
        state: { head: 0, tail: count, visibleAt: now, leaseToken: undefined, fence: fenceFloor, receiveCount: 0 },
      },
    };
  }
  return { guard: { kind: 'tail-is', tail: knownTail }, effect: { kind: 'update', set: { tail: knownTail + count }, remove: [] } };
}

/** The sequence numbers an append of `count` messages gives them. */
export function appendedSequence(knownTail: number | undefined, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (knownTail ?? 0) + i);
}

/**
 * Moves the group past its head message `seq` (acked or dead-lettered) under `holder`, the guard of
 * whoever may do it. When `seq` is the last message (`last`, a hint made exact by the tail guard)
 * the group goes. The fence stays: the next message's first lease raises it further.
 */
export function advanceTransition(holder: Guard, seq: number, last: boolean, now: number): Transition<GroupState> {
  if (last) return { guard: allOf(holder, { kind: 'head-is', seq }, { kind: 'tail-is', tail: seq + 1 }), effect: { kind: 'delete' } };
  return {
    guard: allOf(holder, { kind: 'head-is', seq }),
    effect: { kind: 'update', set: { head: seq + 1, visibleAt: now, receiveCount: 0 }, remove: ['leaseToken'] },
  };
}

/** The ack of the group's head message by its lease holder. */
export function fifoAckTransition(lease: HeldLease, seq: number, last: boolean, now: number): Transition<GroupState> {
  return advanceTransition(holdsLease(lease, now), seq, last, now);
}

/** Q6 found by a receive: the head was delivered maxReceiveCount times; it leaves, the group advances. */
export function fifoDeadLetterOnReceive(found: GroupState, now: number, maxReceiveCount: number): Transition<GroupState> {
  const exhausted: Guard = { kind: 'exhausted', now, maxReceiveCount, fence: found.fence };
  return advanceTransition(exhausted, found.head, found.tail === found.head + 1, now);
}

/** A write of the head's lease holder (nack, extend) that must still find its message at the head. */
export function atHead<S extends DeliveryState>(transition: Transition<S>, seq: number): Transition<S> {
  return { guard: allOf(transition.guard, { kind: 'head-is', seq }), effect: transition.effect };
}

/**
 * A redriven message may join a group whose fence is below the fences it was already delivered
 * with (`fenceFloor`); fences must keep growing per message (Q2), so the new holder lifts the
 * group's fence above the floor before handing the message out.
 */
export function raiseFenceTransition(token: string, fenceFloor: number): Transition<GroupState> {
  return { guard: { kind: 'leased-by', token }, effect: { kind: 'update', set: { fence: fenceFloor + 1 }, remove: [] } };
}

/** The fence a delivery of a message with `fenceFloor` must carry, given the group's fence after the lease. */
export function needsFenceRaise(leasedFence: number, fenceFloor: number): boolean {
  return leasedFence <= fenceFloor;
}
