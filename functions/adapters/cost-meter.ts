/**
 * An AWS SDK v3 middleware that counts requests and the units AWS bills for them (DESIGN.md, "The
 * cost model is part of the product"). It sits below the retry middleware, so every attempt that
 * reached the service is counted, including attempts whose response was lost.
 *
 * DynamoDB units are computed from item sizes by AWS's rules (core/cost.ts), never taken from the
 * service's ConsumedCapacity. Sizes the meter cannot see in the request or response (the item
 * before an UpdateItem or DeleteItem, items a Query filtered out) come from a bounded registry of
 * item images the meter has seen, or are estimated; `estimatedOperations` says how often.
 */
import type { AttrMap, AttrValue } from '../core/cost.js';
import { itemSize, readUnits, sqsBilledRequests, TRANSACTION_MULTIPLIER, type UsageTotals, writeUnits } from '../core/cost.js';
import { utf8Length } from '../core/encoding.js';
import { applyUpdateExpression } from '../core/update-image.js';

/** Any AWS SDK v3 client (typed loosely so one meter serves every service's client). */
interface ClientLike {
  middlewareStack: { addRelativeTo(middleware: never, options: never): void };
}
type AddRelativeTo = (middleware: unknown, options: Record<string, unknown>) => void;

export const COST_METER_MIDDLEWARE = 'concordCostMeter';

export interface CostSnapshot extends UsageTotals {
  /** Requests that reached a service, per `Service.Operation`. */
  readonly requests: Readonly<Record<string, number>>;
  readonly dynamoWriteRequests: number;
  readonly dynamoReadRequests: number;
  readonly failedConditionalWrites: number;
  readonly estimatedOperations: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const emptyTotals = (): Mutable<Omit<CostSnapshot, 'requests'>> & { requests: Record<string, number> } => ({
  requests: {},
  writeUnits: 0,
  readUnits: 0,
  sqsRequests: 0,
  sqsFifoRequests: 0,
  s3Puts: 0,
  s3Gets: 0,
  dynamoWriteRequests: 0,
  dynamoReadRequests: 0,
  failedConditionalWrites: 0,
  estimatedOperations: 0,
});

interface DynamoWrite {
  table: string;
  key: AttrMap;
  kind: 'put' | 'update' | 'delete' | 'check';
  item?: AttrMap;
  update?: { expression: string; names?: Record<string, string>; values?: Record<string, AttrValue> };
}

const DEFAULT_KEY_ATTRIBUTES = ['pk', 'sk'];

export class CostMeter {
  private totals = emptyTotals();
  private readonly images = new Map<string, AttrMap>();
  private readonly keyAttributes = new Map<string, readonly string[]>();

  constructor(private readonly maxImages = 200_000) {}

  /** Tables whose key attributes are not `pk`/`sk`. */
  registerTable(table: string, keyAttributes: readonly string[]): this {
    this.keyAttributes.set(table, keyAttributes);
    return this;
  }

  /** Adds the metering middleware to an SDK client (DynamoDB, SQS, S3, SFN, Lambda). Idempotent. */
  attach<C extends ClientLike>(client: C, service: string): C {
    const middleware =
      (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) =>
      async (args: { input: Record<string, unknown> }) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        try {
          const result = await next(args);
          this.record(service, operation, args.input, result.output, undefined);
          return result;
        } catch (error) {
          this.record(service, operation, args.input, undefined, error);
          throw error;
        }
      };
    const stack = client.middlewareStack;
    (stack.addRelativeTo as AddRelativeTo).call(stack, middleware, {
      name: COST_METER_MIDDLEWARE,
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      override: true,
    });
    return client;
  }

  snapshot(): CostSnapshot {
    return { ...this.totals, requests: { ...this.totals.requests } };
  }

  reset(): void {
    this.totals = emptyTotals();
  }

