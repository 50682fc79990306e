/**
 * DESIGN.md "HTTP API (v1)": the queue routes, and the operators' views of queues (docs/operators-api.md).
 * A queue exists on first use; PUT configures it. Bodies are JSON values on the wire and text in the
 * queue (docs/queue.md "Bodies": a string is stored as plain text, any other value as its JSON text
 * marked `application/json`).
 */
import { NotFoundError, ValidationError } from 'concord-aws';
import { ContentType, type DeadLetter, type PeekedMessage, type Queue, type ReceivedMessage, RedriveDefaults } from 'concord-aws/queue';
import { z } from 'zod';
import { withoutUndefined } from '../core/validation.js';
import { ErrorCode } from './errors.js';
import type { ApiDeps } from './ports.js';
import { type AnyRoute, route } from './route.js';
import {
  ackBody,
  ackResponse,
  deadLetterParams,
  deadLetterResponse,
  deadLettersQuery,
  deadLettersResponse,
  eventualByDefault,
  extendBody,
  extendResponse,
  idempotencyHeaders,
  type JsonValue,
  listQueuesQuery,
  listQueuesResponse,
  nackBody,
  nackResponse,
  peekQuery,
  peekResponse,
  queueConfigBody,
  queueConfigResponse,
  queueParams,
  RedriveLimits,
  receiveBody,
  receiveResponse,
  redriveBody,
  redriveOneResponse,
  redriveResponse,
  sendBody,
  sendResponse,
  statsResponse,
} from './schemas.js';

const tag = 'queues';
const iso = (ms: number) => new Date(ms).toISOString();

/** A JSON value as the queue stores it: a string as plain text, anything else as JSON text marked so. */
export function storedBody(value: unknown): { body: string; contentType?: typeof ContentType.Json } {
  return typeof value === 'string' ? { body: value } : { body: JSON.stringify(value), contentType: ContentType.Json };
}

/** A stored body as the JSON value it was sent as. Text a library sender marked JSON is parsed too. */
export function wireBody(message: { readonly body: string; readonly contentType?: string }): JsonValue {
  return message.contentType === ContentType.Json ? (JSON.parse(message.body) as JsonValue) : message.body;
}

/** The wire form of a delivery: DESIGN.md's fields only (no clocks). */
function wireMessage(m: ReceivedMessage) {
  return {
    messageId: m.messageId,
    body: wireBody(m),
    receipt: m.receipt,
    receiveCount: m.receiveCount,
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    fence: m.fence,
  };
}

