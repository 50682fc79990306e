/**
 * The Queue port in memory, with the DynamoDB queue's semantics: the same transitions, guards and
 * verdicts (core/queue/delivery.ts, fifo.ts, judge.ts), the same receipts, LeaseLost reasons,
 * fences, dead-lettering, FIFO groups, dedup and validation. What a conditional write does on the
 * table, `guardHolds` + `applyEffect` do here, so the two cannot drift apart: the same
 * conformance suite (queue-conformance.ts) runs against both.
 *
 *   const queue = new InMemoryQueue();                         // defaults, the system clock
 *   const clock = new FakeClock();
 *   const queue = new InMemoryQueue('orders', { clock });       // leases expire when you advance it
 *
 * What it leaves out: the transactional outbox (a DynamoDB extension), claim checks and
 * compression (bodies are kept as strings, up to the same 1 MiB), sharding, and the emulator's
 * timing. A long poll waits in real time (up to `waitSeconds`) for a send, a nack or a redrive.
 */

import { cryptoEntropy, realSleep, systemClock } from '../adapters/system.js';
import { type BackoffPolicy, DEFAULT_NACK_BACKOFF, fullJitterBackoffMs } from '../core/backoff.js';
import type { Clock, Entropy } from '../core/clock.js';
import { bytesToBase64Url, utf8Length } from '../core/encoding.js';
import { PayloadTooLargeError, quote, ValidationError } from '../core/errors.js';
import {
  applyConfigPatch,
  ContentType,
  extendInputSchema,
  type ListDeadLettersInput,
  type ListQueuesInput,
  listDeadLettersInputSchema,
  listQueuesInputSchema,
  messageIdSchema,
  nackInputSchema,
  type PeekInput,
  peekInputSchema,
  type QueueConfig,
  type QueueConfigPatch,
  QueueDefaults,
  QueueLimits,
  queueConfigPatchSchema,
  queueNameSchema,
  type ReceiveInput,
  RedriveDefaults,
  type RedriveInput,
  receiveInputSchema,
  redriveInputSchema,
  type SendInput,
  type StatsInput,
  sendBatchInputSchema,
  sendInputSchema,
  statsInputSchema,
} from '../core/queue/config.js';
import {
  ackTransition,
  applyEffect,
  DeliveryDecision,
  type DeliveryState,
  deadLetterOnNack,
  deadLetterOnReceive,
  decideDelivery,
  extendTransition,
  type GroupState,
  guardHolds,
  leaseTransition,
  movedByNack,
  nackDeadLetters,
  nackTransition,
  redriveTransition,
  type StoredFields,
  sendTransition,
  type Transition,
} from '../core/queue/delivery.js';
import { LeaseLossReason, LeaseLost } from '../core/queue/errors.js';
import {
  advanceTransition,
  appendTransition,
  atHead,
  fifoAckTransition,
  fifoDeadLetterOnReceive,
  needsFenceRaise,
} from '../core/queue/fifo.js';
import { type HolderOp, judgeHolderWrite, type SettlementRecord } from '../core/queue/judge.js';
import {
  type BatchSendResult,
  type DeadLetter,
  type DeadLetterPage,
  type ExtendResult,
  MessageState,
  type NackOptions,
  type PeekedMessage,
  type PeekPage,
  type Queue,
  type QueuePage,
  type QueueStats,
  type Queues,
  type ReceivedMessage,
  type ReceiveOptions,
  type RedriveResult,
  type SendResult,
} from '../core/queue/model.js';
import { decodeReceipt, encodeReceipt, LEASE_TOKEN_BYTES, newLeaseToken, type Receipt } from '../core/queue/receipt.js';
import { parseInput } from '../core/validation.js';
import { DeadLetterShelf, type ShelvedDeadLetter } from './in-memory-dead-letters.js';

