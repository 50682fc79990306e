/**
 * AWS's billing rules for DynamoDB, SQS, S3, Step Functions and Lambda, as pure functions.
 * Used by the SDK cost meter (adapters/cost-meter.ts) and the benchmarks. Emulators' own
 * ConsumedCapacity is not trusted: moto reports 1 unit for a 3 KB put and nothing for transactions.
 *
 * Sources: DynamoDB developer guide "Item sizes and formats", "Read/write capacity mode"; the
 * on-demand prices of us-east-1 (see PRICES).
 */
import { utf8Length } from './encoding.js';

/** The shape of a marshalled DynamoDB attribute value (structurally the SDK's AttributeValue). */
export interface AttrValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Uint8Array;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly Uint8Array[];
  readonly M?: Readonly<Record<string, AttrValue>>;
  readonly L?: readonly AttrValue[];
  readonly NULL?: boolean;
  readonly BOOL?: boolean;
}
export type AttrMap = Readonly<Record<string, AttrValue>>;

/** Bytes a number occupies: about one byte per two significant digits, plus one. */
export function numberSize(text: string): number {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function valueSize(v: AttrValue): number {
  if (v.S !== undefined) return utf8Length(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.SS) return v.SS.reduce((n, s) => n + utf8Length(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  // Lists and maps: 3 bytes of overhead plus 1 byte per element.
  if (v.L) return 3 + v.L.reduce((n, e) => n + valueSize(e) + 1, 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + utf8Length(k) + valueSize(e) + 1, 0);
  return 1; // NULL, BOOL
}

/** DynamoDB item size: the UTF-8 length of every attribute name plus the size of its value. */
export function itemSize(item: AttrMap): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8Length(name) + valueSize(value);
  return bytes;
}

const KB = 1024;

/** Write request units for one item write (put, update, delete, or a failed conditional write). */
export function writeUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / KB));
}

/**
 * Read request units for one read of `bytes` (one item for GetItem; the sum of every item the
 * Query read, filtered out or not, for Query). Strong: 1 per 4 KB; eventual: half; minimum 0.5/1.
 */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / (4 * KB)));
  return consistent ? units : units / 2;
}

/** Transactional reads and writes cost twice their plain counterparts. */
export const TRANSACTION_MULTIPLIER = 2;

/** SQS bills each 64 KB chunk of a request's payload as one request. */
export function sqsBilledRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / (64 * KB)));
}

/** us-east-1 on-demand prices in USD, November 2026. */
export const PRICES = {
  dynamoWriteUnit: 0.625e-6,
  dynamoReadUnit: 0.125e-6,
  sqsStandardRequest: 0.4e-6,
  sqsFifoRequest: 0.5e-6,
  s3PutRequest: 0.005e-3,
  s3GetRequest: 0.0004e-3,
  stepFunctionsTransition: 0.025e-3,
  lambdaRequest: 0.2e-6,
  /** arm64, per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** Step Functions Express: per execution started (StartExecution, StartSyncExecution). */
  stepFunctionsExpressRequest: 1e-6,
  /** Step Functions Express: per GB-second of execution (first tier, up to 1,000 GB-hours a month). */
  stepFunctionsExpressGbSecond: 0.00001667,
} as const;

/**
 * GB-seconds one Express execution bills: its duration rounded up to the next 100 ms, times the
 * memory it used rounded up to the next 64 MB (64 MB at least: a transaction's state is a few KB).
 */
export function expressGbSeconds(durationMs: number, memoryMb = 64): number {
  const billedMs = Math.max(100, Math.ceil(durationMs / 100) * 100);
  const billedMb = Math.max(64, Math.ceil(memoryMb / 64) * 64);
  return (billedMs / 1000) * (billedMb / 1024);
}

/** GB-seconds one Lambda invocation bills: its duration rounded up to the next millisecond, times its memory. */
export function lambdaGbSeconds(durationMs: number, memoryMb: number): number {
  return (Math.max(1, Math.ceil(durationMs)) / 1000) * (memoryMb / 1024);
}

export interface UsageTotals {
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly sqsRequests: number;
  readonly sqsFifoRequests?: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly stateTransitions?: number;
  readonly lambdaInvocations?: number;
  readonly lambdaGbSeconds?: number;
  readonly expressRequests?: number;
  readonly expressGbSeconds?: number;
}

export function usd(u: UsageTotals): number {
  return (
    u.writeUnits * PRICES.dynamoWriteUnit +
    u.readUnits * PRICES.dynamoReadUnit +
    u.sqsRequests * PRICES.sqsStandardRequest +
    (u.sqsFifoRequests ?? 0) * PRICES.sqsFifoRequest +
    u.s3Puts * PRICES.s3PutRequest +
    u.s3Gets * PRICES.s3GetRequest +
    (u.stateTransitions ?? 0) * PRICES.stepFunctionsTransition +
    (u.lambdaInvocations ?? 0) * PRICES.lambdaRequest +
    (u.lambdaGbSeconds ?? 0) * PRICES.lambdaArmGbSecond +
    (u.expressRequests ?? 0) * PRICES.stepFunctionsExpressRequest +
    (u.expressGbSeconds ?? 0) * PRICES.stepFunctionsExpressGbSecond
  );
}

/** USD per million units of work (messages, transactions) from totals over `count` units. */
export function usdPerMillion(u: UsageTotals, count: number): number {
  return count === 0 ? 0 : (usd(u) / count) * 1e6;
}
