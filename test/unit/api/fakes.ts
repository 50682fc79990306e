/**
 * In-memory stand-ins for the ports the API calls (functions/api/ports.ts). They keep the
 * semantics the API relies on: the queue really stores messages, leases them with tokens and
 * refuses stale receipts with LeaseLost; the coordinator is idempotent by transaction id; a bank
 * refuses a second account with the same id. Every write is counted, so tests can check that bad
 * input wrote nothing.
 */
import type { TransactionView } from '../../../functions/adapters/tx/coordinator.js';
import type { ApiDeps, ApiLogger } from '../../../functions/api/app.js';
import type { CoordinatorPort, ParticipantPort, QueuePort } from '../../../functions/api/ports.js';
import type { Account } from '../../../functions/bank/bank.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from '../../../functions/core/errors.js';
import {
  applyConfigPatch,
  type QueueConfig,
  QueueDefaults,
  QueueLimits,
  queueNameSchema,
  receiveInputSchema,
  sendInputSchema,
} from '../../../functions/core/queue/config.js';
import { LeaseLossReason, LeaseLost } from '../../../functions/core/queue/errors.js';
import type { ExecutionInput, TxStatus } from '../../../functions/core/tx/asl.js';
import type { ParticipantRecord } from '../../../functions/core/tx/participant-state.js';
import { parseInput } from '../../../functions/core/validation.js';
import type { DeadLetter, ReceivedMessage } from '../../../functions/queue.js';

export class FakeClock {
  constructor(public ms = Date.UTC(2025, 0, 1)) {}
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

/** Set `fault` to make the next calls throw it (throttling, a bug, a service fault). */
class Faulty {
  fault: unknown;
  protected checkFault() {
    if (this.fault !== undefined) throw this.fault;
  }
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId?: string;
  readonly sentAt: number;
  visibleAt: number;
  leaseToken?: string;
  fence: number;
  receiveCount: number;
}

const RECEIPT = /^fake:([^:]+):([^:]+):([^:]+)$/;

export class FakeQueue extends Faulty implements QueuePort {
  readonly messages = new Map<string, StoredMessage>();
  readonly deadLetters: DeadLetter[] = [];
  readonly dedup = new Map<string, string>();
  config: QueueConfig = QueueDefaults;
  configured = false;
  /** Calls that change state. */
  writes = 0;
  readonly statsCalls: Array<{ consistency?: string }> = [];
  private seq = 0;

  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
  ) {
    super();
  }

  async send(input: Parameters<QueuePort['send']>[0]) {
    this.checkFault();
    const message = parseInput(sendInputSchema, input);
    if (Buffer.byteLength(message.body) > QueueLimits.maxBodyBytes) throw new PayloadTooLargeError('body over 1 MiB');
    const earlier = message.dedupId !== undefined ? this.dedup.get(message.dedupId) : undefined;
    if (earlier) return { messageId: earlier, duplicate: true };
    this.writes++;
    const messageId = `m${++this.seq}`;
    const now = this.clock.now();
    this.messages.set(messageId, {
      messageId,
      body: message.body,
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      sentAt: now,
      visibleAt: now + (message.delaySeconds ?? 0) * 1000,
      fence: 0,
      receiveCount: 0,
    });
    if (message.dedupId !== undefined) this.dedup.set(message.dedupId, messageId);
    return { messageId, duplicate: false };
  }

  async receive(input: Parameters<QueuePort['receive']>[0] = {}): Promise<ReceivedMessage[]> {
    this.checkFault();
    const options = parseInput(receiveInputSchema, input);
    const now = this.clock.now();
    const received: ReceivedMessage[] = [];
    for (const m of this.messages.values()) {
      if (received.length >= (options.max ?? 1)) break;
      if (m.visibleAt > now) continue; // delayed, or leased and unexpired
      if (m.receiveCount >= this.config.maxReceiveCount) {
        this.messages.delete(m.messageId);
        this.deadLetters.push({
          messageId: m.messageId,
          body: m.body,
          ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
          receiveCount: m.receiveCount,
          sentAt: m.sentAt,
          deadLetteredAt: now,
          reason: 'maxReceiveCount exceeded',
        });
        continue;
      }
      this.writes++;
      m.leaseToken = `t${++this.seq}`;
      m.fence++;
      m.receiveCount++;
      m.visibleAt = now + (options.visibilityTimeoutSeconds ?? this.config.visibilityTimeoutSeconds) * 1000;
      received.push({
        messageId: m.messageId,
        body: m.body,
        receipt: `fake:${this.name}:${m.messageId}:${m.leaseToken}`,
        receiveCount: m.receiveCount,
        ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
        fence: m.fence,
        sentAt: m.sentAt,
        leaseUntil: m.visibleAt,
      });
    }
    return received;
  }

