/**
 * The participant library: wraps a service's handlers so that each phase of a transaction applies
 * at most once per (transaction, participant), answers the coordinator's task token, ignores late
 * and replayed messages (T4), and resolves in-doubt transactions from the decision record (T3).
 *
 * A handler never writes by itself: it returns the DynamoDB writes it wants, and the runtime
 * commits them in one TransactWriteItems with the participant's own record, conditional on the
 * record it read (no writes of its own: the record alone, one conditional UpdateItem). Business
 * conditions that fail (a concurrent transfer spent the money) make the runtime read again and ask
 * the handler again (`attempt` + 1).
 *
 * Two ways in, one protocol: the standard engine's messages arrive over SQS with a task token
 * (`sqsBatchHandler`), the express engine invokes the Lambda directly and takes the reply as the
 * invocation's result (`directInvokeHandler`); both live in participant-handlers.ts and run
 * `Participant.handle`, so one participant serves both engines with the same records, epochs and
 * tombstones.
 *
 * Crash windows of a participant (T6), each safe because the phase comes again (SQS redelivers a
 * message until it is deleted; the express state machine retries a failed invocation) and every
 * step is idempotent:
 *   P1 message received, nothing written        -> redelivery runs the phase
 *   P2 phase written, reply not sent            -> redelivery finds the record, sends the reply
 *   P3 reply sent, message not deleted          -> redelivery replies again; the token is spent
 *      (express: reply computed, response lost)    (TaskDoesNotExist/InvalidToken), ignored; express:
 *                                                  the retried invocation answers from the record
 *   P4 write applied, its response lost         -> the retry's condition fails on our own record,
 *                                                  re-read, reply from the record (Q3-style)
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { bytesToBase64Url } from '../../core/encoding.js';
import { murmur3 } from '../../core/hashing.js';
import { Decision } from '../../core/tx/asl.js';
import { PhaseContention } from '../../core/tx/errors.js';
import {
  isInDoubt,
  type ParticipantRecord,
  ParticipantState,
  Phase,
  planDecline,
  planStep,
  presumedRecord,
  type Reply,
  ReplyError,
  replyAfterRun,
} from '../../core/tx/participant-state.js';
import {
  KeyAttr,
  PARTICIPANT_RECORD_BUCKETS,
  participantRecordPk,
  participantRecordSk,
  TX_RECORD_SORT_KEY,
  txRecordPk,
} from '../../core/tx/record.js';
import type { PhaseEntry } from '../../core/tx/timeline.js';
import { type Item, isConditionalCheckFailed, isTransactionCanceled, isTransactionConflictException } from '../dynamodb/errors.js';
import { cryptoEntropy, systemClock } from '../system.js';

export const coordinatorMessageSchema = z.object({
  transaction: z.string(),
  mode: z.enum(['2pc', 'saga']),
  txId: z.string().min(1).max(128),
  epoch: z.number().int().min(1),
  participant: z.string().min(1),
  phase: z.enum(['prepare', 'commit', 'abort', 'action', 'compensate']),
  payload: z.unknown(),
  taskToken: z.string().min(1).optional(),
});
export type CoordinatorEnvelope = z.infer<typeof coordinatorMessageSchema>;

export interface PhaseContext<P> {
  readonly txId: string;
  readonly epoch: number;
  readonly participant: string;
  readonly phase: Phase;
  readonly payload: P;
  /**
   * 0 the first time this delivery asks; then 1, 2, ... each time the writes it returned were
   * cancelled (a business condition failed, or the participant record changed under them) and the
   * runtime asks again. A handler can write optimistically on attempt 0, conditions doing the
   * checking, and read to explain a refusal only when asked again (functions/bank/bank.ts).
   */
  readonly attempt: number;
  /** Clients for reads the handler needs before deciding (reads only: return writes instead). */
  readonly dynamodb: DynamoDBClient;
}

/** What a handler returns: the writes to commit with the phase, or a refusal (NO vote / failed action). */
export type PhaseOutcome = { readonly writes: readonly TransactWriteItem[] } | { readonly decline: string };