export function queueRoutes({ queues }: ApiDeps): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/v1/queues/{queue}/messages',
      operationId: 'sendMessage',
      summary: 'Send a message. `Idempotency-Key` is the dedup id: a repeat within the window returns the first message.',
      tag,
      params: queueParams,
      headers: idempotencyHeaders,
      body: sendBody,
      rules: [
        '`Idempotency-Key` and `dedupId`, when both are given, must be equal',
        "on a FIFO queue `groupId` is required and `delaySeconds` is refused (the queue's configuration, not the request, decides)",
      ],
      success: { status: 201, description: 'Stored (or a duplicate of a message stored earlier).', schema: sendResponse },
      errors: [ErrorCode.Conflict],
      handle: async ({ params, headers, body }) => {
        const key = headers['Idempotency-Key'] || undefined;
        if (key !== undefined && body.dedupId !== undefined && key !== body.dedupId) {
          throw new ValidationError(
            'Idempotency-Key',
            `differs from the body's dedupId (${JSON.stringify(key)} vs ${JSON.stringify(body.dedupId)})`,
          );
        }
        const dedupId = key ?? body.dedupId;
        const { body: value, ...fields } = body;
        const { messageId, duplicate } = await queues
          .queue(params.queue)
          .send({ ...withoutUndefined(fields), ...storedBody(value), ...(dedupId !== undefined ? { dedupId } : {}) });
        return { messageId, duplicate };
      },
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/receive',
      operationId: 'receiveMessages',
      summary: 'Lease up to `max` messages; `waitSeconds` long-polls.',
      tag,
      params: queueParams,
      body: receiveBody,
      success: { status: 200, description: 'The leased messages (possibly none).', schema: receiveResponse },
      errors: [],
      handle: async ({ params, body }) => ({ messages: (await queues.queue(params.queue).receive(body)).map(wireMessage) }),
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/ack',
      operationId: 'ackMessage',
      summary: 'Acknowledge (delete) a message. Only the current lease holder can.',
      tag,
      params: queueParams,
      body: ackBody,
      rules: ['`receipt` must be a receipt this queue issued (an opaque token: its format is not part of the contract)'],
      success: { status: 200, description: 'Acknowledged.', schema: ackResponse },
      errors: [ErrorCode.LeaseLost],
      handle: async ({ params, body }) => {
        await queues.queue(params.queue).ack(body.receipt);
        return { acked: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/nack',
      operationId: 'nackMessage',
      summary: 'Give a message back: visible again after `delaySeconds` (default: exponential backoff with jitter).',
      tag,
      params: queueParams,
      body: nackBody,
      rules: ['`receipt` must be a receipt this queue issued (an opaque token: its format is not part of the contract)'],
      success: { status: 200, description: 'Released (or dead-lettered, on its last allowed delivery).', schema: nackResponse },
      errors: [ErrorCode.LeaseLost],
      handle: async ({ params, body }) => {
        const { receipt, ...options } = body;
        await queues.queue(params.queue).nack(receipt, withoutUndefined(options));
        return { nacked: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/extend',
      operationId: 'extendLease',
      summary: 'Heartbeat: the lease now ends `visibilityTimeoutSeconds` from now.',
      tag,
      params: queueParams,
      body: extendBody,
      rules: ['`receipt` must be a receipt this queue issued (an opaque token: its format is not part of the contract)'],
      success: { status: 200, description: 'Extended; use the fresh receipt from now on.', schema: extendResponse },
      errors: [ErrorCode.LeaseLost],
      handle: async ({ params, body }) => {
        const { leaseUntil, receipt } = await queues.queue(params.queue).extend(body.receipt, body.visibilityTimeoutSeconds);
        return { extended: true as const, receipt, leaseUntil: iso(leaseUntil) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/queues/{queue}/stats',
      operationId: 'queueStats',
      summary: 'Counts by state. Reads the whole backlog: for dashboards, not hot paths.',
      tag,
      params: queueParams,
      query: eventualByDefault,
      success: { status: 200, description: 'The counts.', schema: statsResponse },
      errors: [],
      handle: async ({ params, query }) => {
        return wireStats(await queues.queue(params.queue).stats(query));
      },
    }),
    route({
      method: 'get',
      path: '/v1/queues/{queue}/dead-letters',
      operationId: 'listDeadLetters',
      summary: 'Dead letters, oldest first, a page at a time.',
      tag,
      params: queueParams,
      query: deadLettersQuery,
      rules: ['`cursor` must be a `nextCursor` this listing returned (an opaque token)'],
      success: { status: 200, description: 'One page.', schema: deadLettersResponse },
      errors: [],
      handle: async ({ params, query }) => {
        const page = await queues.queue(params.queue).listDeadLetters(withoutUndefined(query));
        return {
          deadLetters: page.deadLetters.map(wireDeadLetter),
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/dead-letters/redrive',
      operationId: 'redriveDeadLetters',
      summary: `Move dead letters back into the queue, oldest first: at most \`max\` (1..${RedriveLimits.maxPerCall}, default ${RedriveDefaults.max}) at \`perSecond\` (default ${RedriveDefaults.perSecond}), for at most ${RedriveLimits.secondsPerCall} s (then \`remaining\` says whether more are waiting).`,
      tag,
      params: queueParams,
      body: redriveBody,
      success: { status: 200, description: 'How many moved, and whether more are waiting.', schema: redriveResponse },
      errors: [],
      handle: async ({ params, body }) => {
        // Bounded in time too: a slow rate must not outlast the request (the caller calls again).
        const { redriven, remaining } = await queues
          .queue(params.queue)
          .redrive({ ...withoutUndefined(body), maxSeconds: RedriveLimits.secondsPerCall });
        return { redriven, remaining };
      },
    }),
    route({
      method: 'get',
      path: '/v1/queues/{queue}/dead-letters/{messageId}',
      operationId: 'getDeadLetter',
      summary: "One dead letter (a query of the queue's dead-letter partition, filtered on the id: always strong).",
      tag,
      params: deadLetterParams,
      query: eventualByDefault,
      success: { status: 200, description: 'The dead letter.', schema: deadLetterResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params }) => ({
        ...wireDeadLetter(await deadLetter(queues.queue(params.queue), params.messageId)),
        consistency: 'strong' as const,
      }),
    }),
    route({
      method: 'delete',
      path: '/v1/queues/{queue}/dead-letters/{messageId}',
      operationId: 'deleteDeadLetter',
      summary: 'Delete one dead letter for good.',
      tag,
      params: deadLetterParams,
      success: { status: 204, description: 'Deleted.', schema: z.undefined() },
      errors: [ErrorCode.NotFound],
      handle: async ({ params }) => {
        if (!(await queues.queue(params.queue).deleteDeadLetter(params.messageId))) throw noDeadLetter(params.queue, params.messageId);
        return undefined;
      },
    }),
    route({
      method: 'post',
      path: '/v1/queues/{queue}/dead-letters/{messageId}/redrive',
      operationId: 'redriveDeadLetter',
      summary: 'Move one dead letter back into the queue (its fence goes on growing, Q2).',
      tag,
      params: deadLetterParams,
      success: { status: 200, description: 'Moved.', schema: redriveOneResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params }) => {
        if (!(await queues.queue(params.queue).redriveDeadLetter(params.messageId))) throw noDeadLetter(params.queue, params.messageId);
        return { messageId: params.messageId, redriven: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/v1/queues/{queue}/messages',
      operationId: 'peekMessages',
      summary:
        "The stored messages in one `state` (default `visible`), a page at a time. Leases nothing; shows an in-flight message's lease expiry and fence, never its receipt.",
      tag,
      params: queueParams,
      query: peekQuery,
      rules: ['`cursor` must be a `nextCursor` this listing returned (an opaque token)'],
      success: { status: 200, description: 'One page (it may hold fewer than `limit` with `nextCursor` set).', schema: peekResponse },
      errors: [],
      handle: async ({ params, query }) => {
        const page = await queues.queue(params.queue).peek(withoutUndefined(query));
        const now = Date.now();
        return {
          messages: page.messages.map((m) => wirePeeked(m, now)),
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/queues',
      operationId: 'listQueues',
      summary:
        "Every queue used or configured, in name order, with its configuration and stats (each queue's stats read its backlog: keep pages small on big queues).",
      tag,
      query: listQueuesQuery,
      rules: ['`cursor` must be a `nextCursor` this listing returned (an opaque token)'],
      success: { status: 200, description: 'One page.', schema: listQueuesResponse },
      errors: [],
      handle: async ({ query }) => {
        const page = await queues.list(withoutUndefined(query));
        const listed = await Promise.all(
          page.queues.map(async (name) => {
            const queue = queues.queue(name);
            const [config, stats] = await Promise.all([queue.getConfig(), queue.stats({ consistency: query.consistency })]);
            return {
              queue: name,
              config: {
                maxReceiveCount: config.maxReceiveCount,
                visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
                fifo: config.fifo,
                shards: config.shards,
                dedupWindowSeconds: config.dedupWindowSeconds,
              },
              stats: wireStats(stats),
            };
          }),
        );
        return {
          queues: listed,
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'put',
      path: '/v1/queues/{queue}',
      operationId: 'configureQueue',
      summary: 'Set the queue configuration; fields left out keep their value (defaults: 5, 30, false).',
      tag,
      params: queueParams,
      body: queueConfigBody,
      success: { status: 200, description: 'The configuration now in force.', schema: queueConfigResponse },
      errors: [ErrorCode.Conflict],
      handle: async ({ params, body }) => {
        const config = await queues.queue(params.queue).configure(body);
        return {
          queue: params.queue,
          maxReceiveCount: config.maxReceiveCount,
          visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
          fifo: config.fifo,
          shards: config.shards,
          dedupWindowSeconds: config.dedupWindowSeconds,
        };
      },
    }),
  ];
}

function wireStats(s: Awaited<ReturnType<Queue['stats']>>) {
  const { visible, inFlight, delayed, deadLettered, oldestAgeSeconds, consistency } = s;
  return { visible, inFlight, delayed, deadLettered, oldestAgeSeconds, consistency };
}

function wireDeadLetter(d: DeadLetter) {
  return {
    messageId: d.messageId,
    body: wireBody(d),
    ...(d.groupId !== undefined ? { groupId: d.groupId } : {}),
    receiveCount: d.receiveCount,
    sentAt: iso(d.sentAt),
    deadLetteredAt: iso(d.deadLetteredAt),
    reason: d.reason,
  };
}

/** Ages are the API's clock against the message's `sentAt` (both wall clocks; never negative). */
function wirePeeked(m: PeekedMessage, now: number) {
  return {
    messageId: m.messageId,
    state: m.state,
    body: wireBody(m),
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    receiveCount: m.receiveCount,
    sentAt: iso(m.sentAt),
    ageSeconds: Math.max(0, Math.floor((now - m.sentAt) / 1000)),
    visibleAt: iso(m.visibleAt),
    ...(m.leaseUntil !== undefined ? { leaseExpiresAt: iso(m.leaseUntil) } : {}),
    ...(m.fence !== undefined ? { fence: m.fence } : {}),
  };
}

const noDeadLetter = (queue: string, messageId: string) =>
  new NotFoundError(`no dead letter ${JSON.stringify(messageId)} in queue ${JSON.stringify(queue)}`);

async function deadLetter(queue: Queue, messageId: string): Promise<DeadLetter> {
  const found = await queue.getDeadLetter(messageId);
  if (!found) throw noDeadLetter(queue.name, messageId);
  return found;
}
