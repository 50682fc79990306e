/**
 * The example domain: a bank is a participant service with its own table (accounts and its
 * participant records) and its own SQS queue. A transfer debits an account in one bank and
 * credits one in another (or the same), in 2PC or saga mode.
 *
 * 2PC: prepare puts a hold on the debited amount (held money is not spendable); commit turns the
 *      hold into a debit; abort releases it. Insufficient funds is a NO vote.
 * Saga: the action debits or credits at once (intermediate states are visible); compensation
 *      reverses it. A compensation of a credit fails while the credited money has been spent,
 *      so it can end STUCK (T5).
 *
 * An account keeps `available` = balance - held as an attribute of its own, because a DynamoDB
 * condition cannot compute (`balance - held >= :a` is a ValidationException on AWS; MiniStack
 * accepts it and treats it as true, docs/emulators.md). Every write keeps the three in step.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError, ValidationError } from 'concord-aws';
import type { ParticipantHandlers, PhaseContext, PhaseOutcome } from 'concord-aws/tx';

export interface TransferLeg {
  readonly kind: 'debit' | 'credit';
  readonly accountId: string;
  /** Minor units (cents): integers, so totals are exact. */
  readonly amount: number;
}

export interface Account {
  readonly id: string;
  readonly balance: number;
  readonly held: number;
}

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const accountKey = (id: string) => ({ pk: { S: `ACCOUNT#${id}` }, sk: { S: 'account' } });

export class Bank {
  constructor(
    readonly name: string,
    private readonly dynamodb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Opens an account. `alsoWrite` joins the same DynamoDB transaction: the example API passes a
   * transactional-outbox entry, so the "account opened" event exists iff the account does (Q7).
   */
  async open(id: string, balance: number, options: { alsoWrite?: readonly TransactWriteItem[] } = {}): Promise<Account> {
    if (!ACCOUNT_ID.test(id)) throw new ValidationError('id', `must match ${ACCOUNT_ID.source}, got ${JSON.stringify(id)}`);
    if (!Number.isSafeInteger(balance) || balance < 0)
      throw new ValidationError('balance', `must be a non-negative integer, got ${balance}`);
    const put = {
      TableName: this.tableName,
      Item: { ...accountKey(id), id: { S: id }, balance: { N: String(balance) }, held: { N: '0' }, available: { N: String(balance) } },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    const exists = () => new ConflictError(`account ${JSON.stringify(id)} already exists in ${this.name}`);
    try {
      if (options.alsoWrite?.length) {
        await this.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: put }, ...options.alsoWrite] }));
      } else {
        await this.dynamodb.send(new PutItemCommand(put));
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw exists();
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')
        throw exists();
      throw error;
    }
    return { id, balance, held: 0 };
  }

  /** The account's stored item, or undefined when there is none. */
  private async accountItem(id: string, consistent = true): Promise<Record<string, AttributeValue> | undefined> {
    const { Item: item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName, Key: accountKey(id), ConsistentRead: consistent }),
    );
    return item;
  }

  async account(id: string, consistent = true): Promise<Account> {
    const item = await this.accountItem(id, consistent);
    if (!item) throw new NotFoundError(`no account ${JSON.stringify(id)} in ${this.name}`);
    return { id, balance: Number(item.balance?.N ?? 0), held: Number(item.held?.N ?? 0) };
  }

  /** The participant handlers for one transfer leg role (debit or credit, told by the payload). */
  handlers(): ParticipantHandlers<TransferLeg> {
    const table = this.tableName;
    const update = (id: string, expression: string, condition: string, amount: number) => ({
      Update: {
        TableName: table,
        Key: accountKey(id),
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeValues: { ':a': { N: String(amount) } },
      },
    });
    const exists = 'attribute_exists(pk)';
    const spendable = 'available >= :a';
    /** Why the account refuses this leg, read only after a write of it was cancelled. */
    const refusal = async (ctx: PhaseContext<TransferLeg>): Promise<string | undefined> => {
      const item = await this.accountItem(ctx.payload.accountId);
      if (!item) return `no account ${ctx.payload.accountId} in ${this.name}`;
      if (ctx.payload.kind === 'debit' && Number(item.available?.N) < ctx.payload.amount) return 'insufficient funds';
      return undefined;
    };
    /**
     * Phase one writes first and reads only when asked again: the write's condition (the account
     * exists; for a debit, the money is spendable) is the check, so a YES vote or a done action
     * costs no read. A cancelled write (no account, insufficient funds, or a concurrent transfer
     * that spent the money) brings the runtime back with `attempt` > 0: then the handler reads,
     * declines with the reason, or writes again if the money is there after all.
     */
    const phaseOne = async (ctx: PhaseContext<TransferLeg>, writes: readonly TransactWriteItem[]): Promise<PhaseOutcome> => {
      const reason = ctx.attempt > 0 ? await refusal(ctx) : undefined;
      return reason ? { decline: reason } : { writes };
    };
    return {
      prepare: async (ctx) => {
        const { kind, accountId, amount } = ctx.payload;
        if (kind === 'credit') {
          // A credit holds nothing: it only needs the account to exist. A read (1 RRU) and the
          // participant record alone (1 WRU) cost less than a ConditionCheck in a transaction
          // (2 items, 4 WRU), and promise as much: the account existed when the vote was cast.
          const reason = await refusal(ctx);
          return reason ? { decline: reason } : { writes: [] };
        }
        return phaseOne(ctx, [update(accountId, 'SET held = held + :a, available = available - :a', `${exists} AND ${spendable}`, amount)]);
      },
      commit: async ({ payload: { kind, accountId, amount } }) => ({
        writes: [
          kind === 'debit'
            ? update(accountId, 'SET balance = balance - :a, held = held - :a', 'held >= :a', amount)
            : update(accountId, 'SET balance = balance + :a, available = available + :a', exists, amount),
        ],
      }),
      abort: async ({ payload: { kind, accountId, amount } }) => ({
        writes: kind === 'debit' ? [update(accountId, 'SET held = held - :a, available = available + :a', 'held >= :a', amount)] : [],
      }),
      action: async (ctx) => {
        const { kind, accountId, amount } = ctx.payload;
        return phaseOne(ctx, [
          kind === 'debit'
            ? update(accountId, 'SET balance = balance - :a, available = available - :a', `${exists} AND ${spendable}`, amount)
            : update(accountId, 'SET balance = balance + :a, available = available + :a', exists, amount),
        ]);
      },
      compensate: async (ctx) => {
        const { kind, accountId, amount } = ctx.payload;
        if (kind === 'debit')
          return { writes: [update(accountId, 'SET balance = balance + :a, available = available + :a', exists, amount)] };
        // Taking back a credit needs the money to still be there: the condition checks it; asked
        // again after it failed, the handler reads and fails the step while the money is spent.
        if (ctx.attempt > 0) {
          const item = await this.accountItem(accountId);
          if (Number(item?.available?.N ?? 0) < amount) {
            throw new Error(`cannot take back ${amount} from ${accountId}: the credited money was spent`);
          }
        }
        return { writes: [update(accountId, 'SET balance = balance - :a, available = available - :a', spendable, amount)] };
      },
    };
  }
}
