/**
 * Starting and reading transactions. The coordinator proper is the Step Functions state machine
 * (core/tx/asl.ts); this writes the transaction record it works on, starts the execution, and
 * reads the record back.
 *
 * Transaction record (core/tx/record.ts): pk `TX#<txId>`, sk `tx` — type, mode, engine, status,
 * epoch, deadline, the execution input (so the sweeper can re-drive it), the decision once made,
 * and while the transaction is open `ob`/`dl`, the keys of the sparse `open` index the sweeper
 * queries.
 */
import { BatchGetItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import type { Clock } from '../../core/clock.js';
import { bytesToBase64Url } from '../../core/encoding.js';
import { NotFoundError, quote, ValidationError } from '../../core/errors.js';
import { murmur3 } from '../../core/hashing.js';
import type { ExecutionInput, TxStatus } from '../../core/tx/asl.js';
import { type TransactionDefinition, TxEngine, transactionBudgetSeconds } from '../../core/tx/definition.js';
import { TransactionConfigurationError } from '../../core/tx/errors.js';
import {
  DecisionField,
  KeyAttr,
  OPEN_BUCKETS,
  OPEN_INDEX,
  openBucketName,
  PARKED_PK,
  ParkedField,
  STATUS_INDEX,
  TX_RECORD_SORT_KEY,
  TxField,
  txIdOfRecordPk,
  txRecordPk,
} from '../../core/tx/record.js';
import type { LogEntry, TimelineSources } from '../../core/tx/timeline.js';
import { type Item, isConditionalCheckFailed } from '../dynamodb/errors.js';
import { cryptoEntropy, systemClock } from '../system.js';

export { OPEN_BUCKETS, OPEN_INDEX, STATUS_INDEX };

export interface ListTransactionsInput {
  readonly status: TxStatus;
  /** @default 25 */
  readonly limit?: number;
  readonly cursor?: string;
}

export interface TransactionPage {
  /** Newest first. Each is the record as read after the index pointed at it (its status may have moved on). */
  readonly transactions: readonly TransactionView[];
  readonly nextCursor?: string;
}

/** What a timeline is built from, besides the participants' own records (core/tx/timeline.ts). */
export type RecordSources = Omit<TimelineSources, 'participants'>;

const TX_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface RegisteredStateMachine {
  readonly definition: TransactionDefinition;
  readonly stateMachineArn: string;
}

export interface CoordinatorOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly tableName: string;
  /** By definition name. */
  readonly stateMachines: Readonly<Record<string, RegisteredStateMachine>>;
  readonly clock?: Clock;
  /**
   * Extra time before the sweeper may presume a transaction stuck, beyond its budget.
   * @default 5000
   */
  readonly deadlineSlackMs?: number;
}

export interface TransactionView {
  readonly txId: string;
  readonly type: string;
  readonly mode: string;
  /** Absent only in views built by hand (tests); records carry it. */
  readonly engine?: string;
  readonly status: TxStatus;
  readonly epoch: number;
  readonly participants: ReadonlyArray<{ readonly name: string; readonly payload: unknown }>;
  readonly decision?: string;
  readonly decisionReason?: string;
  readonly decidedAt?: string;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly deadline: string;
  readonly recoveries: number;
}

/**
 * The registry the coordinator and the sweeper look types up in: each definition with its deployed
 * state machine. Throws naming every type without an ARN, so that a deployment missing one fails
 * at start instead of leaving that type never started or never recovered.
 */
export function registerStateMachines(
  definitions: readonly TransactionDefinition[],
  arns: Readonly<Record<string, string | undefined>>,
): Record<string, RegisteredStateMachine> {
  const missing = definitions.filter((d) => !arns[d.name]).map((d) => d.name);
  if (missing.length > 0) {
    throw new TransactionConfigurationError(
      `no state machine ARN for transaction type ${missing.map((name) => quote(name)).join(', ')} (have ${quote(Object.keys(arns))})`,
    );
  }
  return Object.fromEntries(
    definitions.map((definition) => [definition.name, { definition, stateMachineArn: arns[definition.name] as string }]),
  );
}

