/**
 * The API's request and response schemas. Queue inputs reuse the library's own schemas
 * (core/queue/config.ts), so the edge and the library cannot disagree; the example bank's are new.
 * The OpenAPI document is generated from these same objects (openapi.ts).
 */

import { ParticipantState, TimelineEventKind, TxEngine, TxMode, TxStatus } from 'concord-aws/tx';
import { z } from 'zod';
import { BANK_NAMES, type BankName } from '../bank/transfer.js';
import {
  extendInputSchema,
  messageIdSchema,
  nackInputSchema,
  peekInputSchema,
  queueConfigPatchSchema,
  queueNameSchema,
  receiveInputSchema,
  sendInputSchema,
} from '../core/queue/config.js';

// -------------------------------------------------------------------------------------------------
// Shared pieces

export const Consistency = { Strong: 'strong', Eventual: 'eventual' } as const;
export type Consistency = (typeof Consistency)[keyof typeof Consistency];
export const consistencySchema = z.enum([Consistency.Strong, Consistency.Eventual]);

/** DESIGN.md: every GET takes `?consistency=strong|eventual`; the default depends on the route. */
const consistencyQuery = (fallback: Consistency) => z.object({ consistency: consistencySchema.default(fallback) }).strict();
export const strongByDefault = consistencyQuery(Consistency.Strong);
export const eventualByDefault = consistencyQuery(Consistency.Eventual);

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);
/** Every page: `limit` 1..100 (default 25), `cursor` the previous page's `nextCursor`. */
const pageLimit = z.coerce.number().int().min(1).max(100).optional();
const pageCursor = z.string().min(1).optional();

// -------------------------------------------------------------------------------------------------
// Queues

export const queueParams = z.object({ queue: queueNameSchema }).strict();

/** The library decodes and checks a receipt; here it only has to be a string. */
const receipt = z.string().min(1);

/**
 * Any JSON value (object, array, number, boolean, null or string), without a recursive `$ref`, so
 * the document stays self-contained. The queue stores a string as plain text and anything else as
 * its JSON text marked `application/json` (docs/queue.md "Bodies"); both come back as sent.
 */
export const jsonValue = z
  .union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.object({}).loose()])
  .meta({ description: 'Any JSON value; delivered as the same value (a string stays a string).' });
export type JsonValue = z.output<typeof jsonValue>;

export const sendBody = z
  .object({
    body: jsonValue,
    groupId: sendInputSchema.shape.groupId,
    dedupId: sendInputSchema.shape.dedupId,
    delaySeconds: sendInputSchema.shape.delaySeconds,
  })
  .strict();
/** The header form of `dedupId` (DESIGN.md Q5): same rules as the body field. */
/**
 * An empty value is the same as none: gateways drop empty headers on the way to the function (the
 * emulator's did, docs/emulators.md), so the app treats both alike rather than answer two ways.
 */
export const idempotencyHeaders = z
  .object({
    'Idempotency-Key': z
      .union([z.literal(''), sendInputSchema.shape.dedupId.unwrap()])
      .optional()
      .meta({ description: 'The dedup id (same rules as `dedupId`); empty is the same as none.' }),
  })
  .strict();
export const receiveBody = receiveInputSchema;
export const ackBody = z.object({ receipt }).strict();
export const nackBody = z.object({ receipt, ...nackInputSchema.shape }).strict();
export const extendBody = z.object({ receipt, ...extendInputSchema.shape }).strict();
export const queueConfigBody = queueConfigPatchSchema;

/**
 * The library allows up to 10 000 moves per call; over HTTP a call must finish within API
 * Gateway's 30 s, so at most 1 000 (20 s at the default 50 per second). `remaining` says whether
 * to call again.
 */
/**
 * `secondsPerCall`: one call ends well inside the API's 30 s integration timeout, with `remaining`
 * true if it stopped early (a redrive is resumable: call again for the rest).
 */
export const RedriveLimits = { maxPerCall: 1_000, maxPerSecond: 1_000, secondsPerCall: 20 } as const;
export const redriveBody = z
  .object({
    max: z.number().int().min(1).max(RedriveLimits.maxPerCall).optional(),
    perSecond: z.number().gt(0).max(RedriveLimits.maxPerSecond).optional(),
  })
  .strict();

export const deadLettersQuery = z
  .object({
    consistency: consistencySchema.default(Consistency.Eventual),
    limit: z.coerce.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).optional(),
  })
  .strict();

export const sendResponse = z.object({ messageId: z.string(), duplicate: z.boolean() }).strict();

export const receivedMessageSchema = z
  .object({
    messageId: z.string(),
    body: jsonValue,
    receipt: z.string(),
    receiveCount: z.number().int().min(1),
    groupId: z.string().optional(),
    /** Grows with every lease of the message: guard your own writes with it. */
    fence: z.number().int().min(1),
  })
  .strict();
export const receiveResponse = z.object({ messages: z.array(receivedMessageSchema) }).strict();

export const ackResponse = z.object({ acked: z.literal(true) }).strict();
export const nackResponse = z.object({ nacked: z.literal(true) }).strict();
/** A fresh receipt: it carries the new expiry (the old one still works, but settles lost acks less well). */
export const extendResponse = z.object({ extended: z.literal(true), receipt: z.string(), leaseUntil: timestamp }).strict();