export interface ParticipantHandlers<P = unknown> {
  prepare?(ctx: PhaseContext<P>): Promise<PhaseOutcome>;
  commit?(ctx: PhaseContext<P>): Promise<PhaseOutcome>;
  abort?(ctx: PhaseContext<P>): Promise<PhaseOutcome>;
  action?(ctx: PhaseContext<P>): Promise<PhaseOutcome>;
  /** Throw to fail: the coordinator retries, then parks the transaction as STUCK (T5). */
  compensate?(ctx: PhaseContext<P>): Promise<PhaseOutcome>;
}

export interface ParticipantOptions<P> {
  /** The service's own table: its business items and its participant records live there. */
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly sfn: SFNClient;
  /** Handlers by participant name (one service may play several roles, e.g. debit and credit). */
  readonly handlers: Readonly<Record<string, ParticipantHandlers<P>>>;
  /** The coordinator's table, read (never written) to resolve in-doubt transactions (T3). */
  readonly coordinatorTable: string;
  readonly coordinatorDynamodb?: DynamoDBClient;
  readonly clock?: Clock;
  /** Test hook: called at numbered crash points; throwing there simulates a crash. */
  readonly crashPoint?: (point: 'P1' | 'P2' | 'P3', message: CoordinatorEnvelope) => void;
  /**
   * While a phase runs, SendTaskHeartbeat this often, so that a state machine task with
   * HeartbeatSeconds sees a slow participant as alive. @default 10000
   */
  readonly heartbeatEveryMs?: number;
}

export interface HandleResult {
  readonly reply: Reply | undefined;
  /** The phase changed the record now (false for duplicates, stale and contradicting messages). */
  readonly applied: boolean;
  /** The coordinator no longer waited for this answer (its token was spent or had timed out). */
  readonly lateReply: boolean;
}

const MAX_ATTEMPTS = 6;

/** Participant records: `TXP#<bucket>` / `<txId>#<participant>` (core/tx/record.ts), bucketed so in-doubt ones can be listed. */
export function participantRecordKey(txId: string, participant: string): Item {
  return {
    [KeyAttr.pk]: { S: participantRecordPk(murmur3(txId) % PARTICIPANT_RECORD_BUCKETS) },
    [KeyAttr.sk]: { S: participantRecordSk(txId, participant) },
  };
}

/** A failure's cause as both engines carry it: the participant, the phase and its reason (JSON). */
export function failureCause(message: CoordinatorEnvelope, reason: string): string {
  return JSON.stringify({ participant: message.participant, phase: message.phase, reason }).slice(0, 32_000);
}

type StoredRecord = ParticipantRecord & { payload?: unknown; mode?: string; transaction?: string };

/** A record the runtime knows without reading: presumed (participant-state.ts), or handed back by a cancelled write. */
interface KnownRecord {
  readonly record: StoredRecord | undefined;
  readonly presumed: boolean;
}

function recordOf(item: Item | undefined): StoredRecord | undefined {
  if (!item?.state?.S) return undefined;
  return {
    state: item.state.S as ParticipantState,
    epoch: Number(item.epoch?.N ?? 0),
    ...(item.reason?.S ? { reason: item.reason.S } : {}),
    ...(item.h?.L ? { history: item.h.L.map((entry) => JSON.parse(entry.S ?? 'null') as PhaseEntry) } : {}),
    ...(item.payload?.S ? { payload: JSON.parse(item.payload.S) } : {}),
    ...(item.mode?.S ? { mode: item.mode.S } : {}),
    ...(item.transaction?.S ? { transaction: item.transaction.S } : {}),
  };
}

export class Participant<P = unknown> {
  private readonly clock: Clock;
  readonly counters = {
    applied: 0,
    duplicates: 0,
    conflicts: 0,
    lateReplies: 0,
    contention: 0,
    presumptionMisses: 0,
    /** Cancelled writes whose participant record was as expected: a handler's own condition failed. */
    handlerConditionsFailed: 0,
  };