export const txKey = (txId: string): Item => ({ [KeyAttr.pk]: { S: txRecordPk(txId) }, [KeyAttr.sk]: { S: TX_RECORD_SORT_KEY } });
export const openBucket = (txId: string) => openBucketName(murmur3(txId) % OPEN_BUCKETS);

export interface StartOptions {
  /**
   * Run the transaction to its end before answering (StartSyncExecution) and return its final
   * status. Only the express engine allows it; a run cut short (it failed or hit the 5-minute
   * limit) answers PENDING, and the sweeper finishes it. @default false
   */
  readonly wait?: boolean;
}
export const executionName = (txId: string, epoch: number) => (epoch <= 1 ? txId : `${txId}-r${epoch}`);

/** arn:<partition>:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution> (any partition). */
export function executionArn(stateMachineArn: string, execution: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${execution}`;
}

export class Coordinator {
  private readonly clock: Clock;

  constructor(private readonly options: CoordinatorOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Starts transaction `txId` of type `type`. Idempotent: a second start of the same id (with any
   * input) returns the first one, marked `duplicate` (the record is written once; the execution
   * name is the transaction id).
   *
   * Crash window C1: the record is written before the execution starts. A crash in between leaves
   * a PENDING record and no execution; the sweeper aborts it after its deadline.
   */
  async start(
    type: string,
    txId: string,
    participants: ExecutionInput['participants'],
    options: StartOptions = {},
  ): Promise<{ txId: string; status: TxStatus; duplicate: boolean }> {
    if (!TX_ID.test(txId)) throw new ValidationError('txId', `must match ${TX_ID.source}, got ${JSON.stringify(txId)}`);
    const machine = this.options.stateMachines[type];
    if (!machine) throw new ValidationError('type', `unknown transaction type ${JSON.stringify(type)}`);
    const { engine } = machine.definition;
    if (options.wait && engine !== TxEngine.Express) {
      throw new ValidationError(
        'wait',
        `transaction type ${JSON.stringify(type)} runs on the ${engine} engine, which cannot run synchronously`,
      );
    }
    const expected = machine.definition.participants.map((p) => p.name);
    if (participants.map((p) => p.name).join() !== expected.join()) {
      throw new ValidationError('participants', `must be ${expected.join(', ')} in this order`);
    }
    const address = engine === TxEngine.Express ? 'functionName' : 'queueUrl';
    participants.forEach((p, i) => {
      if (!p[address])
        throw new ValidationError(
          `participants.${i}.${address}`,
          `the ${engine} engine reaches ${JSON.stringify(p.name)} by its ${address}`,
        );
    });
    const now = this.clock.now();
    const deadline = now + transactionBudgetSeconds(machine.definition) * 1000 + (this.options.deadlineSlackMs ?? 5_000);
    const input: ExecutionInput = { txId, epoch: 1, recover: false, participants };
    const nonce = bytesToBase64Url(cryptoEntropy.bytes(12));
    try {
      await this.options.dynamodb.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            ...txKey(txId),
            [TxField.txId]: { S: txId },
            [TxField.type]: { S: type },
            [TxField.mode]: { S: machine.definition.mode },
            [TxField.engine]: { S: engine },
            [TxField.status]: { S: 'PENDING' },
            [TxField.listStatus]: { S: 'PENDING' },
            [TxField.epoch]: { N: '1' },
            [TxField.createdAt]: { N: String(now) },
            [TxField.deadline]: { N: String(deadline) },
            [TxField.openBucket]: { S: openBucket(txId) },
            [TxField.openDeadline]: { N: String(deadline) },
            [TxField.input]: { S: JSON.stringify(input) },
            [TxField.startNonce]: { S: nonce },
          },
          ConditionExpression: `attribute_not_exists(${KeyAttr.pk})`,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // Q3: our own put whose response was lost carries our nonce; go on and start the execution.
      if (error.Item?.[TxField.startNonce]?.S !== nonce) {
        return { txId, status: (error.Item?.[TxField.status]?.S ?? 'PENDING') as TxStatus, duplicate: true };
      }
    }
    const execution = { stateMachineArn: machine.stateMachineArn, name: executionName(txId, 1), input: JSON.stringify(input) };
    if (options.wait) {
      // The answer comes when the execution ends; whatever its status, the record says how the
      // transaction stands (a run that failed after the decision leaves it PENDING for the sweeper).
      await this.options.sfn.send(new StartSyncExecutionCommand(execution));
      return { txId, status: (await this.view(txId)).status, duplicate: false };
    }
    try {
      await this.options.sfn.send(new StartExecutionCommand(execution));
    } catch (error) {
      // AWS returns the running execution for an identical start; MiniStack says it exists.
      if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
    }
    return { txId, status: 'PENDING', duplicate: false };
  }

  /**
   * Transactions in `status`, newest first: a Query of the sparse `by-status` index (eventually
   * consistent, as every GSI read is: a transaction that just started or ended may be missing or
   * listed under its previous status for about a second), then one BatchGetItem of the records.
   * Never a scan. Records written before the index existed carry no `ls` and are not listed.
   */
  async list(input: ListTransactionsInput): Promise<TransactionPage> {
    const limit = input.limit ?? 25;
    const page = await this.options.dynamodb.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: `${TxField.listStatus} = :s`,
        ExpressionAttributeValues: { ':s': { S: input.status } },
        ScanIndexForward: false,
        Limit: limit,
        ...(input.cursor !== undefined ? { ExclusiveStartKey: decodeListCursor(input.cursor, input.status) } : {}),
      }),
    );
    const ids = (page.Items ?? []).map((item) => txIdOfRecordPk(item[KeyAttr.pk]?.S ?? ''));
    const records = await this.records(ids);
    const transactions = ids.flatMap((id) => {
      const record = records.get(id);
      return record ? [viewOf(record)] : [];
    });
    const last = page.Items?.at(-1);
    return {
      transactions,
      ...(page.LastEvaluatedKey && last ? { nextCursor: encodeListCursor(last) } : {}),
    };
  }

  /** Records by id (BatchGetItem, eventually consistent: a listing). */
  private async records(ids: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    let keys = ids.map(txKey);
    while (keys.length > 0) {
      const response = await this.options.dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [this.options.tableName]: { Keys: keys } } }),
      );
      for (const item of response.Responses?.[this.options.tableName] ?? []) found.set(item[TxField.txId]?.S ?? '', item);
      keys = (response.UnprocessedKeys?.[this.options.tableName]?.Keys as Item[] | undefined) ?? [];
    }
    return found;
  }

  /**
   * The coordinator's part of a timeline: the record (creation, decision, completion, its log)
   * and the transaction's parked compensations (a Query of the PARKED partition by the id's
   * prefix; ids cannot contain '#'). Strongly consistent.
   */
  async timelineSources(txId: string): Promise<{ view: TransactionView; sources: RecordSources }> {
    const { Item: item } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: txKey(txId), ConsistentRead: true }),
    );
    if (!item) throw new NotFoundError(`no transaction ${JSON.stringify(txId)}`);
    const parked = await parkedItems(this.options.dynamodb, this.options.tableName, txId);
    const view = viewOf(item);
    const decidedEpoch = item[DecisionField.decidedEpoch]?.N;
    return {
      view,
      sources: {
        createdAt: Number(item[TxField.createdAt]?.N ?? 0),
        ...(view.decision !== undefined
          ? {
              decision: {
                decision: view.decision,
                at: Date.parse(view.decidedAt ?? view.createdAt),
                ...(decidedEpoch !== undefined ? { epoch: Number(decidedEpoch) } : {}),
                ...(view.decisionReason !== undefined ? { reason: view.decisionReason } : {}),
              },
            }
          : {}),
        ...(view.completedAt !== undefined && view.status !== 'PENDING'
          ? { completed: { status: view.status, at: Date.parse(view.completedAt) } }
          : {}),
        log: logOf(item),
        parked: parked.map((p) => ({
          participant: p[ParkedField.participant]?.S ?? '',
          at: Date.parse(p[ParkedField.parkedAt]?.S ?? view.createdAt),
          ...(p[ParkedField.error]?.S !== undefined ? { error: p[ParkedField.error]?.S as string } : {}),
        })),
      },
    };
  }

  async view(txId: string, options: { consistent?: boolean } = {}): Promise<TransactionView> {
    const { Item: item } = await this.options.dynamodb.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: txKey(txId), ConsistentRead: options.consistent ?? true }),
    );
    if (!item) throw new NotFoundError(`no transaction ${JSON.stringify(txId)}`);
    return viewOf(item);
  }
}

const iso = (ms: string | undefined) => new Date(Number(ms ?? 0)).toISOString();

export function viewOf(item: Item): TransactionView {
  const input = JSON.parse(item[TxField.input]?.S ?? '{"participants":[]}') as ExecutionInput;
  const text = (name: string) => item[name]?.S;
  const decision = text(DecisionField.decision);
  const decisionReason = text(DecisionField.decisionReason);
  const decidedAt = text(DecisionField.decidedAt);
  const completedAt = text(TxField.completedAt);
  return {
    txId: text(TxField.txId) ?? '',
    type: text(TxField.type) ?? '',
    mode: text(TxField.mode) ?? '',
    // Records written before the express engine existed are standard ones.
    engine: text(TxField.engine) ?? TxEngine.Standard,
    status: (text(TxField.status) ?? 'PENDING') as TxStatus,
    epoch: Number(item[TxField.epoch]?.N ?? 1),
    participants: input.participants.map((p) => ({ name: p.name, payload: p.payload })),
    ...(decision ? { decision } : {}),
    ...(decisionReason ? { decisionReason } : {}),
    ...(decidedAt ? { decidedAt } : {}),
    createdAt: iso(item[TxField.createdAt]?.N),
    ...(completedAt ? { completedAt } : {}),
    deadline: iso(item[TxField.deadline]?.N),
    recoveries: Number(item[TxField.recoveries]?.N ?? 0),
  };
}

/** A transaction's parked compensations: its ids cannot contain '#', so the prefix names only its own. Strong. */
export async function parkedItems(dynamodb: DynamoDBClient, tableName: string, txId: string): Promise<Item[]> {
  const { Items: items = [] } = await dynamodb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: `${KeyAttr.pk} = :pk AND begins_with(${KeyAttr.sk}, :prefix)`,
      ExpressionAttributeValues: { ':pk': { S: PARKED_PK }, ':prefix': { S: `${txId}#` } },
      ConsistentRead: true,
    }),
  );
  return items;
}

