/** DESIGN.md "HTTP API (v1)": the queue routes. A queue exists on first use; PUT configures it. */
import { ValidationError } from 'concord-aws';
import { type ReceivedMessage, RedriveDefaults } from 'concord-aws/queue';
import { withoutUndefined } from '../core/validation.js';
import { ErrorCode } from './errors.js';
import type { ApiDeps } from './ports.js';
import { type AnyRoute, route } from './route.js';
import {
  ackBody,
  ackResponse,
  deadLettersQuery,
  deadLettersResponse,
  eventualByDefault,
  extendBody,
  extendResponse,
  idempotencyHeaders,
  nackBody,
  nackResponse,
  queueConfigBody,
  queueConfigResponse,
  queueParams,
  RedriveLimits,
  receiveBody,
  receiveResponse,
  redriveBody,
  redriveResponse,
  sendBody,
  sendResponse,
  statsResponse,
} from './schemas.js';

const tag = 'queues';
const iso = (ms: number) => new Date(ms).toISOString();

/** The wire form of a delivery: DESIGN.md's fields only (no clocks). */
function wireMessage(m: ReceivedMessage) {
  return {
    messageId: m.messageId,
    body: m.body,
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
      success: { status: 201, description: 'Stored (or a duplicate of a message stored earlier).', schema: sendResponse },
      errors: [ErrorCode.Conflict],
      handle: async ({ params, headers, body }) => {
        const key = headers['Idempotency-Key'];
        if (key !== undefined && body.dedupId !== undefined && key !== body.dedupId) {
          throw new ValidationError(
            'Idempotency-Key',
            `differs from the body's dedupId (${JSON.stringify(key)} vs ${JSON.stringify(body.dedupId)})`,
          );
        }
        const dedupId = key ?? body.dedupId;
        const { messageId, duplicate } = await queues.queue(params.queue).send({ ...body, ...(dedupId !== undefined ? { dedupId } : {}) });
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
        const { visible, inFlight, delayed, deadLettered, consistency } = await queues.queue(params.queue).stats(query);
        return { visible, inFlight, delayed, deadLettered, consistency };
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
      success: { status: 200, description: 'One page.', schema: deadLettersResponse },
      errors: [],
      handle: async ({ params, query }) => {
        const page = await queues.queue(params.queue).listDeadLetters(withoutUndefined(query));
        return {
          deadLetters: page.deadLetters.map((d) => ({
            messageId: d.messageId,
            body: d.body,
            ...(d.groupId !== undefined ? { groupId: d.groupId } : {}),
            receiveCount: d.receiveCount,
            sentAt: iso(d.sentAt),
            deadLetteredAt: iso(d.deadLetteredAt),
            reason: d.reason,
          })),
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