  constructor(private readonly options: ParticipantOptions<P>) {
    this.clock = options.clock ?? systemClock;
  }

  /** Handles one coordinator message (an SQS body). Throws only for failures worth a redelivery. */
  async handle(body: string | CoordinatorEnvelope): Promise<HandleResult> {
    const message = coordinatorMessageSchema.parse(typeof body === 'string' ? JSON.parse(body) : body);
    const token = message.taskToken;
    const heartbeat = token
      ? setInterval(() => {
          // A heartbeat for a task that is gone fails harmlessly; the reply will say so.
          this.options.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })).catch(() => undefined);
        }, this.options.heartbeatEveryMs ?? 10_000)
      : undefined;
    try {
      return await this.handlePhase(message);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async handlePhase(message: CoordinatorEnvelope): Promise<HandleResult> {
    this.options.crashPoint?.('P1', message);
    const handlers = this.options.handlers[message.participant];
    const key = participantRecordKey(message.txId, message.participant);
    // The first attempt writes against the presumed record without reading it (one read fewer
    // per phase on the path every transaction takes); a cancelled write hands back the stored
    // record (ReturnValuesOnConditionCheckFailure) or, failing that, the next attempt reads it.
    const presumed = presumedRecord(message);
    let known: KnownRecord | undefined = presumed.presumed ? { record: presumed.record, presumed: true } : undefined;
    let handlerAttempts = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const writingOnPresumption = known?.presumed === true;
      const record = known ? known.record : await this.read(key);
      known = undefined;
      const plan = planStep(record, { phase: message.phase, epoch: message.epoch });
      if (plan.kind === 'reply') {
        if (plan.duplicate) this.counters.duplicates++;
        if (plan.reply.kind === 'failure' && plan.reply.error === ReplyError.Conflict) this.counters.conflicts++;
        return { reply: plan.reply, applied: false, lateReply: await this.reply(message, plan.reply) };
      }
      let writes: readonly TransactWriteItem[] = [];
      let declined: string | undefined;
      let state: ParticipantState;
      let reply: Reply;
      if (plan.kind === 'record') {
        state = plan.state;
        reply = plan.reply;
      } else {
        const handler = handlers?.[message.phase];
        if (!handler) throw new Error(`participant ${JSON.stringify(message.participant)} has no ${message.phase} handler`);
        let outcome: PhaseOutcome;
        try {
          outcome = await handler({
            ...message,
            payload: message.payload as P,
            dynamodb: this.options.dynamodb,
            phase: message.phase,
            attempt: handlerAttempts++,
          });
        } catch (error) {
          // The handler could not do its part now (e.g. a compensation whose money is spent): the
          // coordinator retries the step and parks it when retries run out (T5).
          const reply: Reply = { kind: 'failure', error: ReplyError.StepFailed, reason: (error as Error).message };
          return { reply, applied: false, lateReply: await this.reply(message, reply) };
        }
        if ('decline' in outcome) {
          const decline = planDecline(plan, message.phase, outcome.decline);
          // Phase two or a compensation cannot be refused: nothing recorded, the coordinator retries.
          if (decline.kind === 'retry')
            return { reply: decline.reply, applied: false, lateReply: await this.reply(message, decline.reply) };
          declined = outcome.decline;
          state = decline.state;
          reply = decline.reply;
        } else {
          writes = outcome.writes;
          state = plan.onSuccess;
          reply = replyAfterRun(message.phase);
        }
      }
      const recordWrite = this.recordWrite(key, message, record, state, declined);
      try {
        if (writes.length === 0) {
          // The record alone (a tombstone, a NO vote, a phase with nothing of its own to write):
          // one conditional update, 1 WRU where a one-item transaction bills 2. P4 holds the
          // same way: a retry whose first try applied fails its condition on our own record.
          await this.options.dynamodb.send(new UpdateItemCommand(recordWrite.Update as UpdateItemCommandInput));
        } else {
          await this.options.dynamodb.send(
            new TransactWriteItemsCommand({
              TransactItems: [...writes, recordWrite],
              ClientRequestToken: bytesToBase64Url(cryptoEntropy.bytes(16)),
            }),
          );
        }
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          known = error.Item ? { record: recordOf(error.Item), presumed: false } : undefined;
          if (writingOnPresumption) this.counters.presumptionMisses++;
          else this.counters.contention++;
          continue;
        }
        // A single-item write that met a transaction in progress on the record was not applied.
        if (isTransactionConflictException(error)) {
          this.counters.contention++;
          continue;
        }
        if (!isTransactionCanceled(error)) throw error;
        // Our record changed under us (a duplicate message won, or our own write applied and its
        // response was lost: P4), the presumption was wrong, or a business condition failed
        // (concurrent work): judge again from the stored record.
        const stored = error.CancellationReasons?.[writes.length];
        if (stored?.Code === 'ConditionalCheckFailed' && stored.Item) known = { record: recordOf(stored.Item), presumed: false };
        if (stored !== undefined && stored.Code !== 'ConditionalCheckFailed') this.counters.handlerConditionsFailed++;
        else if (writingOnPresumption) this.counters.presumptionMisses++;
        else this.counters.contention++;
        continue;
      }
      this.counters.applied++;
      this.options.crashPoint?.('P2', message);
      return { reply, applied: true, lateReply: await this.reply(message, reply) };
    }
    throw new PhaseContention(message.txId, message.participant, message.phase, MAX_ATTEMPTS);
  }

  private async read(key: Item): Promise<StoredRecord | undefined> {
    const { Item: item } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true }),
    );
    return recordOf(item);
  }

  private recordWrite(
    key: Item,
    message: CoordinatorEnvelope,
    expected: ParticipantRecord | undefined,
    state: ParticipantState,
    reason: string | undefined,
  ): TransactWriteItem {
    const now = this.clock.now();
    const entry: PhaseEntry = {
      phase: message.phase,
      state,
      epoch: message.epoch,
      at: now,
      ...(reason !== undefined ? { reason } : {}),
    };
    // An update, not a put: the history grows on the server (list_append), so a phase written
    // against a presumed record, which has no history, keeps the entries of the phases before it.
    const names: Record<string, string> = {
      '#state': 'state',
      '#txId': 'txId',
      '#participant': 'participant',
      '#transaction': 'transaction',
      '#mode': 'mode',
      '#epoch': 'epoch',
      '#payload': 'payload',
      '#updatedAt': 'updatedAt',
      '#reason': 'reason',
      '#history': 'h',
    };
    const values: Item = {
      ':txId': { S: message.txId },
      ':participant': { S: message.participant },
      ':transaction': { S: message.transaction },
      ':mode': { S: message.mode },
      ':newState': { S: state },
      ':newEpoch': { N: String(Math.max(message.epoch, expected?.epoch ?? 0)) },
      // Kept so that an in-doubt participant can finish the phase without a message (T3).
      ':payload': { S: JSON.stringify(message.payload ?? null) },
      ':updatedAt': { N: String(now) },
      // The phases applied so far (the timeline): a few dozen bytes per phase, written with the phase.
      ':entry': { L: [{ S: JSON.stringify(entry) }] },
      ':none': { L: [] },
      ...(reason !== undefined ? { ':reason': { S: reason } } : {}),
      ...(expected ? { ':state': { S: expected.state }, ':epoch': { N: String(expected.epoch) } } : {}),
    };
    const set = [
      '#txId = :txId',
      '#participant = :participant',
      '#transaction = :transaction',
      '#mode = :mode',
      '#state = :newState',
      '#epoch = :newEpoch',
      '#payload = :payload',
      '#updatedAt = :updatedAt',
      '#history = list_append(if_not_exists(#history, :none), :entry)',
      ...(reason !== undefined ? ['#reason = :reason'] : []),
    ];
    return {
      Update: {
        TableName: this.options.tableName,
        Key: key,
        UpdateExpression: `SET ${set.join(', ')}${reason === undefined ? ' REMOVE #reason' : ''}`,
        ConditionExpression: expected ? '#state = :state AND #epoch = :epoch' : 'attribute_not_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** Sends the reply; true when the coordinator no longer waited for it (a late or replayed message). */
  private async reply(message: CoordinatorEnvelope, reply: Reply): Promise<boolean> {
    // P3: the reply is lost (never sent over SQS's task token, or the invocation's answer never arrives).
    this.options.crashPoint?.('P3', message);
    if (!message.taskToken) return false;
    try {
      if (reply.kind === 'success') {
        const output = JSON.stringify({
          participant: message.participant,
          phase: message.phase,
          ...(reply.vote ? { vote: reply.vote } : {}),
        });
        await this.options.sfn.send(new SendTaskSuccessCommand({ taskToken: message.taskToken, output }));
      } else {
        await this.options.sfn.send(
          new SendTaskFailureCommand({ taskToken: message.taskToken, error: reply.error, cause: failureCause(message, reply.reason) }),
        );
      }
      return false;
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      // AWS: InvalidToken or TaskTimedOut for a closed task; MiniStack: TaskDoesNotExist.
      if (name === 'TaskDoesNotExist' || name === 'InvalidToken' || name === 'TaskTimedOut') {
        this.counters.lateReplies++;
        return true;
      }
      throw error;
    }
  }

  /**
   * T3: a participant that voted YES never aborts on its own. For each transaction it has held
   * PREPARED for longer than `olderThanMs`, it reads the coordinator's decision record and, if
   * there is a decision, applies it exactly as if the phase-two message had arrived. Without a
   * decision it waits (the sweeper will decide). Returns the transactions it resolved.
   */
  async resolveInDoubt(olderThanMs: number): Promise<Array<{ txId: string; participant: string; decision: Decision }>> {
    const resolved: Array<{ txId: string; participant: string; decision: Decision }> = [];
    const cutoff = this.clock.now() - olderThanMs;
    for (let bucket = 0; bucket < PARTICIPANT_RECORD_BUCKETS; bucket++) {
      let startKey: Item | undefined;
      do {
        const page = await this.options.dynamodb.send(
          new QueryCommand({
            TableName: this.options.tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: '#state = :prepared AND updatedAt < :cutoff',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':pk': { S: participantRecordPk(bucket) },
              ':prepared': { S: ParticipantState.Prepared },
              ':cutoff': { N: String(cutoff) },
            },
            ExclusiveStartKey: startKey,
            ConsistentRead: true,
          }),
        );
        for (const item of page.Items ?? []) {
          const record = recordOf(item);
          if (!isInDoubt(record)) continue;
          const txId = item.txId?.S as string;
          const participant = item.participant?.S as string;
          const { Item: tx } = await (this.options.coordinatorDynamodb ?? this.options.dynamodb).send(
            new GetItemCommand({
              TableName: this.options.coordinatorTable,
              Key: { [KeyAttr.pk]: { S: txRecordPk(txId) }, [KeyAttr.sk]: { S: TX_RECORD_SORT_KEY } },
              ConsistentRead: true,
            }),
          );
          const decision = tx?.decision?.S as Decision | undefined;
          if (decision !== Decision.Commit && decision !== Decision.Abort) continue;
          await this.handle({
            transaction: record?.transaction ?? '',
            mode: (record?.mode as '2pc' | 'saga') ?? '2pc',
            txId,
            epoch: record?.epoch ?? 1,
            participant,
            phase: decision === Decision.Commit ? Phase.Commit : Phase.Abort,
            payload: record?.payload,
          });
          resolved.push({ txId, participant, decision });
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return resolved;
  }

  /** The participant's record of a transaction (tests and the API's transfer view). */
  async record(txId: string, participant: string): Promise<ParticipantRecord | undefined> {
    const { Item: item } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: participantRecordKey(txId, participant), ConsistentRead: true }),
    );
    return recordOf(item);
  }
}