export interface InMemoryQueueOptions {
  /** @default the system clock; pass a FakeClock to expire leases by advancing it */
  readonly clock?: Clock;
  /** @default crypto randomness; seededEntropy(n) makes ids and jitter repeatable */
  readonly entropy?: Entropy;
  /** The queue's configuration from the start (as a PUT would set it). */
  readonly config?: QueueConfigPatch;
  readonly nackBackoff?: BackoffPolicy;
  /** As the DynamoDB queue's option of the same name. @default 1000 */
  readonly clockSkewToleranceMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Message ids (e.g. `m1`, `m2` … for readable tests). @default 128 random bits, base64url */
  readonly messageIds?: () => string;
}

/** Present only for JSON, as the DynamoDB queue stores it. */
type JsonMarker = { readonly contentType?: typeof ContentType.Json };

interface StandardMessage extends JsonMarker {
  state: DeliveryState;
  readonly id: string;
  readonly body: string;
  readonly groupId?: string;
  readonly sentAt: number;
}

interface FifoMessage extends JsonMarker {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  readonly fenceFloor: number;
}

const pad = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, '0');
/** Keys shaped like the DynamoDB layout's, so that receipts look and behave the same. */
const standardKey = (availableAt: number, id: string) => `M#${pad(availableAt)}#${id}`;
const groupKey = (groupId: string) => `G#${groupId}`;