  /** The message a receipt leases, or LeaseLost (as the library: never a silent no-op). */
  private leased(receipt: string): StoredMessage {
    const match = RECEIPT.exec(receipt);
    if (!match) throw new ValidationError('receipt', 'not a Concord receipt');
    const [, queue, messageId, token] = match as unknown as [string, string, string, string];
    if (queue !== this.name) throw new LeaseLost(LeaseLossReason.Forged, messageId, 'another queue');
    const m = this.messages.get(messageId);
    if (!m) throw new LeaseLost(LeaseLossReason.Gone, messageId);
    if (m.leaseToken !== token) throw new LeaseLost(LeaseLossReason.Superseded, messageId);
    if (m.visibleAt <= this.clock.now()) throw new LeaseLost(LeaseLossReason.Expired, messageId);
    return m;
  }

  async ack(receipt: string) {
    this.checkFault();
    const m = this.leased(receipt);
    this.writes++;
    this.messages.delete(m.messageId);
  }

  async nack(receipt: string, options: { delaySeconds?: number } = {}) {
    this.checkFault();
    const m = this.leased(receipt);
    this.writes++;
    delete m.leaseToken;
    m.visibleAt = this.clock.now() + (options.delaySeconds ?? 0) * 1000;
  }

  async extend(receipt: string, visibilityTimeoutSeconds: number) {
    this.checkFault();
    const m = this.leased(receipt);
    this.writes++;
    m.visibleAt = this.clock.now() + visibilityTimeoutSeconds * 1000;
    return { leaseUntil: m.visibleAt, receipt };
  }

  async configure(patch: Parameters<QueuePort['configure']>[0]) {
    this.checkFault();
    this.config = applyConfigPatch(this.config, patch, this.configured || this.seq > 0);
    this.configured = true;
    this.writes++;
    return this.config;
  }

  async stats(options: { consistency?: 'strong' | 'eventual' } = {}) {
    this.checkFault();
    this.statsCalls.push(options);
    const now = this.clock.now();
    const all = [...this.messages.values()];
    return {
      visible: all.filter((m) => m.visibleAt <= now).length,
      inFlight: all.filter((m) => m.visibleAt > now && m.leaseToken !== undefined).length,
      delayed: all.filter((m) => m.visibleAt > now && m.leaseToken === undefined).length,
      deadLettered: this.deadLetters.length,
      oldestAgeSeconds: Math.max(0, ...all.filter((m) => m.visibleAt <= now).map((m) => Math.floor((now - m.sentAt) / 1000))),
      consistency: options.consistency ?? 'eventual',
    };
  }

  async listDeadLetters(options: { limit?: number; cursor?: string; consistency?: 'strong' | 'eventual' } = {}) {
    this.checkFault();
    const start = options.cursor === undefined ? 0 : Number(/^c(\d+)$/.exec(options.cursor)?.[1] ?? Number.NaN);
    if (Number.isNaN(start)) throw new ValidationError('cursor', 'not a cursor returned by this queue');
    const end = start + (options.limit ?? 10);
    return { deadLetters: this.deadLetters.slice(start, end), ...(end < this.deadLetters.length ? { nextCursor: `c${end}` } : {}) };
  }

  /** What each redrive was asked. */
  readonly redriveCalls: Array<{ max?: number; perSecond?: number; maxSeconds?: number }> = [];

  async redrive(options: { max?: number; perSecond?: number; maxSeconds?: number } = {}) {
    this.checkFault();
    this.redriveCalls.push(options);
    const moved = this.deadLetters.splice(0, options.max ?? 100);
    for (const d of moved) {
      this.writes++;
      this.messages.set(d.messageId, {
        messageId: d.messageId,
        body: d.body,
        sentAt: d.sentAt,
        visibleAt: this.clock.now(),
        fence: 0,
        receiveCount: 0,
      });
    }
    return { redriven: moved.length, remaining: this.deadLetters.length > 0 };
  }
}

export class FakeQueues extends Faulty {
  readonly queues = new Map<string, FakeQueue>();
  constructor(private readonly clock: FakeClock) {
    super();
  }
  queue(name: string): FakeQueue {
    this.checkFault();
    parseInput(queueNameSchema, name, 'queue');
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new FakeQueue(name, this.clock);
      this.queues.set(name, queue);
    }
    return queue;
  }
  /** Writes across every queue. */
  get writes(): number {
    return [...this.queues.values()].reduce((sum, q) => sum + q.writes, 0);
  }
}