export const statsResponse = z
  .object({
    visible: count,
    inFlight: count,
    delayed: count,
    deadLettered: count,
    /** Age of the oldest message not yet acked and not delayed (standard queues; 0 when none or FIFO). */
    oldestAgeSeconds: count,
    consistency: consistencySchema,
  })
  .strict();

const deadLetterShape = {
  messageId: z.string(),
  body: jsonValue,
  groupId: z.string().optional(),
  receiveCount: count,
  sentAt: timestamp,
  deadLetteredAt: timestamp,
  reason: z.string(),
};
export const deadLetterResponse = z.object({ ...deadLetterShape, consistency: consistencySchema }).strict();

export const deadLettersResponse = z
  .object({
    deadLetters: z.array(
      z
        .object({
          ...deadLetterShape,
        })
        .strict(),
    ),
    /** Pass as `?cursor=` for the next page; absent on the last page. */
    nextCursor: z.string().optional(),
    consistency: consistencySchema,
  })
  .strict();

export const redriveResponse = z.object({ redriven: count, remaining: z.boolean() }).strict();

export const deadLetterParams = z.object({ queue: queueNameSchema, messageId: messageIdSchema }).strict();
export const redriveOneResponse = z.object({ messageId: z.string(), redriven: z.literal(true) }).strict();

export const peekQuery = z
  .object({
    state: peekInputSchema.shape.state.default('visible'),
    consistency: consistencySchema.default(Consistency.Eventual),
    limit: pageLimit,
    cursor: pageCursor,
  })
  .strict();

export const peekResponse = z
  .object({
    messages: z.array(
      z
        .object({
          messageId: z.string(),
          state: peekInputSchema.shape.state,
          body: jsonValue,
          groupId: z.string().optional(),
          /** Deliveries so far (0: never received). */
          receiveCount: count,
          sentAt: timestamp,
          ageSeconds: count,
          visibleAt: timestamp,
          /** In flight only: when the current lease ends. */
          leaseExpiresAt: timestamp.optional(),
          /** In flight only: the current lease's fencing token (the receipt is never shown). */
          fence: z.number().int().min(1).optional(),
        })
        .strict(),
    ),
    nextCursor: z.string().optional(),
    consistency: consistencySchema,
  })
  .strict();

export const listQueuesQuery = z
  .object({
    consistency: consistencySchema.default(Consistency.Eventual),
    limit: pageLimit,
    cursor: pageCursor,
  })
  .strict();

const queueConfigShape = {
  maxReceiveCount: z.number().int(),
  visibilityTimeoutSeconds: z.number().int(),
  fifo: z.boolean(),
  shards: z.number().int(),
  dedupWindowSeconds: z.number().int(),
};
export const queueConfigResponse = z.object({ queue: z.string(), ...queueConfigShape }).strict();

export const listQueuesResponse = z
  .object({
    queues: z.array(
      z
        .object({
          queue: z.string(),
          config: z.object(queueConfigShape).strict(),
          stats: statsResponse,
        })
        .strict(),
    ),
    nextCursor: z.string().optional(),
    consistency: consistencySchema,
  })
  .strict();

// -------------------------------------------------------------------------------------------------
// The example bank

export { BANK_NAMES, type BankName };
export const bankNameSchema = z.enum(BANK_NAMES);
/** The bank's own rule (functions/bank/bank.ts ACCOUNT_ID), checked here so that nothing bad is written. */
export const accountIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must match [A-Za-z0-9_-]{1,64}');
/** The coordinator's rule for transaction ids (adapters/tx/coordinator.ts TX_ID). */
export const transactionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must match [A-Za-z0-9_-]{1,80}');
/** Minor units (cents): integers, so that totals are exact. */
const money = z.number().int();

export const accountParams = z.object({ bank: bankNameSchema, id: accountIdSchema }).strict();
export const openAccountBody = z.object({ bank: bankNameSchema, id: accountIdSchema, balance: money.min(0) }).strict();
export const accountResponse = z.object({ bank: bankNameSchema, id: z.string(), balance: money, held: money }).strict();
export const accountReadResponse = accountResponse.extend({ consistency: consistencySchema }).strict();

const accountRef = z.object({ bank: bankNameSchema, id: accountIdSchema }).strict();
export const transferModeSchema = z.enum([TxMode.TwoPhaseCommit, TxMode.Saga]);
export const transferEngineSchema = z.enum([TxEngine.Standard, TxEngine.Express]);
export const transferBody = z
  .object({
    from: accountRef,
    // The one rule JSON Schema cannot state; the document says it in words.
    to: accountRef.meta({ description: 'The account credited; must differ from `from`.' }),
    amount: money.positive(),
    mode: transferModeSchema.default(TxMode.TwoPhaseCommit),
    /** The coordinator's engine; default: `express` when `wait` is true, else `standard`. */
    engine: transferEngineSchema.optional(),
    /**
     * Answer when the transfer has ended, with its final status (express engine only: one
     * StartSyncExecution). A run cut short answers PENDING and the sweeper finishes it.
     */
    wait: z.boolean().default(false),
    /** Makes the request idempotent: a repeat returns the transfer started first. */
    transferId: transactionIdSchema.optional(),
  })
  .strict()
  .refine((t) => !(t.wait && t.engine === TxEngine.Standard), {
    path: ['wait'],
    message: 'needs the express engine: the standard engine cannot run a transfer synchronously',
  })
  .refine((t) => t.from.bank !== t.to.bank || t.from.id !== t.to.id, {
    path: ['to'],
    message: 'must be a different account from `from`',
  });
