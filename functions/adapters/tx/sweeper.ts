/**
 * Recovery of stuck transactions. One sweeper acts at a time, elected by a DynamoDB lease with a
 * fencing token (E1, core/tx/election.ts); every write it makes carries a ConditionCheck on its
 * lease and fence in the same transaction, so a sweeper paused past its lease cannot act.
 *
 * For each open transaction past its deadline:
 *   - no decision: write ABORT with the same conditional write the coordinator uses (presumed
 *     abort; if the coordinator decides first, the sweeper's write fails and it follows that);
 *   - then, with the decision recorded: stop the old execution and start a recovery execution of
 *     the same state machine (`recover: true`, epoch + 1), which drives phase two (or the saga's
 *     compensations) to the end. Participants ignore messages from older epochs where it matters.
 *
 * Express executions cannot be stopped (StopExecution is for Standard workflows); nothing here
 * needs it to be: an old run still going is a duplicate execution, which the decision's
 * conditional write and the participants' idempotent phases make harmless. The sweeper only
 * starts the recovery run, and an Express run cannot outlive its 5 minutes anyway.
 *
 * The lease's transitions are decided in core/tx/election.ts ({ guard, next }); this file only
 * renders them into DynamoDB expressions.
 */
import { type DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Clock } from '../../core/clock.js';
import { ConflictError, ContentionError, NotFoundError, quote } from '../../core/errors.js';
import { Decision, type ExecutionInput } from '../../core/tx/asl.js';
import { TxEngine, transactionBudgetSeconds } from '../../core/tx/definition.js';
import {
  acquisition,
  type ElectionGuard,
  type ElectionTransition,
  heldBy,
  type LeaderLease,
  mayAct,
  renewal,
} from '../../core/tx/election.js';
import {
  DECISION_ASSIGNMENTS,
  DECISION_NOT_WRITTEN,
  DecisionField,
  DecisionValue,
  KeyAttr,
  LEASE_SORT_KEY,
  LeaseField,
  leasePk,
  OPEN_BUCKETS,
  OPEN_INDEX,
  openBucketName,
  ParkedField,
  TxField,
  txIdOfRecordPk,
} from '../../core/tx/record.js';
import { type Item, isConditionalCheckFailed, isTransactionCanceled } from '../dynamodb/errors.js';
import { systemClock } from '../system.js';
import { executionArn, executionName, logValue, openBucket, parkedItems, type RegisteredStateMachine, txKey } from './coordinator.js';

export interface SweeperOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly tableName: string;
  readonly stateMachines: Readonly<Record<string, RegisteredStateMachine>>;
  /** This sweeper's identity (e.g. the Lambda's request id or a host name). */
  readonly holder: string;
  /** @default 30000 */
  readonly leaseTtlMs?: number;
  /** Stop acting this long before the lease ends (clocks drift). @default 5000 */
  readonly safetyMarginMs?: number;
  /**
   * A recovery run gets the definition's whole budget (transactionBudgetSeconds, as the first run
   * did) plus this slack before it may be recovered in turn. @default 5000
   */
  readonly recoveryGraceMs?: number;
  readonly clock?: Clock;
  readonly role?: string;
}

export interface SweepResult {
  readonly leader: boolean;
  readonly fence?: number;
  readonly recovered: ReadonlyArray<{ txId: string; decision: Decision; presumed: boolean }>;
  /** Recoveries refused because the lease (fence) was no longer ours. */
  readonly fencedOut: number;
}

/** StopExecution's answers for an execution that does not run: absent, or finished (MiniStack: "not running"). */
const NOTHING_TO_STOP = new Set(['ExecutionDoesNotExist', 'ValidationException']);

const leaseKey = (role: string): Item => ({ [KeyAttr.pk]: { S: leasePk(role) }, [KeyAttr.sk]: { S: LEASE_SORT_KEY } });

const LEASE_NAMES = { '#holder': LeaseField.holder, '#until': LeaseField.until, '#fence': LeaseField.fence };

/** An election guard as a ConditionExpression over the lease item (values prefixed `:g`). */
export function renderElectionGuard(guard: ElectionGuard): { condition: string; values: Item } {
  if (guard.kind === 'vacant') {
    return { condition: `attribute_not_exists(${KeyAttr.pk}) OR #until <= :gNow`, values: { ':gNow': { N: String(guard.now) } } };
  }
  return {
    condition: '#holder = :gHolder AND #fence = :gFence AND #until > :gNow',
    values: { ':gHolder': { S: guard.holder }, ':gFence': { N: String(guard.fence) }, ':gNow': { N: String(guard.now) } },
  };
}

