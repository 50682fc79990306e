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
 */
import { type DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Clock } from '../../core/clock.js';
import { Decision, type ExecutionInput } from '../../core/tx/asl.js';
import { transactionBudgetSeconds } from '../../core/tx/definition.js';
import { type LeaderLease, mayAct } from '../../core/tx/election.js';
import { type Item, isConditionalCheckFailed, isTransactionCanceled } from '../dynamodb/errors.js';
import { systemClock } from '../system.js';
import { executionArn, executionName, OPEN_BUCKETS, OPEN_INDEX, type RegisteredStateMachine, txKey } from './coordinator.js';

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

const leaseKey = (role: string): Item => ({ pk: { S: `LEASE#${role}` }, sk: { S: 'lease' } });

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
    const names = { '#holder': 'holder', '#until': 'until' };
    try {
      if (this.lease && this.lease.until > now) {
        await this.options.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.options.tableName,
            Key: leaseKey(this.role),
            UpdateExpression: 'SET #until = :until',
            ConditionExpression: '#holder = :me AND fence = :fence AND #until > :now',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':until': { N: String(now + ttl) },
              ':me': { S: this.options.holder },
              ':fence': { N: String(this.lease.fence) },
              ':now': { N: String(now) },
            },
          }),
        );
        this.lease = { ...this.lease, until: now + ttl };
        return this.lease;
      }
      const { Attributes } = await this.options.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: leaseKey(this.role),
          UpdateExpression: 'SET #holder = :me, #until = :until ADD fence :one',
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':me': { S: this.options.holder },
            ':until': { N: String(now + ttl) },
            ':one': { N: '1' },
            ':now': { N: String(now) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.lease = { holder: this.options.holder, until: now + ttl, fence: Number(Attributes?.fence?.N ?? 0) };
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
            KeyConditionExpression: 'ob = :ob AND dl < :now',
            ExpressionAttributeValues: { ':ob': { S: `OPEN#${bucket}` }, ':now': { N: String(now) } },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) ids.push((item.pk?.S ?? '').slice('TX#'.length));
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
    if (tx?.status?.S !== 'PENDING' || Number(tx.dl?.N ?? Number.POSITIVE_INFINITY) > now) return undefined;
    const machine = this.options.stateMachines[tx.type?.S ?? ''];
    if (!machine) return undefined;
    const epoch = Number(tx.epoch?.N ?? 1);
    const recorded = tx.decision?.S as Decision | undefined;
    const decision = recorded ?? Decision.Abort;
    const fenced = {
      ConditionCheck: {
        TableName: this.options.tableName,
        Key: leaseKey(this.role),
        ConditionExpression: '#holder = :me AND fence = :fence AND #until > :now',
        ExpressionAttributeNames: { '#holder': 'holder', '#until': 'until' },
        ExpressionAttributeValues: { ':me': { S: lease.holder }, ':fence': { N: String(lease.fence) }, ':now': { N: String(now) } },
      },
    };
    const values: Item = {
      ':epoch': { N: String(epoch) },
      ':next': { N: String(epoch + 1) },
      // Not less than the run may need: a shorter deadline would recover a recovery that is still
      // retrying its phase two, again and again, and it would never reach PARKED/STUCK (T5).
      ':dl': { N: String(now + transactionBudgetSeconds(machine.definition) * 1000 + (this.options.recoveryGraceMs ?? 5_000)) },
      ':one': { N: '1' },
    };
    // `dl` keys the open index; `deadline` is what the transaction's view shows.
    let update = 'SET epoch = :next, dl = :dl, deadline = :dl ADD recoveries :one';
    let condition = 'epoch = :epoch';
    if (recorded) {
      condition += ' AND decision = :decision';
      values[':decision'] = { S: recorded };
    } else {
      // Presumed abort, through the same conditional write the coordinator uses (T2).
      update =
        'SET epoch = :next, dl = :dl, deadline = :dl, decision = :decision, decidedAt = :at, decidedEpoch = :next, decisionReason = :why ADD recoveries :one';
      condition += ' AND attribute_not_exists(decision)';
      values[':decision'] = { S: Decision.Abort };
      values[':at'] = { S: new Date(now).toISOString() };
      values[':why'] = {
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
    const input = JSON.parse(tx.input?.S ?? '{}') as ExecutionInput;
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
    return { decision, presumed: recorded === undefined };
  }
}