export class InMemoryQueue implements Queue {
  private config: QueueConfig;
  private exists = false;
  private readonly clock: Clock;
  private readonly entropy: Entropy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly standard = new Map<string, StandardMessage>();
  private readonly groups = new Map<string, GroupState>();
  private readonly fifoMessages = new Map<string, FifoMessage>();
  private readonly dedup = new Map<string, { readonly messageId: string; readonly expiresAt: number }>();
  private readonly deadLetters = new DeadLetterShelf();
  private readonly settlements = new Map<string, SettlementRecord>();
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string = 'queue',
    private readonly options: InMemoryQueueOptions = {},
  ) {
    parseInput(queueNameSchema, name, 'queue');
    this.clock = options.clock ?? systemClock;
    this.entropy = options.entropy ?? cryptoEntropy;
    this.sleep = options.sleep ?? realSleep;
    this.config = options.config
      ? applyConfigPatch(QueueDefaults, parseInput(queueConfigPatchSchema, options.config), false)
      : QueueDefaults;
    this.exists = options.config !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  async getConfig(): Promise<QueueConfig> {
    return this.config;
  }

  async configure(patch: QueueConfigPatch): Promise<QueueConfig> {
    this.config = applyConfigPatch(this.config, parseInput(queueConfigPatchSchema, patch), this.exists);
    this.exists = true;
    return this.config;
  }

  // ---------------------------------------------------------------------------------------------
  // Send

  async send(input: SendInput): Promise<SendResult> {
    return this.sendNow(parseInput(sendInputSchema, input), '');
  }

  async sendBatch(inputs: readonly SendInput[]): Promise<BatchSendResult[]> {
    const entries = parseInput(sendBatchInputSchema, inputs, 'messages');
    return entries.map((entry, i) => {
      try {
        return { ok: true, ...this.sendNow(parseInput(sendInputSchema, entry, `messages.${i}`), `messages.${i}.`) };
      } catch (error) {
        return { ok: false, error: error as Error };
      }
    });
  }

  private sendNow(message: SendInput, path: string): SendResult {
    const bytes = utf8Length(message.body);
    if (bytes > QueueLimits.maxBodyBytes)
      throw new PayloadTooLargeError(`body is ${bytes} bytes; the limit is ${QueueLimits.maxBodyBytes} (1 MiB)`);
    if (this.config.fifo) {
      if (message.groupId === undefined) throw new ValidationError(`${path}groupId`, 'is required on a FIFO queue');
      if (message.delaySeconds)
        throw new ValidationError(`${path}delaySeconds`, 'per-message delays are not supported on a FIFO queue (as in SQS)');
    }
    this.exists = true;
    const now = this.clock.now();
    if (message.dedupId !== undefined) {
      const earlier = this.dedup.get(message.dedupId);
      if (earlier && earlier.expiresAt >= now) return { messageId: earlier.messageId, duplicate: true };
    }
    const id = this.options.messageIds?.() ?? bytesToBase64Url(this.entropy.bytes(16));
    const marker = jsonMarker(message.contentType);
    if (message.dedupId !== undefined)
      this.dedup.set(message.dedupId, { messageId: id, expiresAt: now + this.config.dedupWindowSeconds * 1000 });
    if (this.config.fifo) this.append(message.groupId as string, { id, body: message.body, ...marker, sentAt: now, fenceFloor: 0 }, now);
    else {
      const availableAt = now + (message.delaySeconds ?? 0) * 1000;
      const created = this.write(sendTransition(availableAt), undefined) as DeliveryState;
      this.standard.set(standardKey(availableAt, id), {
        state: created,
        id,
        body: message.body,
        ...marker,
        sentAt: now,
        ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      });
    }
    this.wake();
    return { messageId: id, duplicate: false };
  }

  private append(groupId: string, message: FifoMessage, now: number): void {
    const group = this.groups.get(groupKey(groupId));
    const next = this.write(appendTransition(group?.tail, 1, now, message.fenceFloor), group) as GroupState;
    this.groups.set(groupKey(groupId), next);
    this.fifoMessages.set(`${groupId}#${next.tail - 1}`, message);
  }

  /** Applies `transition` to `stored` as a conditional write would; throws if its guard does not hold. */
  private write<S extends StoredFields>(transition: Transition<S>, stored: S | undefined): S | undefined {
    if (!guardHolds(transition.guard, stored)) throw new Error('invariant broken: an in-memory write found its guard false');
    return applyEffect(stored, transition.effect);
  }

  // ---------------------------------------------------------------------------------------------
  // Receive

  async receive(input: ReceiveInput = {}, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const request = parseInput(receiveInputSchema, input);
    this.exists = true;
    const max = request.max ?? 1;
    const visibilityMs = (request.visibilityTimeoutSeconds ?? this.config.visibilityTimeoutSeconds) * 1000;
    const waitUntil = Date.now() + (request.waitSeconds ?? 0) * 1000;
    for (;;) {
      const received = this.receiveNow(max, visibilityMs);
      if (received.length > 0 || Date.now() >= waitUntil || options.signal?.aborted) return received;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        options.signal?.addEventListener('abort', done, { once: true });
        // Time-based readiness (a delay or a lease ending) is looked at again every 10 ms.
        void this.sleep(Math.min(10, waitUntil - Date.now())).then(done);
      });
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private receiveNow(max: number, visibilityMs: number): ReceivedMessage[] {
    const now = this.clock.now();
    const received: ReceivedMessage[] = [];
    const candidates = this.config.fifo
      ? [...this.groups.keys()].sort()
      : [...this.standard.keys()].filter((key) => key <= standardKey(now, '~')).sort();
    for (const key of candidates) {
      if (received.length >= max) break;
      const delivered = this.config.fifo ? this.deliverGroup(key, now, visibilityMs) : this.deliverStandard(key, now, visibilityMs);
      if (delivered) received.push(delivered);
    }
    return received;
  }

  private deliverStandard(key: string, now: number, visibilityMs: number): ReceivedMessage | undefined {
    const message = this.standard.get(key) as StandardMessage;
    const decision = decideDelivery(message.state, now, this.config.maxReceiveCount);
    if (decision === DeliveryDecision.NotVisible) return undefined;
    if (decision === DeliveryDecision.DeadLetter) {
      this.write(deadLetterOnReceive(message.state, now, this.config.maxReceiveCount), message.state);
      this.standard.delete(key);
      this.toDeadLetters(message, message.state, now, 'maxReceiveCount exceeded');
      return undefined;
    }
    const token = newLeaseToken(this.entropy.bytes(LEASE_TOKEN_BYTES));
    message.state = this.write(
      leaseTransition(message.state, { token, now, visibilityMs, maxReceiveCount: this.config.maxReceiveCount }),
      message.state,
    ) as DeliveryState;
    return this.delivery(message, message.groupId, key, undefined, message.state, false);
  }

  private deliverGroup(key: string, now: number, visibilityMs: number): ReceivedMessage | undefined {
    let group = this.groups.get(key);
    if (!group) return undefined;
    const groupId = key.slice(2);
    const decision = decideDelivery(group, now, this.config.maxReceiveCount);
    if (decision === DeliveryDecision.NotVisible) return undefined;
    const message = this.fifoMessages.get(`${groupId}#${group.head}`) as FifoMessage;
    if (decision === DeliveryDecision.DeadLetter) {
      this.advance(key, groupId, fifoDeadLetterOnReceive(group, now, this.config.maxReceiveCount), group);
      this.toDeadLetters({ ...message, groupId }, group, now, 'maxReceiveCount exceeded');
      return this.deliverGroup(key, now, visibilityMs);
    }
    const token = newLeaseToken(this.entropy.bytes(LEASE_TOKEN_BYTES));
    group = this.write(
      leaseTransition(group, { token, now, visibilityMs, maxReceiveCount: this.config.maxReceiveCount }),
      group,
    ) as GroupState;
    if (needsFenceRaise(group.fence, message.fenceFloor)) group = { ...group, fence: message.fenceFloor + 1 };
    this.groups.set(key, group);
    return this.delivery(message, groupId, key, group.head, group, group.tail === group.head + 1);
  }

  /** Moves the group past its head under `transition`; deletes the head message. */
  private advance(key: string, groupId: string, transition: Transition<GroupState>, group: GroupState): void {
    const next = this.write(transition, group);
    this.fifoMessages.delete(`${groupId}#${group.head}`);
    if (next) this.groups.set(key, next);
    else this.groups.delete(key);
  }

  private delivery(
    message: StandardMessage | FifoMessage,
    groupId: string | undefined,
    leaseKey: string,
    seq: number | undefined,
    state: DeliveryState,
    lastInGroup: boolean,
  ): ReceivedMessage {
    const { id: messageId, body, sentAt } = message;
    return {
      messageId,
      body,
      ...jsonMarker(message.contentType),
      receipt: encodeReceipt({
        queue: this.name,
        messageId,
        shard: 0,
        leaseKey,
        seq,
        token: state.leaseToken as string,
        fence: state.fence,
        leaseUntil: state.visibleAt,
        lastInGroup,
        receiveCount: state.receiveCount,
        offloaded: false,
      }),
      receiveCount: state.receiveCount,
      ...(groupId !== undefined ? { groupId } : {}),
      fence: state.fence,
      sentAt,
      leaseUntil: state.visibleAt,
    };
  }

  private toDeadLetters(
    message: { id: string; body: string; contentType?: typeof ContentType.Json | undefined; groupId?: string | undefined; sentAt: number },
    delivery: DeliveryState,
    now: number,
    reason: string,
  ): void {
    this.deadLetters.put(message, delivery, now, reason);
  }

  // ---------------------------------------------------------------------------------------------
  // Ack, nack, extend: only the current lease holder (Q2), judged as the DynamoDB queue judges

  private parseReceipt(text: string): Receipt {
    const receipt = decodeReceipt(text);
    if (receipt.queue !== this.name)
      throw new LeaseLost(LeaseLossReason.Forged, receipt.messageId, `the receipt belongs to queue ${quote(receipt.queue)}`);
    return receipt;
  }

  /** The stored fields at the receipt's key (a standard message, or a FIFO group). */
  private foundAt(receipt: Receipt): StoredFields | undefined {
    return receipt.seq === undefined ? this.standard.get(receipt.leaseKey)?.state : this.groups.get(receipt.leaseKey);
  }

  /** A holder's write whose guard failed: applied earlier (return), or LeaseLost (throw). */
  private judge(op: HolderOp, receipt: Receipt): void {
    const now = this.clock.now() + (this.options.clockSkewToleranceMs ?? 1_000);
    const failure = { op, lease: receipt, found: this.foundAt(receipt), now };
    let verdict = judgeHolderWrite({ ...failure, settlement: 'not-read' });
    if (verdict.outcome === 'read-settlement')
      verdict = judgeHolderWrite({ ...failure, settlement: this.settlements.get(`${receipt.messageId}#${receipt.fence}`) });
    if (verdict.outcome === 'lost') throw new LeaseLost(verdict.reason, receipt.messageId, verdict.detail);
  }

  async ack(receiptText: string): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    const now = this.clock.now();
    if (receipt.seq === undefined) {
      const message = this.standard.get(receipt.leaseKey);
      const transition = ackTransition(receipt, now);
      if (!guardHolds(transition.guard, message?.state)) return this.judge('ack', receipt);
      this.standard.delete(receipt.leaseKey);
      return;
    }
    const group = this.groups.get(receipt.leaseKey);
    const transition = fifoAckTransition(receipt, receipt.seq, group?.tail === receipt.seq + 1, now);
    if (!group || !guardHolds(transition.guard, group)) return this.judge('ack', receipt);
    this.advance(receipt.leaseKey, receipt.leaseKey.slice(2), transition, group);
    this.wake();
  }

  async nack(receiptText: string, options: NackOptions = {}): Promise<void> {
    const receipt = this.parseReceipt(receiptText);
    const { delaySeconds } = parseInput(nackInputSchema, options);
    const now = this.clock.now();
    const delayMs =
      delaySeconds !== undefined
        ? delaySeconds * 1000
        : fullJitterBackoffMs(receipt.receiveCount, this.entropy.unit(), this.options.nackBackoff ?? DEFAULT_NACK_BACKOFF);
    const settle = (outcome: SettlementRecord['outcome']) =>
      this.settlements.set(`${receipt.messageId}#${receipt.fence}`, { token: receipt.token, outcome });
    const toDeadLetters = nackDeadLetters(receipt, this.config.maxReceiveCount);
    if (receipt.seq === undefined) {
      const message = this.standard.get(receipt.leaseKey);
      const guard = nackTransition(receipt, now, delayMs).guard;
      if (!message || !guardHolds(guard, message.state)) return this.judge('nack', receipt);
      if (toDeadLetters) {
        this.write(deadLetterOnNack(receipt, now), message.state);
        this.standard.delete(receipt.leaseKey);
        this.toDeadLetters(message, message.state, now, 'nacked on its last allowed delivery');
        settle('dead-lettered');
      } else if (delayMs > 0) {
        const move = movedByNack(receipt, now, delayMs);
        this.write(move.from, message.state);
        this.standard.delete(receipt.leaseKey);
        this.standard.set(standardKey(now + delayMs, message.id), { ...message, state: this.write(move.to, undefined) as DeliveryState });
        settle('moved');
      } else {
        message.state = this.write(nackTransition(receipt, now, 0), message.state) as DeliveryState;
      }
      this.wake();
      return;
    }
    const group = this.groups.get(receipt.leaseKey);
    const inPlace = atHead(nackTransition(receipt, now, delayMs), receipt.seq);
    if (!group || !guardHolds(inPlace.guard, group)) return this.judge('nack', receipt);
    if (toDeadLetters) {
      const groupId = receipt.leaseKey.slice(2);
      const message = this.fifoMessages.get(`${groupId}#${receipt.seq}`) as FifoMessage;
      this.advance(
        receipt.leaseKey,
        groupId,
        advanceTransition(deadLetterOnNack(receipt, now).guard, receipt.seq, group.tail === receipt.seq + 1, now),
        group,
      );
      this.toDeadLetters({ ...message, groupId }, group, now, 'nacked on its last allowed delivery');
      settle('dead-lettered');
    } else {
      this.groups.set(receipt.leaseKey, this.write(inPlace, group) as GroupState);
    }
    this.wake();
  }

  async extend(receiptText: string, visibilityTimeoutSeconds: number): Promise<ExtendResult> {
    const receipt = this.parseReceipt(receiptText);
    const { visibilityTimeoutSeconds: seconds } = parseInput(extendInputSchema, { visibilityTimeoutSeconds });
    const now = this.clock.now();
    const extend = extendTransition(receipt, now, seconds * 1000);
    if (receipt.seq === undefined) {
      const message = this.standard.get(receipt.leaseKey);
      if (!message || !guardHolds(extend.guard, message.state)) this.judge('extend', receipt);
      else message.state = this.write(extend, message.state) as DeliveryState;
    } else {
      const group = this.groups.get(receipt.leaseKey);
      const atHeadExtend = atHead(extend, receipt.seq);
      if (!group || !guardHolds(atHeadExtend.guard, group)) this.judge('extend', receipt);
      else this.groups.set(receipt.leaseKey, this.write(atHeadExtend, group) as GroupState);
    }
    const leaseUntil = now + seconds * 1000;
    return { leaseUntil, receipt: encodeReceipt({ ...receipt, leaseUntil }) };
  }

  // ---------------------------------------------------------------------------------------------
  // Stats and dead letters

  async stats(options: StatsInput = {}): Promise<QueueStats> {
    const { consistency } = parseInput(statsInputSchema, options);
    const now = this.clock.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    let oldestSentAt = now;
    const count = (state: DeliveryState) => {
      if (state.leaseToken !== undefined && state.visibleAt > now) inFlight++;
      else if (state.visibleAt > now) delayed++;
      else visible++;
    };
    for (const message of this.standard.values()) {
      count(message.state);
      if (message.state.visibleAt <= now || message.state.leaseToken !== undefined) oldestSentAt = Math.min(oldestSentAt, message.sentAt);
    }
    for (const group of this.groups.values()) {
      count(group);
      visible += group.tail - group.head - 1;
    }
    return {
      visible,
      inFlight,
      delayed,
      deadLettered: this.deadLetters.size,
      oldestAgeSeconds: Math.max(0, Math.floor((now - oldestSentAt) / 1000)),
      consistency: consistency ?? 'eventual',
    };
  }

  async listDeadLetters(options: ListDeadLettersInput = {}): Promise<DeadLetterPage> {
    const { limit = 10, cursor } = parseInput(listDeadLettersInputSchema, options);
    return this.deadLetters.page(limit, cursor);
  }

  async redrive(options: RedriveInput = {}): Promise<RedriveResult> {
    const { max = RedriveDefaults.max, perSecond = RedriveDefaults.perSecond, maxSeconds } = parseInput(redriveInputSchema, options);
    this.exists = true;
    const started = this.clock.now();
    const limit = maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + maxSeconds * 1000;
    let redriven = 0;
    while (redriven < max && this.deadLetters.size > 0) {
      const due = started + (redriven * 1000) / perSecond;
      if (due > limit || this.clock.now() >= limit) return { redriven, remaining: true };
      const wait = due - this.clock.now();
      if (wait > 0) await this.sleep(wait);
      this.putBack(this.deadLetters.takeOldest() as ShelvedDeadLetter);
      redriven++;
    }
    this.wake();
    return { redriven, remaining: this.deadLetters.size > 0 };
  }

  /** A dead letter back in the queue, its fence carried on (Q2), as the DynamoDB queue's redriveOne. */
  private putBack(deadLetter: ShelvedDeadLetter): void {
    this.exists = true;
    const now = this.clock.now();
    const marker = jsonMarker(deadLetter.contentType);
    if (this.config.fifo && deadLetter.groupId !== undefined) {
      this.append(
        deadLetter.groupId,
        { id: deadLetter.messageId, body: deadLetter.body, ...marker, sentAt: deadLetter.sentAt, fenceFloor: deadLetter.fence },
        now,
      );
    } else {
      this.standard.set(standardKey(now, deadLetter.messageId), {
        state: this.write(redriveTransition(deadLetter, now), undefined) as DeliveryState,
        id: deadLetter.messageId,
        body: deadLetter.body,
        ...marker,
        sentAt: deadLetter.sentAt,
        ...(deadLetter.groupId !== undefined ? { groupId: deadLetter.groupId } : {}),
      });
    }
  }

  async getDeadLetter(messageId: string): Promise<DeadLetter | undefined> {
    return this.deadLetters.find(parseInput(messageIdSchema, messageId, 'messageId'));
  }

  async deleteDeadLetter(messageId: string): Promise<boolean> {
    return this.deadLetters.take(parseInput(messageIdSchema, messageId, 'messageId')) !== undefined;
  }

  async redriveDeadLetter(messageId: string): Promise<boolean> {
    const deadLetter = this.deadLetters.take(parseInput(messageIdSchema, messageId, 'messageId'));
    if (!deadLetter) return false;
    this.putBack(deadLetter);
    this.wake();
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Peek: the stored messages in one state, leasing nothing

  /** True once the queue was used or configured (what the DynamoDB queue's directory lists). */
  get used(): boolean {
    return this.exists;
  }

  async peek(input: PeekInput): Promise<PeekPage> {
    const { state, limit = 25, cursor } = parseInput(peekInputSchema, input);
    const now = this.clock.now();
    const all: Array<{ key: string; message: PeekedMessage }> = [];
    if (this.config.fifo) {
      for (const [key, message] of this.fifoMessages) {
        const at = key.lastIndexOf('#');
        const groupId = key.slice(0, at);
        const seq = Number(key.slice(at + 1));
        const group = this.groups.get(groupKey(groupId)) as GroupState;
        const delivery: DeliveryState =
          seq === group.head ? group : { visibleAt: message.sentAt, leaseToken: undefined, fence: 0, receiveCount: 0 };
        all.push({ key: `F#${groupId}#${pad(seq)}`, message: peeked(message, groupId, delivery, now) });
      }
    } else {
      for (const [key, message] of this.standard) all.push({ key, message: peeked(message, message.groupId, message.state, now) });
    }
    all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let after: string | undefined;
    if (cursor !== undefined) {
      const decoded = /^pk:(.+)$/.exec(cursor);
      if (!decoded) throw new ValidationError('cursor', 'not a cursor returned by a peek of this queue');
      after = decoded[1];
    }
    const matching = all.filter((entry) => entry.message.state === state && (after === undefined || entry.key > after));
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return {
      messages: page.map((entry) => entry.message),
      ...(matching.length > limit && last ? { nextCursor: `pk:${last.key}` } : {}),
    };
  }
}