/** An election transition as one conditional UpdateItem's expressions. */
export function renderElectionTransition(transition: ElectionTransition) {
  const guard = renderElectionGuard(transition.guard);
  const { holder, until, fence } = transition.next;
  const raise = fence === 'raise';
  return {
    UpdateExpression: `SET #holder = :holder, #until = :until ${raise ? 'ADD #fence :one' : ', #fence = :fence'}`,
    ConditionExpression: guard.condition,
    ExpressionAttributeNames: LEASE_NAMES,
    ExpressionAttributeValues: {
      ...guard.values,
      ':holder': { S: holder },
      ':until': { N: String(until) },
      ...(raise ? { ':one': { N: '1' } } : { ':fence': { N: String(fence) } }),
    },
  };
}

export class Sweeper {
  private lease: LeaderLease | undefined;
  private readonly clock: Clock;
  private readonly role: string;

  constructor(private readonly options: SweeperOptions) {
    this.clock = options.clock ?? systemClock;
    this.role = options.role ?? 'sweeper';
  }

  get currentLease(): LeaderLease | undefined {
    return this.lease;
  }

  /** Acquires the lease if vacant, or renews ours. Returns the lease if we lead. */
  async lead(): Promise<LeaderLease | undefined> {
    const now = this.clock.now();
    const ttl = this.options.leaseTtlMs ?? 30_000;
    const transition = this.lease && this.lease.until > now ? renewal(this.lease, now, ttl) : acquisition(this.options.holder, now, ttl);
    try {
      const { Attributes } = await this.options.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: leaseKey(this.role),
          ...renderElectionTransition(transition),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const { holder, until } = transition.next;
      this.lease = { holder, until, fence: Number(Attributes?.[LeaseField.fence]?.N ?? 0) };
      return this.lease;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      this.lease = undefined;
      return undefined;
    }
  }

  /** One round: lead (or not), then recover every open transaction past its deadline. */
  async tick(): Promise<SweepResult> {
    const lease = await this.lead();
    if (!lease) return { leader: false, recovered: [], fencedOut: 0 };
    const recovered: Array<{ txId: string; decision: Decision; presumed: boolean }> = [];
    let fencedOut = 0;
    for (const txId of await this.overdue()) {
      if (!mayAct(lease, this.clock.now(), this.options.safetyMarginMs ?? 5_000)) break;
      const outcome = await this.recover(txId, lease);
      if (outcome === 'fenced-out') {
        // Another sweeper leads now: every further recovery of ours would be refused too.
        fencedOut++;
        this.lease = undefined;
        break;
      }
      if (outcome) recovered.push({ txId, ...outcome });
    }
    return { leader: true, fence: lease.fence, recovered, fencedOut };
  }

