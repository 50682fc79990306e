import { base64UrlToBytes, bytesToBase64Url, utf8Bytes, utf8Length, utf8Text } from '../encoding.js';
import { ValidationError } from '../errors.js';
import { QueueLimits } from './config.js';

/** Random bytes in a lease token: 128 bits, so a receipt cannot be guessed or forged. */
export const LEASE_TOKEN_BYTES = 16;

/**
 * Everything an ack, nack or extend needs, handed to the consumer as an opaque string. It is not
 * secret apart from `token`; it is unforgeable because the table only accepts the token it stored.
 */
export interface Receipt {
  readonly queue: string;
  readonly messageId: string;
  readonly shard: number;
  /** Sort key of the item holding the lease: the message (standard) or its group (FIFO). */
  readonly leaseKey: string;
  /** FIFO only: sequence number of the message within its group. */
  readonly seq: number | undefined;
  /** base64url of LEASE_TOKEN_BYTES random bytes. */
  readonly token: string;
  /** The fencing token of this delivery (Q2): pass it to downstream conditional writes. */
  readonly fence: number;
  /** When the lease expires unless extended (ms since epoch). */
  readonly leaseUntil: number;
  /**
   * FIFO only, a hint: the message was the last of its group when leased, so the ack tries to
   * delete the group item instead of advancing it. Guarded like everything else; a wrong hint
   * costs one failed write, never correctness.
   */
  readonly lastInGroup: boolean;
  /** Deliveries of the message so far, this one included (drives the nack backoff). */
  readonly receiveCount: number;
  /** The body is an S3 claim check, to delete after the ack. */
  readonly offloaded: boolean;
}

const PREFIX = 'c1.';

export function newLeaseToken(randomBytes: Uint8Array): string {
  if (randomBytes.length !== LEASE_TOKEN_BYTES) {
    throw new RangeError(`a lease token needs ${LEASE_TOKEN_BYTES} random bytes, got ${randomBytes.length}`);
  }
  return bytesToBase64Url(randomBytes);
}

export function encodeReceipt(r: Receipt): string {
  const flags = (r.lastInGroup ? 1 : 0) | (r.offloaded ? 2 : 0);
  const fields = [r.queue, r.messageId, r.shard, r.leaseKey, r.seq ?? null, r.token, r.fence, r.leaseUntil, flags, r.receiveCount];
  return PREFIX + bytesToBase64Url(utf8Bytes(JSON.stringify(fields)));
}

/** Throws ValidationError('receipt') for anything that is not a receipt this library issued. */
/** DynamoDB's limit on a sort key: a receipt's lease key names one. */
const MAX_SORT_KEY_BYTES = 1024;
/** Message ids are 22 characters (128 random bits, base64url); this leaves room without trusting. */
const MAX_MESSAGE_ID_BYTES = 128;

export function decodeReceipt(text: unknown, field = 'receipt'): Receipt {
  const invalid = (why: string) => new ValidationError(field, `not a Concord receipt (${why})`);
  if (typeof text !== 'string') throw invalid('expected a string');
  if (!text.startsWith(PREFIX)) throw invalid(`expected the prefix ${JSON.stringify(PREFIX)}`);
  const bytes = base64UrlToBytes(text.slice(PREFIX.length));
  if (!bytes) throw invalid('bad base64url');
  let fields: unknown;
  try {
    fields = JSON.parse(utf8Text(bytes));
  } catch {
    throw invalid('bad payload');
  }
  if (!Array.isArray(fields) || fields.length !== 10) throw invalid('bad payload');
  const [queue, messageId, shard, leaseKey, seq, token, fence, leaseUntil, flags, receiveCount] = fields as unknown[];
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof queue !== 'string' || !QueueLimits.queueName.test(queue)) throw invalid('bad queue');
  // Bounded so that a forged receipt gets a 400 or LeaseLost, never DynamoDB's refusal of an
  // oversized key (a sort key is at most 1,024 bytes).
  if (typeof messageId !== 'string' || messageId.length === 0 || utf8Length(messageId) > MAX_MESSAGE_ID_BYTES) {
    throw invalid('bad message id');
  }
  if (!isCount(shard) || shard >= QueueLimits.maxShards) throw invalid('bad shard');
  if (typeof leaseKey !== 'string' || leaseKey.length === 0 || utf8Length(leaseKey) > MAX_SORT_KEY_BYTES) throw invalid('bad key');
  if (seq !== null && !isCount(seq)) throw invalid('bad sequence');
  if (typeof token !== 'string' || base64UrlToBytes(token)?.length !== LEASE_TOKEN_BYTES) throw invalid('bad token');
  if (!isCount(fence) || fence < 1) throw invalid('bad fence');
  if (!isCount(leaseUntil)) throw invalid('bad expiry');
  if (!isCount(flags) || flags > 3) throw invalid('bad flags');
  if (!isCount(receiveCount) || receiveCount < 1) throw invalid('bad receive count');
  return {
    queue,
    messageId,
    shard,
    leaseKey,
    seq: seq === null ? undefined : (seq as number),
    token,
    fence,
    leaseUntil,
    lastInGroup: (flags & 1) === 1,
    receiveCount,
    offloaded: (flags & 2) === 2,
  };
}