/** A body's JSON marker as stored: present only for JSON. */
function jsonMarker(contentType: ContentType | undefined): JsonMarker {
  return contentType === ContentType.Json ? { contentType: ContentType.Json } : {};
}

function peeked(message: StandardMessage | FifoMessage, groupId: string | undefined, delivery: DeliveryState, now: number): PeekedMessage {
  const state =
    delivery.visibleAt <= now ? MessageState.Visible : delivery.leaseToken !== undefined ? MessageState.InFlight : MessageState.Delayed;
  return {
    messageId: message.id,
    state,
    body: message.body,
    ...jsonMarker(message.contentType),
    ...(groupId !== undefined ? { groupId } : {}),
    receiveCount: delivery.receiveCount,
    sentAt: message.sentAt,
    visibleAt: delivery.visibleAt,
    ...(state === MessageState.InFlight ? { leaseUntil: delivery.visibleAt, fence: delivery.fence } : {}),
  };
}

/** One InMemoryQueue per name, created on first use (the Queues port, as the DynamoDB queue service). */
export class InMemoryQueues implements Queues {
  private readonly queues = new Map<string, InMemoryQueue>();

  constructor(private readonly options: InMemoryQueueOptions = {}) {}

  /** The queues used or configured, in name order (as the DynamoDB queue's directory lists them). */
  async list(input: ListQueuesInput = {}): Promise<QueuePage> {
    const { limit = 25, cursor } = parseInput(listQueuesInputSchema, input);
    const after = cursor === undefined ? undefined : /^q:(.+)$/.exec(cursor)?.[1];
    if (cursor !== undefined && after === undefined) throw new ValidationError('cursor', 'not a cursor returned by a listing of queues');
    const names = [...this.queues.values()]
      .filter((q) => q.used)
      .map((q) => q.name)
      .sort()
      .filter((name) => after === undefined || name > after);
    const page = names.slice(0, limit);
    const last = page.at(-1);
    return { queues: page, ...(names.length > limit && last !== undefined ? { nextCursor: `q:${last}` } : {}) };
  }

  queue(name: string): InMemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new InMemoryQueue(parseInput(queueNameSchema, name, 'queue'), this.options);
      this.queues.set(name, queue);
    }
    return queue;
  }
}
