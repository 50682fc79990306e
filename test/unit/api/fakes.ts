/**
 * In-memory stand-ins for the ports the API calls (functions/api/ports.ts). The queue is the real
 * InMemoryQueue; the coordinator is idempotent by transaction id; a bank refuses a second account
 * with the same id. Every write is counted, so tests can check that bad input wrote nothing.
 */
import type { Queue, Queues } from 'concord-aws/queue';
import { FakeClock, type InMemoryQueue, InMemoryQueues, seededEntropy } from 'concord-aws/testing';
import type { ExecutionInput, LogEntry, ParticipantRecord, TransactionView, TxStatus } from 'concord-aws/tx';
import type { ApiDeps, ApiLogger } from '../../../functions/api/app.js';
import type { CoordinatorPort, OperatorPort, ParticipantPort } from '../../../functions/api/ports.js';
import type { Account } from '../../../functions/bank/bank.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../functions/core/errors.js';

export { FakeClock };

/** Set `fault` to make the next calls throw it (throttling, a bug, a service fault). */
class Faulty {
  fault: unknown;
  protected checkFault() {
    if (this.fault !== undefined) throw this.fault;
  }
}

/**
 * The real in-memory queue (concord-aws/testing, the same semantics as the DynamoDB queue and the
 * same conformance suite) behind a recorder: it counts the calls that change state, records what
 * stats and redrive were asked, and throws `fault`, when set, before the queue sees the call.
 */
class RecordingQueue {
  fault: unknown;
  writes = 0;
  readonly statsCalls: Array<{ consistency?: string }> = [];
  readonly redriveCalls: Array<{ max?: number; perSecond?: number; maxSeconds?: number }> = [];

  constructor(
    private readonly owner: RecordingQueues,
    readonly inner: InMemoryQueue,
  ) {}

  /** The queue as the API sees it: every call recorded, faults thrown first. */
  get port(): Queue {
    const calls =
      (name: keyof Queue) =>
      async (...args: unknown[]) => {
        if (this.owner.fault !== undefined) throw this.owner.fault;
        if (this.fault !== undefined) throw this.fault;
        if (name === 'stats') this.statsCalls.push((args[0] ?? {}) as { consistency?: string });
        if (name === 'redrive') this.redriveCalls.push((args[0] ?? {}) as { max?: number });
        const method = (this.inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name] as (
          ...a: unknown[]
        ) => Promise<unknown>;
        const result = await method.apply(this.inner, args);
        if (WRITES.has(name)) this.writes++;
        return result;
      };
    return new Proxy(this.inner, {
      get: (target, name) =>
        typeof name === 'string' && name in target && name !== 'name' ? calls(name as keyof Queue) : Reflect.get(target, name),
    });
  }

  /** Messages stored and not acked (visible, in flight or delayed), by a strong count. */
  async stored(): Promise<number> {
    const s = await this.inner.stats({ consistency: 'strong' });
    return s.visible + s.inFlight + s.delayed;
  }
}

const WRITES = new Set<keyof Queue>([
  'send',
  'sendBatch',
  'ack',
  'nack',
  'extend',
  'configure',
  'redrive',
  'deleteDeadLetter',
  'redriveDeadLetter',
]);

export class RecordingQueues implements Queues {
  fault: unknown;
  private readonly recorders = new Map<string, RecordingQueue>();
  private readonly queues: InMemoryQueues;

  constructor(clock: FakeClock) {
    let ids = 0;
    this.queues = new InMemoryQueues({ clock, entropy: seededEntropy(7), messageIds: () => `m${++ids}` });
  }

  /** The recorder of a queue (tests): its counters, its fault, its stored messages. */
  of(name: string): RecordingQueue {
    let recorder = this.recorders.get(name);
    if (!recorder) {
      recorder = new RecordingQueue(this, this.queues.queue(name));
      this.recorders.set(name, recorder);
    }
    return recorder;
  }

  queue(name: string): Queue {
    if (this.fault !== undefined) throw this.fault;
    return this.of(name).port;
  }

  async list(input?: Parameters<Queues['list']>[0]) {
    if (this.fault !== undefined) throw this.fault;
    return this.queues.list(input);
  }

  /** Writes across every queue. */
  get writes(): number {
    return [...this.recorders.values()].reduce((sum, q) => sum + q.writes, 0);
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

  /** Newest first, by the fake clock's createdAt (ties: later started first), `limit` per page, cursor = index. */
  async list(input: { status: TxStatus; limit?: number; cursor?: string }) {
    this.checkFault();
    const all = [...this.transactions.values()]
      .map((t) => t.view)
      .filter((v) => v.status === input.status)
      .reverse()
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    const start = input.cursor === undefined ? 0 : Number(input.cursor.replace(/^i/, ''));
    if (!Number.isInteger(start)) throw new ValidationError('cursor', 'not a cursor returned by a listing of transactions');
    const limit = input.limit ?? 25;
    const page = all.slice(start, start + limit);
    return { transactions: page, ...(start + limit < all.length ? { nextCursor: `i${start + limit}` } : {}) };
  }

  /** What the timeline is built from: the view's own times, plus `log` and `parked` set by tests. */
  readonly logs = new Map<string, LogEntry[]>();
  readonly parked = new Map<string, Array<{ participant: string; at: number; error?: string }>>();
  async timelineSources(txId: string) {
    const view = await this.view(txId);
    return {
      view,
      sources: {
        createdAt: Date.parse(view.createdAt),
        ...(view.decision !== undefined ? { decision: { decision: view.decision, at: Date.parse(view.decidedAt ?? view.createdAt) } } : {}),
        ...(view.completedAt !== undefined ? { completed: { status: view.status, at: Date.parse(view.completedAt) } } : {}),
        log: this.logs.get(txId) ?? [],
        parked: this.parked.get(txId) ?? [],
      },
    };
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

/** The operator's retry as the Sweeper does it: STUCK -> PENDING at the next epoch, 409 otherwise. */
export class FakeOperator implements OperatorPort {
  readonly retried: string[] = [];
  constructor(private readonly coordinator: FakeCoordinator) {}
  async retryStuck(txId: string) {
    const tx = this.coordinator.transactions.get(txId);
    if (!tx) throw new NotFoundError(`no transaction ${JSON.stringify(txId)}`);
    if (tx.view.status !== 'STUCK') throw new ConflictError(`transaction ${JSON.stringify(txId)} is ${tx.view.status}, not STUCK`);
    this.retried.push(txId);
    tx.view = { ...tx.view, status: 'PENDING', epoch: tx.view.epoch + 1 };
    return { txId, status: 'PENDING' as const, epoch: tx.view.epoch };
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
  const queues = new RecordingQueues(clock);
  const coordinator = new FakeCoordinator({ 'transfer-2pc': '2pc', 'transfer-saga': 'saga' }, clock);
  const bankA = { bank: new FakeBank(), participant: new FakeParticipant(), queueUrl: 'https://sqs.test/000/bank-a' };
  const bankB = { bank: new FakeBank(), participant: new FakeParticipant(), queueUrl: 'https://sqs.test/000/bank-b' };
  const logger = new RecordingLogger();
  const operator = new FakeOperator(coordinator);
  let ids = 0;
  const deps: ApiDeps = {
    queues,
    coordinator,
    operator,
    banks: { 'bank-a': bankA, 'bank-b': bankB },
    transferTypes: TRANSFER_TYPES,
    newId: () => `id-${++ids}`,
    logger,
  };
  const writes = () => queues.writes + coordinator.writes + bankA.bank.writes + bankB.bank.writes;
  return { clock, queues, coordinator, operator, bankA, bankB, logger, deps, writes };
}