  /** Differences between two snapshots (after - before). */
  static diff(after: CostSnapshot, before: CostSnapshot): CostSnapshot {
    const requests: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.requests)) {
      const d = v - (before.requests[k] ?? 0);
      if (d) requests[k] = d;
    }
    const numeric = (k: keyof CostSnapshot) => ((after[k] as number) ?? 0) - ((before[k] as number) ?? 0);
    return {
      requests,
      writeUnits: numeric('writeUnits'),
      readUnits: numeric('readUnits'),
      sqsRequests: numeric('sqsRequests'),
      sqsFifoRequests: numeric('sqsFifoRequests'),
      s3Puts: numeric('s3Puts'),
      s3Gets: numeric('s3Gets'),
      dynamoWriteRequests: numeric('dynamoWriteRequests'),
      dynamoReadRequests: numeric('dynamoReadRequests'),
      failedConditionalWrites: numeric('failedConditionalWrites'),
      estimatedOperations: numeric('estimatedOperations'),
    };
  }

  private record(
    service: string,
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
    error: unknown,
  ): void {
    // A request that failed before reaching the service (no HTTP status) is not billed.
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    if (error && status === undefined) return;
    if (error && status !== undefined && status >= 500) return;
    if (error && isThrottle(error)) return;
    // Only condition failures (and canceled transactions) are billed among client errors; a
    // request DynamoDB rejects as invalid does no work.
    if (error && service === 'DynamoDB' && !isBilledDynamoFailure(error)) return;
    const name = `${service}.${operation}`;
    this.totals.requests[name] = (this.totals.requests[name] ?? 0) + 1;
    if (service === 'DynamoDB') this.recordDynamo(operation, input, output, error);
    else if (service === 'SQS') this.recordSqs(operation, input);
    else if (service === 'S3') {
      if (operation === 'GetObject' || operation === 'HeadObject') this.totals.s3Gets++;
      else if (operation !== 'DeleteObject') this.totals.s3Puts++;
    }
  }

  private recordSqs(operation: string, input: Record<string, unknown>): void {
    const queueUrl = String(input.QueueUrl ?? '');
    let payload = 0;
    if (operation === 'SendMessage') payload = utf8Length(String(input.MessageBody ?? ''));
    if (operation === 'SendMessageBatch') {
      for (const entry of (input.Entries as Array<{ MessageBody?: string }>) ?? []) payload += utf8Length(entry.MessageBody ?? '');
    }
    const billed = sqsBilledRequests(payload);
    if (queueUrl.endsWith('.fifo')) this.totals.sqsFifoRequests = (this.totals.sqsFifoRequests ?? 0) + billed;
    else this.totals.sqsRequests += billed;
  }

  private recordDynamo(
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
    error: unknown,
  ): void {
    const table = String(input.TableName ?? '');
    switch (operation) {
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem': {
        const write = this.describeSingleWrite(operation, input);
        const old = (error as { Item?: AttrMap } | undefined)?.Item ?? (output?.Attributes as AttrMap | undefined);
        // The old image is known when the service returned it (or said there was none).
        const oldKnown = error ? input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' : input.ReturnValues === 'ALL_OLD';
        this.totals.dynamoWriteRequests++;
        this.totals.writeUnits += this.billWrite(write, error ? 'failed' : 'applied', old, oldKnown);
        if (error) this.totals.failedConditionalWrites++;
        return;
      }
      case 'TransactWriteItems': {
        const reasons = (error as { CancellationReasons?: Array<{ Code?: string; Item?: AttrMap }> } | undefined)?.CancellationReasons;
        const writes = ((input.TransactItems as Array<Record<string, Record<string, unknown>>>) ?? []).map((t) =>
          this.describeTransactItem(t),
        );
        this.totals.dynamoWriteRequests += writes.length;
        writes.forEach((write, i) => {
          const reason = reasons?.[i];
          const failed = error !== undefined;
          const old = reason?.Item;
          this.totals.writeUnits += TRANSACTION_MULTIPLIER * this.billWrite(write, failed ? 'failed' : 'applied', old, old !== undefined);
          if (reason?.Code === 'ConditionalCheckFailed') this.totals.failedConditionalWrites++;
        });
        return;
      }
      case 'BatchWriteItem': {
        const requests =
          (input.RequestItems as Record<string, Array<{ PutRequest?: { Item: AttrMap }; DeleteRequest?: { Key: AttrMap } }>>) ?? {};
        const unprocessed =
          (output?.UnprocessedItems as
            | Record<string, Array<{ PutRequest?: { Item: AttrMap }; DeleteRequest?: { Key: AttrMap } }>>
            | undefined) ?? {};
        for (const [tableName, entries] of Object.entries(requests)) {
          // Any subset may come back unprocessed (not applied, not billed): match them by key.
          const keyOfRequest = (e: { PutRequest?: { Item: AttrMap }; DeleteRequest?: { Key: AttrMap } }) =>
            this.imageKey(tableName, e.PutRequest?.Item ?? e.DeleteRequest?.Key ?? {});
          const skipped = new Set((unprocessed[tableName] ?? []).map(keyOfRequest));
          entries
            .filter((e) => !skipped.has(keyOfRequest(e)))
            .forEach((e) => {
              const write: DynamoWrite = e.PutRequest
                ? { table: tableName, key: this.keyOf(tableName, e.PutRequest.Item), kind: 'put', item: e.PutRequest.Item }
                : { table: tableName, key: e.DeleteRequest?.Key ?? {}, kind: 'delete' };
              this.totals.dynamoWriteRequests++;
              this.totals.writeUnits += this.billWrite(write, 'applied', undefined, false);
            });
        }
        return;
      }
      case 'GetItem': {
        this.totals.dynamoReadRequests++;
        const item = output?.Item as AttrMap | undefined;
        // A projection returns part of the item; AWS bills the whole item read.
        const projected = input.ProjectionExpression !== undefined;
        const full = item && projected ? (this.images.get(this.imageKey(table, input.Key as AttrMap)) ?? item) : item;
        if (item && !projected) this.remember(table, item);
        this.totals.readUnits += readUnits(full ? itemSize(full) : 0, input.ConsistentRead === true);
        return;
      }
      case 'Query':
      case 'Scan': {
        this.totals.dynamoReadRequests++;
        const items = (output?.Items as AttrMap[] | undefined) ?? [];
        const projected = input.ProjectionExpression !== undefined || input.Select === 'COUNT';
        let bytes = 0;
        let known = 0;
        for (const item of items) {
          const full = projected ? this.images.get(this.imageKey(table, item)) : item;
          if (!projected) this.remember(table, item);
          if (full) {
            bytes += itemSize(full);
            known++;
          }
        }
        const scanned = Number(output?.ScannedCount ?? items.length);
        const unseen = scanned - known;
        if (unseen > 0) {
          // Items read but not returned (filtered out or projected away): billed all the same.
          const average = known > 0 ? bytes / known : this.averageImageSize(table);
          bytes += unseen * average;
          this.totals.estimatedOperations++;
        }
        this.totals.readUnits += readUnits(bytes, input.ConsistentRead === true);
        return;
      }
      case 'TransactGetItems': {
        const responses = (output?.Responses as Array<{ Item?: AttrMap }> | undefined) ?? [];
        for (const r of responses) {
          this.totals.dynamoReadRequests++;
          this.totals.readUnits += TRANSACTION_MULTIPLIER * readUnits(r.Item ? itemSize(r.Item) : 0, true);
        }
        return;
      }
      case 'BatchGetItem': {
        const responses = (output?.Responses as Record<string, AttrMap[]> | undefined) ?? {};
        const consistent =
          Object.values((input.RequestItems as Record<string, { ConsistentRead?: boolean }>) ?? {})[0]?.ConsistentRead === true;
        for (const [tableName, items] of Object.entries(responses)) {
          for (const item of items) {
            this.remember(tableName, item);
            this.totals.dynamoReadRequests++;
            this.totals.readUnits += readUnits(itemSize(item), consistent);
          }
        }
        return;
      }
      default:
        return; // control-plane calls are not billed per request
    }
  }

  /**
   * Units for one item write. Applied: put bills the new item, update the larger of before and
   * after, delete the deleted item. Failed condition: the larger of the existing and the new item.
   */
  private billWrite(write: DynamoWrite, outcome: 'applied' | 'failed', oldImage: AttrMap | undefined, oldImageKnown: boolean): number {
    const id = this.imageKey(write.table, write.key);
    let before = oldImageKnown ? oldImage : this.images.get(id);
    if (!oldImageKnown && !this.images.has(id) && write.kind !== 'put') {
      this.totals.estimatedOperations++;
      before = undefined;
    }
    const after =
      write.kind === 'put'
        ? write.item
        : write.kind === 'update' && write.update
          ? applyUpdateExpression(before ?? write.key, write.update.expression, write.update.names, write.update.values)
          : undefined;
    const beforeBytes = before ? itemSize(before) : 0;
    const afterBytes = after ? itemSize(after) : 0;
    if (outcome === 'applied') {
      if (write.kind === 'delete') this.images.delete(id);
      else if (after && write.kind !== 'check') this.remember(write.table, after);
    } else if (before) {
      this.remember(write.table, before);
    } else {
      this.images.delete(id);
    }
    if (write.kind === 'delete' && outcome === 'applied') return writeUnits(beforeBytes);
    return writeUnits(Math.max(beforeBytes, afterBytes));
  }

  private describeSingleWrite(operation: string, input: Record<string, unknown>): DynamoWrite {
    const table = String(input.TableName ?? '');
    if (operation === 'PutItem') {
      const item = input.Item as AttrMap;
      return { table, key: this.keyOf(table, item), kind: 'put', item };
    }
    const key = input.Key as AttrMap;
    if (operation === 'DeleteItem') return { table, key, kind: 'delete' };
    return {
      table,
      key,
      kind: 'update',
      update: {
        expression: String(input.UpdateExpression ?? ''),
        ...(input.ExpressionAttributeNames ? { names: input.ExpressionAttributeNames as Record<string, string> } : {}),
        ...(input.ExpressionAttributeValues ? { values: input.ExpressionAttributeValues as Record<string, AttrValue> } : {}),
      },
    };
  }

  private describeTransactItem(t: Record<string, Record<string, unknown>>): DynamoWrite {
    if (t.Put) return this.describeSingleWrite('PutItem', t.Put);
    if (t.Update) return this.describeSingleWrite('UpdateItem', t.Update);
    if (t.Delete) return this.describeSingleWrite('DeleteItem', t.Delete);
    const check = t.ConditionCheck ?? {};
    return { table: String(check.TableName ?? ''), key: check.Key as AttrMap, kind: 'check' };
  }

  private keyOf(table: string, item: AttrMap): AttrMap {
    const names = this.keyAttributes.get(table) ?? DEFAULT_KEY_ATTRIBUTES;
    return Object.fromEntries(names.filter((n) => item[n] !== undefined).map((n) => [n, item[n] as AttrValue]));
  }

  private imageKey(table: string, itemOrKey: AttrMap): string {
    const names = this.keyAttributes.get(table) ?? DEFAULT_KEY_ATTRIBUTES;
    return `${table}\u0000${names.map((n) => JSON.stringify(itemOrKey[n] ?? null)).join('\u0000')}`;
  }

  private remember(table: string, item: AttrMap): void {
    const id = this.imageKey(table, item);
    this.images.delete(id);
    this.images.set(id, item);
    if (this.images.size > this.maxImages) {
      const oldest = this.images.keys().next().value;
      if (oldest !== undefined) this.images.delete(oldest);
    }
  }

  private averageImageSize(table: string): number {
    let total = 0;
    let count = 0;
    for (const [id, item] of this.images) {
      if (!id.startsWith(`${table}\u0000`)) continue;
      total += itemSize(item);
      if (++count >= 256) break;
    }
    return count ? total / count : 1024;
  }
}

function isBilledDynamoFailure(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name);
}
