/**
 * Every "did an earlier attempt of ours apply, or is this LeaseLost(reason)?" verdict of the queue,
 * standard and FIFO, in one place (Q2, Q3). A conditional write failed: given what the table
 * returned with the failure (ReturnValuesOnConditionCheckFailure=ALL_OLD, or a transaction's
 * cancellation reasons), the adapter asks here what it means. Pure; table-tested.
 *
 * Why a verdict is needed at all (Q3): an attempt can apply and have its response lost; whoever
 * repeats it (the SDK's retry, or the caller after a timeout: an HTTP client, API Gateway) then
 * finds the item changed by that very attempt. Ack, nack and extend are idempotent per receipt for
 * the caller: the same receipt repeated within its lease gets the same success answer. After
 * another consumer took the message, the answer is LeaseLost, as for any stale receipt.
 */
import type { GroupState, HeldLease, StoredFields } from './delivery.js';
import { LeaseLossReason } from './errors.js';

export type HolderOp = 'ack' | 'nack' | 'extend';

/**
 * Left by a nack that took the message away from the receipt's key (a delayed nack that moved
 * it, a nack on the last delivery that dead-lettered it), in the same transaction. Without it an
 * ack repeated after such a nack would find the item gone and take the absence for its own ack.
 */
export interface SettlementRecord {
  readonly token: string;
  readonly outcome: 'moved' | 'dead-lettered';
}

export type Verdict =
  | { readonly outcome: 'applied-earlier' }
  | { readonly outcome: 'lost'; readonly reason: LeaseLossReason; readonly detail?: string }
  /** The message left the receipt's key: read the settlement record (if any) and judge again. */
  | { readonly outcome: 'read-settlement' }
  /** FIFO ack: the lease is still ours and the head is our message; only the "last in group" hint was wrong. */
  | { readonly outcome: 'retry-fifo-ack'; readonly last: boolean };

export interface HolderWriteFailure {
  readonly op: HolderOp;
  /** The receipt's lease; `seq` for a message of a FIFO group. */
  readonly lease: HeldLease & { readonly seq?: number | undefined };
  /** The item at the receipt's key as the failure found it (undefined: no item). */
  readonly found: StoredFields | undefined;
  /**
   * The clock after the failed write plus the clock-skew tolerance: retries and timeouts can take
   * seconds, and another receiver's clock may run ahead of ours by up to the tolerance.
   */
  readonly now: number;
  /** What the settlement record says; 'not-read' until the adapter was told to read it. */
  readonly settlement: SettlementRecord | undefined | 'not-read';
}

/**
 * Crash windows covered, each "applied → response lost → repeated":
 *   ack    the item (or the group's head) is gone. While our lease ran nobody else could lease,
 *          ack or dead-letter the message, so within the lease it was our own ack, unless a
 *          settlement record says our own nack took it away. This leans on clocks being
 *          synchronized to well under the skew tolerance (NTP-disciplined, as on Lambda).
 *   nack   in place: our token is gone and the fence unchanged (only our nack does that);
 *          moved or dead-lettered: our settlement record is there.
 *   extend never needs a verdict of its own: repeated while our token holds, it simply applies again.
 */
export function judgeHolderWrite(failure: HolderWriteFailure): Verdict {
  const { op, lease, found, now } = failure;
  if (isGoneFromReceiptKey(lease, found)) return judgeGone(failure);
  const state = found as StoredFields;
  if (state.leaseToken === lease.token) {
    if (op === 'ack' && lease.seq !== undefined && (state.visibleAt ?? 0) > now) {
      return { outcome: 'retry-fifo-ack', last: state.tail === lease.seq + 1 };
    }
    // Our token is still there, so the failure can only be expiry (for extend too: a repeated
    // extend finds our token and applies again).
    return lost(LeaseLossReason.Expired);
  }
  if ((state.fence ?? 0) > lease.fence) return lost(LeaseLossReason.Superseded);
  if (state.fence === lease.fence && state.leaseToken === undefined) {
    // Only our own nack removes the token without a new lease raising the fence.
    return op === 'nack' ? { outcome: 'applied-earlier' } : lost(LeaseLossReason.Released);
  }
  return lost(LeaseLossReason.Forged);
}