export type TransferBody = z.output<typeof transferBody>;

/** `{id}` of a transfer or transaction: a transfer is a transaction of the example's types. */
export const transactionParams = z.object({ id: transactionIdSchema }).strict();
const txStatusSchema = z.enum([TxStatus.Pending, TxStatus.Committed, TxStatus.Aborted, TxStatus.Stuck]);
export const transferAcceptedResponse = z
  .object({
    transferId: z.string(),
    status: txStatusSchema,
    /** True when `transferId` was already used: this is the transfer started then (its amounts may differ). */
    duplicate: z.boolean(),
  })
  .strict();

/**
 * What the API puts in each participant's payload: the bank's TransferLeg plus the bank's name, so
 * that a transfer's view can find each leg's participant record (the coordinator's view does not
 * return the queue URLs). The bank's handlers ignore the extra field.
 */
export const transferLegPayload = z.object({
  kind: z.enum(['debit', 'credit']),
  accountId: z.string(),
  amount: money,
  bank: bankNameSchema,
});
export type TransferLegPayload = z.output<typeof transferLegPayload>;

const participantStateSchema = z.enum(Object.values(ParticipantState) as [ParticipantState, ...ParticipantState[]]);
export const transferViewResponse = z
  .object({
    transferId: z.string(),
    status: txStatusSchema,
    mode: transferModeSchema,
    /** Why it aborted (e.g. "insufficient funds"), when it did. */
    reason: z.string().optional(),
    participants: z.array(
      z
        .object({
          name: z.string(),
          bank: bankNameSchema.nullable(),
          accountId: z.string().nullable(),
          amount: money.nullable(),
          /** The participant's own record in its bank; null until it has handled a message. */
          state: participantStateSchema.nullable(),
        })
        .strict(),
    ),
    createdAt: timestamp,
    completedAt: timestamp.optional(),
    consistency: consistencySchema,
  })
  .strict();

export const transactionViewResponse = z
  .object({
    txId: z.string(),
    type: z.string(),
    mode: z.string(),
    engine: z.string().optional(),
    status: txStatusSchema,
    epoch: z.number().int(),
    participants: z.array(z.object({ name: z.string(), payload: z.unknown() }).strict()),
    decision: z.string().optional(),
    decisionReason: z.string().optional(),
    decidedAt: z.string().optional(),
    createdAt: timestamp,
    completedAt: z.string().optional(),
    deadline: timestamp,
    recoveries: count,
    consistency: consistencySchema,
  })
  .strict();

export const openApiResponse = z.object({ openapi: z.string(), info: z.object({}).loose(), paths: z.object({}).loose() }).loose();

// -------------------------------------------------------------------------------------------------
// Transactions (the operators' views: docs/operators-api.md)

export const listTransactionsQuery = z
  .object({
    status: txStatusSchema.default(TxStatus.Pending),
    /** The by-status index is a GSI: its reads are eventually consistent only. */
    consistency: z.literal(Consistency.Eventual).default(Consistency.Eventual),
    limit: pageLimit,
    cursor: pageCursor,
  })
  .strict();

/** What names a transaction in a listing and in its timeline. */
const transactionIdentity = {
  txId: z.string(),
  type: z.string(),
  mode: z.string(),
  engine: z.string(),
  status: txStatusSchema,
};

export const listTransactionsResponse = z
  .object({
    transactions: z.array(
      z
        .object({
          ...transactionIdentity,
          createdAt: timestamp,
          completedAt: z.string().optional(),
          participants: z.array(z.string()),
        })
        .strict(),
    ),
    nextCursor: z.string().optional(),
    consistency: consistencySchema,
  })
  .strict();

const timelineKindSchema = z.enum(Object.values(TimelineEventKind) as [TimelineEventKind, ...TimelineEventKind[]]);

export const timelineResponse = z
  .object({
    ...transactionIdentity,
    /** In time order (ties in protocol order); times from several clocks (docs/operators-api.md). */
    events: z.array(
      z
        .object({
          at: timestamp,
          kind: timelineKindSchema,
          participant: z.string().optional(),
          epoch: z.number().int().min(1).optional(),
          outcome: z.string().optional(),
          detail: z.string().optional(),
        })
        .strict(),
    ),
    consistency: consistencySchema,
  })
  .strict();

export const timelineQuery = z.object({ consistency: z.literal(Consistency.Strong).default(Consistency.Strong) }).strict();

export const retryResponse = z.object({ txId: z.string(), status: txStatusSchema, epoch: z.number().int().min(2) }).strict();