export class FakeCoordinator extends Faulty implements CoordinatorPort {
  readonly transactions = new Map<string, { view: TransactionView; input: ExecutionInput['participants'] }>();
  readonly viewCalls: Array<{ txId: string; consistent: boolean | undefined }> = [];
  writes = 0;

  constructor(
    private readonly modes: Readonly<Record<string, string>>,
    private readonly clock: FakeClock,
  ) {
    super();
  }

  async start(type: string, txId: string, participants: ExecutionInput['participants']) {
    this.checkFault();
    const mode = this.modes[type];
    if (mode === undefined) throw new ValidationError('type', `unknown transaction type ${JSON.stringify(type)}`);
    const existing = this.transactions.get(txId);
    if (existing) return { txId, status: existing.view.status, duplicate: true };
    this.writes++;
    const createdAt = new Date(this.clock.now()).toISOString();
    const view: TransactionView = {
      txId,
      type,
      mode,
      status: 'PENDING',
      epoch: 1,
      participants: participants.map((p) => ({ name: p.name, payload: p.payload })),
      createdAt,
      deadline: new Date(this.clock.now() + 60_000).toISOString(),
      recoveries: 0,
    };
    this.transactions.set(txId, { view, input: participants });
    return { txId, status: 'PENDING' as const, duplicate: false };
  }

  async view(txId: string, options: { consistent?: boolean } = {}) {
    this.checkFault();
    this.viewCalls.push({ txId, consistent: options.consistent });
    const tx = this.transactions.get(txId);
    if (!tx) throw new NotFoundError(`no transaction ${JSON.stringify(txId)}`);
    return tx.view;
  }

  /** Test helper: what the state machine would have written. */
  finish(txId: string, status: TxStatus, decision?: { decision: 'COMMIT' | 'ABORT'; decisionReason: string }) {
    const tx = this.transactions.get(txId);
    if (!tx) throw new Error(`no transaction ${txId}`);
    tx.view = {
      ...tx.view,
      status,
      ...(decision ?? {}),
      ...(decision ? { decidedAt: tx.view.createdAt } : {}),
      ...(status !== 'PENDING' ? { completedAt: tx.view.createdAt } : {}),
    };
  }
}

export class FakeBank extends Faulty {
  readonly accounts = new Map<string, Account>();
  readonly reads: Array<{ id: string; consistent: boolean }> = [];
  writes = 0;

  async open(id: string, balance: number): Promise<Account> {
    this.checkFault();
    if (this.accounts.has(id)) throw new ConflictError(`account ${JSON.stringify(id)} already exists`);
    this.writes++;
    const account = { id, balance, held: 0 };
    this.accounts.set(id, account);
    return account;
  }

  async account(id: string, consistent = true): Promise<Account> {
    this.checkFault();
    this.reads.push({ id, consistent });
    const account = this.accounts.get(id);
    if (!account) throw new NotFoundError(`no account ${JSON.stringify(id)}`);
    return account;
  }
}

export class FakeParticipant implements ParticipantPort {
  readonly records = new Map<string, ParticipantRecord>();
  async record(txId: string, participant: string) {
    return this.records.get(`${txId}#${participant}`);
  }
  set(txId: string, participant: string, record: ParticipantRecord) {
    this.records.set(`${txId}#${participant}`, record);
  }
}

export class RecordingLogger implements ApiLogger {
  readonly errors: Array<{ message: string; error: Error }> = [];
  error(message: string, error: Error) {
    this.errors.push({ message, error });
  }
}

export const TRANSFER_TYPES = { '2pc': 'transfer-2pc', saga: 'transfer-saga' } as const;

export function fakeWorld() {
  const clock = new FakeClock();
  const queues = new FakeQueues(clock);
  const coordinator = new FakeCoordinator({ 'transfer-2pc': '2pc', 'transfer-saga': 'saga' }, clock);
  const bankA = { bank: new FakeBank(), participant: new FakeParticipant(), queueUrl: 'https://sqs.test/000/bank-a' };
  const bankB = { bank: new FakeBank(), participant: new FakeParticipant(), queueUrl: 'https://sqs.test/000/bank-b' };
  const logger = new RecordingLogger();
  let ids = 0;
  const deps: ApiDeps = {
    queues,
    coordinator,
    banks: { 'bank-a': bankA, 'bank-b': bankB },
    transferTypes: TRANSFER_TYPES,
    newId: () => `id-${++ids}`,
    logger,
  };
  const writes = () => queues.writes + coordinator.writes + bankA.bank.writes + bankB.bank.writes;
  return { clock, queues, coordinator, bankA, bankB, logger, deps, writes };
}