/**
 * The receipt's message is no longer where the receipt points: no item, or (FIFO) a group whose
 * head is another message, or a group of a later generation (deleted and created again, its fence
 * below ours).
 */
function isGoneFromReceiptKey(lease: HolderWriteFailure['lease'], found: StoredFields | undefined): boolean {
  if (!found) return true;
  if (lease.seq === undefined) return false;
  return found.head !== lease.seq || (found.fence ?? 0) < lease.fence;
}

function judgeGone({ op, lease, now, settlement }: HolderWriteFailure): Verdict {
  if (op === 'extend') return lost(LeaseLossReason.Gone);
  const withinLease = now < lease.leaseUntil;
  if (settlement === 'not-read') {
    // Only our own nack leaves a settlement record; an ack outside the lease is lost whatever it says.
    return op === 'nack' || withinLease ? { outcome: 'read-settlement' } : lost(LeaseLossReason.Gone);
  }
  const ourNack = settlement !== undefined && settlement.token === lease.token;
  if (op === 'nack') return ourNack ? { outcome: 'applied-earlier' } : lost(LeaseLossReason.Gone);
  if (ourNack) {
    return lost(LeaseLossReason.Released, `this receipt's lease was given up by a nack that ${settlement.outcome} the message`);
  }
  return withinLease ? { outcome: 'applied-earlier' } : lost(LeaseLossReason.Gone);
}

const lost = (reason: LeaseLossReason, detail?: string): Verdict => ({
  outcome: 'lost',
  reason,
  ...(detail !== undefined ? { detail } : {}),
});

/** A lease attempt failed: did an earlier attempt of the same request (same token) apply? */
export function leaseAppliedEarlier(token: string, found: StoredFields | undefined): boolean {
  return found?.leaseToken === token;
}

/**
 * A FIFO append failed on the message put at its sequence number: the message found there is ours
 * when an earlier attempt of this append applied (where ClientRequestToken is ignored, as on moto).
 */
export function appendAppliedEarlier(messageId: string, foundAtSequence: string | undefined): boolean {
  return foundAtSequence === messageId;
}

/** The group item as a failed append found it: a new tail to try, or no group (create it). */
export function tailAfterFailedAppend(found: Pick<GroupState, 'tail'> | undefined): number | undefined {
  return found?.tail;
}

export type DedupVerdict =
  /** The dedup record's condition did not fail: the failure lies elsewhere. */
  | { readonly outcome: 'not-the-dedup-record' }
  /** Our own earlier attempt wrote the record (Q3). */
  | { readonly outcome: 'applied-earlier' }
  /** Another message holds the dedup id within the window (Q5). */
  | { readonly outcome: 'duplicate'; readonly messageId: string };

/** A send with a dedup id was canceled; `recorded` is the message id the dedup record holds. */
export function judgeDedup(messageId: string, recorded: string | undefined): DedupVerdict {
  if (recorded === undefined) return { outcome: 'not-the-dedup-record' };
  return recorded === messageId ? { outcome: 'applied-earlier' } : { outcome: 'duplicate', messageId: recorded };
}

/** A dead-lettering transaction was canceled: our own earlier attempt left our DLQ item (Q3, Q6). */
export function deadLetterAppliedEarlier(messageId: string, foundInDlq: string | undefined): boolean {
  return foundInDlq === messageId;
}

/** A nack's move or dead-lettering was canceled: our own earlier attempt left our settlement record. */
export function settlementAppliedEarlier(token: string, found: SettlementRecord | undefined): boolean {
  return found?.token === token;
}
