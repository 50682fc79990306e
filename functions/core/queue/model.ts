/**
 * The Queue port: what a Concord queue promises (DESIGN.md Q1–Q6), without naming a datastore.
 * Implemented by the DynamoDB queue (adapters/dynamodb/queue) and by InMemoryQueue
 * (concord-aws/testing), and verified against both by one conformance suite
 * (testing/queue-conformance.ts). The HTTP API, `consume` and the operators' tools depend on this,
 * not on a class. The transactional outbox (Q7) is a DynamoDB extension, outside the port.
 */
import type {
  ContentType,
  ListDeadLettersInput,
  ListQueuesInput,
  PeekInput,
  QueueConfig,
  QueueConfigPatch,
  ReceiveInput,
  RedriveInput,
  SendInput,
  StatsInput,
} from './config.js';
import type { LeaseLost } from './errors.js';

export interface SendResult {
  readonly messageId: string;
  /** True when the dedup id was seen within the window: `messageId` is then the original's. */
  readonly duplicate: boolean;
}

/** One entry of a batch: each message succeeds or fails on its own, as in SQS's SendMessageBatch. */
export type BatchSendResult = ({ readonly ok: true } & SendResult) | { readonly ok: false; readonly error: Error };

export interface ReceivedMessage {
  readonly messageId: string;
  /** The text sent; JSON text when `contentType` is `application/json` (docs/queue.md "Bodies"). */
  readonly body: string;
  /** Present when the sender marked the body as JSON (the HTTP API does for any non-string value). */
  readonly contentType?: typeof ContentType.Json;
  /** Opaque; ack, nack and extend take it. Only the current lease's receipt is accepted (Q2). */
  readonly receipt: string;
  /** Deliveries so far, this one included. */
  readonly receiveCount: number;
  readonly groupId?: string;
  /** Grows with every lease of this message: guard your own writes with it (Q2). */
  readonly fence: number;
  readonly sentAt: number;
  readonly leaseUntil: number;
}

export interface ReceiveOptions {
  /** Ends a long poll early, with what it has (usually nothing). */
  readonly signal?: AbortSignal;
}

export interface NackOptions {
  /** Visible again after this long. @default exponential backoff with full jitter by receive count */
  readonly delaySeconds?: number;
}

export interface ExtendResult {
  readonly leaseUntil: number;
  /** The receipt to use from now on (it carries the new expiry). */
  readonly receipt: string;
}

export interface QueueStats {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLettered: number;
  /** Age of the oldest message not yet acked and not delayed (standard queues; 0 when none). */
  readonly oldestAgeSeconds: number;
  /** Strong counts saw every write acknowledged before the call; eventual ones may lag. */
  readonly consistency: 'strong' | 'eventual';
}

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly contentType?: typeof ContentType.Json;
  readonly groupId?: string;
  readonly receiveCount: number;
  readonly sentAt: number;
  readonly deadLetteredAt: number;
  readonly reason: string;
}