/** The record's log (`lg`: a list of maps), as the timeline reads it. */
export function logOf(item: Item): LogEntry[] {
  return (item[TxField.log]?.L ?? []).map((value) => {
    const m = value.M ?? {};
    return {
      kind: (m.kind?.S ?? 'recovery') as LogEntry['kind'],
      at: Number(m.at?.N ?? 0),
      ...(m.epoch?.N !== undefined ? { epoch: Number(m.epoch.N) } : {}),
      ...(m.participant?.S !== undefined ? { participant: m.participant.S } : {}),
      ...(m.detail?.S !== undefined ? { detail: m.detail.S } : {}),
    };
  });
}

/** A log entry as one element of `lg`. */
export function logValue(entry: LogEntry): { M: Item } {
  return {
    M: {
      kind: { S: entry.kind },
      at: { N: String(entry.at) },
      ...(entry.epoch !== undefined ? { epoch: { N: String(entry.epoch) } } : {}),
      ...(entry.participant !== undefined ? { participant: { S: entry.participant } } : {}),
      ...(entry.detail !== undefined ? { detail: { S: entry.detail } } : {}),
    },
  };
}

function encodeListCursor(key: Item): string {
  const txId = txIdOfRecordPk(key[KeyAttr.pk]?.S ?? '');
  return bytesToBase64Url(new TextEncoder().encode(JSON.stringify([txId, key[TxField.createdAt]?.N])));
}

function decodeListCursor(cursor: string, status: TxStatus): Item {
  try {
    const [txId, createdAt] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof txId !== 'string' || !TX_ID.test(txId) || typeof createdAt !== 'string' || !/^\d+$/.test(createdAt)) {
      throw new Error('foreign cursor');
    }
    return { ...txKey(txId), [TxField.listStatus]: { S: status }, [TxField.createdAt]: { N: createdAt } };
  } catch {
    throw new ValidationError('cursor', 'not a cursor returned by a listing of transactions');
  }
}