  /** Open transactions whose deadline passed (a hint from the eventually consistent index). */
  async overdue(): Promise<string[]> {
    const now = this.clock.now();
    const ids: string[] = [];
    for (let bucket = 0; bucket < OPEN_BUCKETS; bucket++) {
      let startKey: Item | undefined;
      do {
        const page = await this.options.dynamodb.send(
          new QueryCommand({
            TableName: this.options.tableName,
            IndexName: OPEN_INDEX,
            KeyConditionExpression: `${TxField.openBucket} = :ob AND ${TxField.openDeadline} < :now`,
            ExpressionAttributeValues: { ':ob': { S: openBucketName(bucket) }, ':now': { N: String(now) } },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) ids.push(txIdOfRecordPk(item[KeyAttr.pk]?.S ?? ''));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return ids;
  }

  /**
   * Recovers one transaction with `lease` (which may be stale: that is what the fence is for).
   * Returns undefined when there was nothing to do, 'fenced-out' when the lease was not ours.
   */
  async recover(txId: string, lease: LeaderLease): Promise<{ decision: Decision; presumed: boolean } | 'fenced-out' | undefined> {
    const { Item: tx } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: txKey(txId), ConsistentRead: true }),
    );
    const now = this.clock.now();
    if (tx?.[TxField.status]?.S !== 'PENDING' || Number(tx[TxField.openDeadline]?.N ?? Number.POSITIVE_INFINITY) > now) return undefined;
    const machine = this.options.stateMachines[tx[TxField.type]?.S ?? ''];
    if (!machine) return undefined;
    const epoch = Number(tx[TxField.epoch]?.N ?? 1);
    const recorded = tx[DecisionField.decision]?.S as Decision | undefined;
    const decision = recorded ?? Decision.Abort;
    // E1: the recovery applies only while the lease is still ours, with our fence.
    const fenced = this.fenced(lease, now);
    const values: Item = {
      ':epoch': { N: String(epoch) },
      ':next': { N: String(epoch + 1) },
      // Not less than the run may need: a shorter deadline would recover a recovery that is still
      // retrying its phase two, again and again, and it would never reach PARKED/STUCK (T5).
      ':dl': { N: String(now + transactionBudgetSeconds(machine.definition) * 1000 + (this.options.recoveryGraceMs ?? 5_000)) },
      ':one': { N: '1' },
    };
    values[':log'] = {
      L: [logValue({ kind: 'recovery', at: now, epoch: epoch + 1, detail: `by ${lease.holder} at fence ${lease.fence}` })],
    };
    values[':none'] = { L: [] };
    // `dl` keys the open index; `deadline` is what the transaction's view shows; `lg` the timeline's log.
    const raiseEpoch = `${TxField.epoch} = :next, ${TxField.openDeadline} = :dl, ${TxField.deadline} = :dl, ${APPEND_LOG}`;
    let update = `SET ${raiseEpoch} ADD ${TxField.recoveries} :one`;
    let condition = `${TxField.epoch} = :epoch`;
    if (recorded) {
      condition += ` AND ${DecisionField.decision} = ${DecisionValue.decision}`;
      values[DecisionValue.decision] = { S: recorded };
    } else {
      // Presumed abort, through the same conditional write the coordinator uses (T2).
      update = `SET ${raiseEpoch}, ${DECISION_ASSIGNMENTS} ADD ${TxField.recoveries} :one`;
      condition += ` AND ${DECISION_NOT_WRITTEN}`;
      values[DecisionValue.decision] = { S: Decision.Abort };
      values[DecisionValue.decidedAt] = { S: new Date(now).toISOString() };
      values[DecisionValue.decidedEpoch] = { N: String(epoch + 1) };
      values[DecisionValue.reason] = {
        S: JSON.stringify({ Error: 'PresumedAbort', Cause: `no decision by the deadline; recovered by ${lease.holder}` }),
      };
    }
    try {
      await this.options.dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            fenced,
            {
              Update: {
                TableName: this.options.tableName,
                Key: txKey(txId),
                UpdateExpression: update,
                ConditionExpression: condition,
                ExpressionAttributeValues: values,
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
      // Lease lost: a paused ex-leader's write is rejected by its stale fence (E1).
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'fenced-out';
      return undefined; // the coordinator or another recovery moved first; next round re-reads
    }
    await this.startRecoveryRun(machine, txId, tx, epoch);
    return { decision, presumed: recorded === undefined };
  }

  /**
   * Operator action (POST /v1/transactions/{id}/retry): a STUCK transaction's parked compensations
   * are tried again by a recovery run at the next epoch, fenced as `recover` is (E1: the write
   * carries a ConditionCheck on this sweeper's lease and fence; T4: the epoch is raised by a write
   * conditional on the epoch read, so two retries at once start one run). The same transaction
   * reopens the record (status PENDING again, back in the open index with a fresh deadline, so the
   * sweeper recovers the retry if it dies), deletes the parked items (the run parks again whatever
   * still fails, T5) and copies them into the record's log, so the timeline keeps them.
   *
   * Throws NotFoundError for an unknown id, ConflictError when the transaction is not STUCK,
   * ContentionError (retry later) when another holder leads this sweeper's role.
   */
  async retryStuck(txId: string): Promise<{ txId: string; status: 'PENDING'; epoch: number }> {
    const { Item: tx } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: txKey(txId), ConsistentRead: true }),
    );
    if (!tx) throw new NotFoundError(`no transaction ${JSON.stringify(txId)}`);
    const status = tx[TxField.status]?.S;
    if (status !== 'STUCK') throw new ConflictError(`transaction ${JSON.stringify(txId)} is ${status}, not STUCK: nothing is parked`);
    const machine = this.options.stateMachines[tx[TxField.type]?.S ?? ''];
    if (!machine)
      throw new ConflictError(`transaction ${JSON.stringify(txId)} is of type ${quote(tx[TxField.type]?.S)}, not deployed here`);
    const lease = await this.lead();
    if (!lease) throw new ContentionError(`another holder leads the ${quote(this.role)} role; retry in a few seconds`);
    const now = this.clock.now();
    const epoch = Number(tx[TxField.epoch]?.N ?? 1);
    const parked = await parkedItems(this.options.dynamodb, this.options.tableName, txId);
    const log = [
      ...parked.map((p) =>
        logValue({
          kind: 'parked',
          at: Date.parse(p[ParkedField.parkedAt]?.S ?? '') || now,
          participant: p[ParkedField.participant]?.S ?? '',
          ...(p[ParkedField.error]?.S !== undefined ? { detail: p[ParkedField.error]?.S as string } : {}),
        }),
      ),
      logValue({ kind: 'retry', at: now, epoch: epoch + 1, detail: `operator retry by ${lease.holder} at fence ${lease.fence}` }),
    ];
    const deadline = now + transactionBudgetSeconds(machine.definition) * 1000 + (this.options.recoveryGraceMs ?? 5_000);
    try {
      await this.options.dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            this.fenced(lease, now),
            {
              Update: {
                TableName: this.options.tableName,
                Key: txKey(txId),
                UpdateExpression: `SET #status = :pending, ${TxField.listStatus} = :pending, ${TxField.epoch} = :next, ${TxField.openBucket} = :ob, ${TxField.openDeadline} = :dl, ${TxField.deadline} = :dl, ${APPEND_LOG} REMOVE ${TxField.completedAt} ADD ${TxField.recoveries} :one`,
                ConditionExpression: `#status = :stuck AND ${TxField.epoch} = :epoch`,
                ExpressionAttributeNames: { '#status': TxField.status },
                ExpressionAttributeValues: {
                  ':pending': { S: 'PENDING' },
                  ':stuck': { S: 'STUCK' },
                  ':epoch': { N: String(epoch) },
                  ':next': { N: String(epoch + 1) },
                  ':ob': { S: openBucket(txId) },
                  ':dl': { N: String(deadline) },
                  ':one': { N: '1' },
                  ':log': { L: log },
                  ':none': { L: [] },
                },
              },
            },
            ...parked.map((p) => ({
              Delete: { TableName: this.options.tableName, Key: { [KeyAttr.pk]: p[KeyAttr.pk], [KeyAttr.sk]: p[KeyAttr.sk] } as Item },
            })),
          ],
        }),
      );
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        this.lease = undefined;
        throw new ContentionError(`the ${quote(this.role)} lease moved to another holder; retry in a few seconds`);
      }
      throw new ConflictError(`transaction ${JSON.stringify(txId)} changed while it was being retried (another retry?)`);
    }
    await this.startRecoveryRun(machine, txId, tx, epoch);
    return { txId, status: 'PENDING', epoch: epoch + 1 };
  }

  /** The action that makes a write apply only while `lease` is ours, with its fence (E1). */
  private fenced(lease: LeaderLease, now: number) {
    const guard = renderElectionGuard(heldBy(lease, now));
    return {
      ConditionCheck: {
        TableName: this.options.tableName,
        Key: leaseKey(this.role),
        ConditionExpression: guard.condition,
        ExpressionAttributeNames: LEASE_NAMES,
        ExpressionAttributeValues: guard.values,
      },
    };
  }

  /** Stops the run of `epoch` (standard engine) and starts the recovery run at `epoch + 1`. */
  private async startRecoveryRun(machine: RegisteredStateMachine, txId: string, tx: Item, epoch: number): Promise<void> {
    const input = JSON.parse(tx[TxField.input]?.S ?? '{}') as ExecutionInput;
    if (machine.definition.engine === TxEngine.Standard) {
      const previous = executionArn(machine.stateMachineArn, executionName(txId, epoch));
      try {
        await this.options.sfn.send(
          new StopExecutionCommand({ executionArn: previous, error: 'Recovered', cause: `superseded by epoch ${epoch + 1}` }),
        );
      } catch (error) {
        // Nothing to stop: never started (crash window C1), or no longer running. Anything else
        // (throttling, a denied action) ends this recovery; the epoch is raised, so the next sweep
        // after the new deadline tries again rather than run two executions side by side.
        if (!NOTHING_TO_STOP.has((error as { name?: string }).name ?? '')) throw error;
      }
    }
    const recovery: ExecutionInput = { ...input, epoch: epoch + 1, recover: true };
    try {
      await this.options.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machine.stateMachineArn,
          name: executionName(txId, epoch + 1),
          input: JSON.stringify(recovery),
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
    }
  }
}

/** Appends `:log` to the record's log (`:none` starts it). */
const APPEND_LOG = `${TxField.log} = list_append(if_not_exists(${TxField.log}, :none), :log)`;