export interface DeadLetterPage {
  /** Oldest first. */
  readonly deadLetters: readonly DeadLetter[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  readonly nextCursor?: string;
}

/** Where a stored message stands, as a peek sees it at its clock. */
export const MessageState = { Visible: 'visible', InFlight: 'in-flight', Delayed: 'delayed' } as const;
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

/**
 * A stored message as an operator sees it: never its receipt (a peek leases nothing and hands out
 * nothing that could ack). `leaseUntil` and `fence` are given for an in-flight one: who holds it
 * is known by its fence, and until when.
 */
export interface PeekedMessage {
  readonly messageId: string;
  readonly state: MessageState;
  readonly body: string;
  readonly contentType?: typeof ContentType.Json;
  readonly groupId?: string;
  /** Deliveries so far (0: never received). */
  readonly receiveCount: number;
  readonly sentAt: number;
  /** When it becomes (or became) receivable: for a delayed message, the end of its delay. */
  readonly visibleAt: number;
  /** In flight only: when the current lease ends. */
  readonly leaseUntil?: number;
  /** In flight only: the current lease's fencing token. */
  readonly fence?: number;
}

export interface PeekPage {
  /** In storage order (standard queues: by the instant each became available; FIFO: by group, then sequence). */
  readonly messages: readonly PeekedMessage[];
  readonly nextCursor?: string;
}

export interface QueuePage {
  /** Queue names in name order. */
  readonly queues: readonly string[];
  readonly nextCursor?: string;
}

export interface RedriveResult {
  readonly redriven: number;
  /** True when it stopped at `max` or `maxSeconds` with dead letters left. */
  readonly remaining: boolean;
}

export interface Queue {
  readonly name: string;
  /** Q5: with a dedup id, the same id within the window yields one message. */
  send(input: SendInput): Promise<SendResult>;
  /** Up to 10 messages; each succeeds or fails on its own. */
  sendBatch(inputs: readonly SendInput[]): Promise<BatchSendResult[]>;
  /**
   * Leases up to `max` ready messages (a FIFO group's head only, Q4), long-polling up to
   * `waitSeconds`. Returns a ready message whenever one exists: an empty answer means none was ready.
   */
  receive(input?: ReceiveInput, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /**
   * Q1/Q2: deletes the message. Throws LeaseLost unless the receipt is the current, unexpired lease;
   * the same receipt repeated within its lease (a retry after a lost answer) succeeds again.
   */
  ack(receipt: string): Promise<void>;
  /** Gives the message back; on its last allowed delivery it goes to the dead letters instead (Q6). */
  nack(receipt: string, options?: NackOptions): Promise<void>;
  /** Heartbeat: the lease now ends `visibilityTimeoutSeconds` from now. */
  extend(receipt: string, visibilityTimeoutSeconds: number): Promise<ExtendResult>;
  /** The queue's configuration (its defaults if it was never configured). */
  getConfig(): Promise<QueueConfig>;
  /** PUT semantics: fields given are changed, others keep their value. */
  configure(patch: QueueConfigPatch): Promise<QueueConfig>;
  stats(options?: StatsInput): Promise<QueueStats>;
  listDeadLetters(options?: ListDeadLettersInput): Promise<DeadLetterPage>;
  /** Moves dead letters back, oldest first, rate- and time-limited; a rerun resumes. */
  redrive(options?: RedriveInput): Promise<RedriveResult>;
  /**
   * The messages in `state`, a page at a time. Leases nothing and changes nothing: what it shows
   * may have moved by the time it is read (a listing, never a guard).
   */
  peek(input: PeekInput): Promise<PeekPage>;
  /** One dead letter, or undefined. */
  getDeadLetter(messageId: string): Promise<DeadLetter | undefined>;
  /** Deletes one dead letter for good; false when there was none by that id. */
  deleteDeadLetter(messageId: string): Promise<boolean>;
  /** Moves one dead letter back into the queue (as `redrive` moves each); false when there was none by that id. */
  redriveDeadLetter(messageId: string): Promise<boolean>;
  /**
   * A scheduling hint for workers (optional): this handle lost lease races to other receivers
   * lately, so overlapping its own receives would mostly add races.
   */
  recentlyContended?(): boolean;
}

/** One queue object per name, created on first use. */
export interface Queues {
  queue(name: string): Queue;
  /**
   * The queues that exist: every queue used (sent to, received from, redriven) or configured,
   * in name order, a page at a time.
   */
  list(input?: ListQueuesInput): Promise<QueuePage>;
}

export interface ConsumeOptions {
  /** Messages in hand at once. @default 10 */
  readonly concurrency?: number;
  /** Long poll of each receive. @default 1 */
  readonly waitSeconds?: number;
  /** @default the queue's */
  readonly visibilityTimeoutSeconds?: number;
  readonly signal?: AbortSignal;
  /** Checked every 50 ms: stop once it returns true. */
  readonly until?: () => boolean;
  /** Return once a receive finds nothing and no message is in hand (a drain). */
  readonly stopWhenEmpty?: boolean;
  /** Told about each message whose lease was lost before its ack or nack. */
  readonly onLeaseLost?: (error: LeaseLost) => void;
}

export interface ConsumeStats {
  readonly acked: number;
  readonly nacked: number;
  /** Messages whose ack or nack found the lease gone (redelivered to another receiver). */
  readonly leaseLost: number;
}
