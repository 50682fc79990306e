import type { Queue } from 'concord-aws/queue';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../cdk/constructs/concord-api.js';
import type { TransactionView } from '../../../functions/adapters/tx/coordinator.js';
import { type ApiDeps, createApp } from '../../../functions/api/app.js';
import { QueueDefaults } from '../../../functions/core/queue/config.js';
import { fakeWorld, RecordingLogger, TRANSFER_TYPES } from './fakes.js';
import { call } from './http.js';
import { mutations, type Schema, sample, violation } from './json-schema.js';

type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Schema }>;
  requestBody?: { required: boolean; content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { description: string; content: { 'application/json': { schema: Schema } } }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** Ports that accept anything and count the calls: the app's verdict on an input is whether it got through. */
function acceptingDeps() {
  const calls: string[] = [];
  const record =
    <T>(name: string, result: T) =>
    async () => {
      calls.push(name);
      return result;
    };
  const queue: Queue = {
    name: 'q',
    send: record('send', { messageId: 'm1', duplicate: false }),
    sendBatch: record('sendBatch', []),
    getConfig: record('getConfig', QueueDefaults),
    receive: record('receive', []),
    ack: record('ack', undefined),
    nack: record('nack', undefined),
    extend: record('extend', { leaseUntil: 0, receipt: 'r' }),
    configure: record('configure', QueueDefaults),
    stats: record('stats', { visible: 0, inFlight: 0, delayed: 0, deadLettered: 0, oldestAgeSeconds: 0, consistency: 'eventual' as const }),
    listDeadLetters: record('listDeadLetters', { deadLetters: [] }),
    redrive: record('redrive', { redriven: 0, remaining: false }),
    peek: record('peek', { messages: [] }),
    getDeadLetter: record('getDeadLetter', {
      messageId: 'm1',
      body: '{"a":1}',
      contentType: 'application/json' as const,
      receiveCount: 5,
      sentAt: 0,
      deadLetteredAt: 0,
      reason: 'maxReceiveCount exceeded',
    }),
    deleteDeadLetter: record('deleteDeadLetter', true),
    redriveDeadLetter: record('redriveDeadLetter', true),
  };
  const view: TransactionView = {
    txId: 't1',
    type: TRANSFER_TYPES['2pc'],
    mode: '2pc',
    status: 'PENDING',
    epoch: 1,
    participants: [],
    createdAt: new Date(0).toISOString(),
    deadline: new Date(0).toISOString(),
    recoveries: 0,
  };
  const bank = () => ({
    bank: { open: record('open', { id: 'a', balance: 0, held: 0 }), account: record('account', { id: 'a', balance: 0, held: 0 }) },
    participant: { record: record('record', undefined) },
    queueUrl: 'https://sqs.test/q',
  });
  const deps: ApiDeps = {
    queues: { queue: () => queue, list: record('list', { queues: ['q'] }) },
    coordinator: {
      start: record('start', { txId: 't1', status: 'PENDING' as const, duplicate: false }),
      view: record('view', view),
      list: record('list', { transactions: [view] }),
      timelineSources: record('timelineSources', { view, sources: { createdAt: 0, log: [], parked: [] } }),
    },
    operator: { retryStuck: record('retryStuck', { txId: 't1', status: 'PENDING' as const, epoch: 2 }) },
    banks: { 'bank-a': bank(), 'bank-b': bank() },
    transferTypes: TRANSFER_TYPES,
    // Any body the schema accepts must be accepted: express transfers too.
    expressTransferTypes: { '2pc': 'transfer-2pc-express', saga: 'transfer-saga-express' },
    newId: () => 'generated',
    logger: new RecordingLogger(),
  };
  return { deps, calls };
}

async function documentOf(app: ReturnType<typeof createApp>): Promise<Document> {
  const reply = await call(app, 'GET', '/v1/openapi.json');
  expect(reply.status).toBe(200);
  return reply.body as Document;
}

function operations(doc: Document): Array<{ method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ method, path, op })));
}

function concretePath(path: string, op: Operation): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const parameter = op.parameters?.find((p) => p.in === 'path' && p.name === name);
    if (!parameter) throw new Error(`${path}: no path parameter ${name}`);
    return String(sample(parameter.schema, 'minimal'));
  });
}

/**
 * `to` must differ from `from`: the one rule JSON Schema cannot state (the document says it in
 * words). Samples built from the schema alone pick the same account for both; move `to`.
 */
const FIXUPS: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
  startTransfer: (body) => {
    const from = body.from as { bank: string };
    return { ...body, to: { ...(body.to as object), bank: from.bank === 'bank-a' ? 'bank-b' : 'bank-a' } };
  },
};

describe('GET /v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document listing exactly the routes the app serves', async () => {
    const app = createApp(fakeWorld().deps);
    const doc = await documentOf(app);
    expect(doc.openapi).toBe('3.1.0');
    const documented = operations(doc)
      .map(({ method, path }) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
      .sort();
    const served = app.routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented).toEqual(served);
    expect(documented).toEqual(
      [
        'POST /v1/queues/:queue/messages',
        'POST /v1/queues/:queue/receive',
        'POST /v1/queues/:queue/ack',
        'POST /v1/queues/:queue/nack',
        'POST /v1/queues/:queue/extend',
        'GET /v1/queues/:queue/stats',
        'GET /v1/queues/:queue/dead-letters',
        'POST /v1/queues/:queue/dead-letters/redrive',
        'PUT /v1/queues/:queue',
        'GET /v1/queues',
        'GET /v1/queues/:queue/messages',
        'GET /v1/queues/:queue/dead-letters/:messageId',
        'DELETE /v1/queues/:queue/dead-letters/:messageId',
        'POST /v1/queues/:queue/dead-letters/:messageId/redrive',
        'GET /v1/transactions',
        'GET /v1/transactions/:id/timeline',
        'POST /v1/transactions/:id/retry',
        'POST /v1/accounts',
        'GET /v1/accounts/:bank/:id',
        'POST /v1/transfers',
        'GET /v1/transfers/:id',
        'GET /v1/transactions/:id',
        'GET /v1/openapi.json',
      ].sort(),
    );
  });

  it('lists exactly the routes the CDK API declares (API_ROUTES), so neither can drift from the other', async () => {
    const doc = await documentOf(createApp(fakeWorld().deps));
    const documented = operations(doc).map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(documented.sort()).toEqual([...API_ROUTES].sort());
  });

  it('gives every operation a unique id, its success response, and its error responses as the Error schema', async () => {
    const doc = await documentOf(createApp(fakeWorld().deps));
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      expect(
        statuses.filter((s) => s.startsWith('2')),
        `${method} ${path}`,
      ).toHaveLength(1);
      for (const status of ['400', '429', '500', '503']) expect(statuses, `${method} ${path}`).toContain(status);
      if (op.requestBody) expect(statuses).toEqual(expect.arrayContaining(['413', '415']));
      if (/\{id\}$/.test(path) && method === 'get') expect(statuses).toContain('404');
      for (const status of statuses.filter((s) => !s.startsWith('2'))) {
        expect(op.responses[status]?.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(doc.paths['/v1/queues/{queue}/ack']?.post?.responses['409']?.description).toContain('LeaseLost');
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'] });
  });

  it('documents the Idempotency-Key header and the consistency parameter with its default per route', async () => {
    const doc = await documentOf(createApp(fakeWorld().deps));
    const parameter = (path: string, method: string, name: string) => doc.paths[path]?.[method]?.parameters?.find((p) => p.name === name);
    expect(parameter('/v1/queues/{queue}/messages', 'post', 'Idempotency-Key')).toMatchObject({ in: 'header', required: false });
    expect(parameter('/v1/queues/{queue}/stats', 'get', 'consistency')?.schema).toMatchObject({ default: 'eventual' });
    expect(parameter('/v1/queues/{queue}/dead-letters', 'get', 'consistency')?.schema).toMatchObject({ default: 'eventual' });
    for (const path of ['/v1/accounts/{bank}/{id}', '/v1/transfers/{id}', '/v1/transactions/{id}']) {
      expect(parameter(path, 'get', 'consistency')?.schema, path).toMatchObject({ default: 'strong', enum: ['strong', 'eventual'] });
    }
  });

  describe('its request schemas are the ones the app validates with', () => {
    it('the app accepts bodies generated from each request schema', async () => {
      const { deps, calls } = acceptingDeps();
      const app = createApp(deps);
      const doc = await documentOf(app);
      let checked = 0;
      for (const { method, path, op } of operations(doc)) {
        const schema = op.requestBody?.content['application/json'].schema;
        if (!schema) continue;
        for (const variant of ['minimal', 'full'] as const) {
          const fixup = FIXUPS[op.operationId] ?? ((b) => b);
          const body = fixup(sample(schema, variant) as Record<string, unknown>);
          expect(violation(schema, body), `${op.operationId} ${variant}`).toBeUndefined();
          calls.length = 0;
          const reply = await call(app, method.toUpperCase(), concretePath(path, op), { json: body });
          expect(reply.status, `${op.operationId} ${variant} ${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`).toBeLessThan(300);
          expect(calls.length).toBeGreaterThan(0);
          checked++;
        }
      }
      expect(checked).toBe(2 * 9); // nine routes take a body
    });

    it('the app rejects (400, nothing called) exactly the mutated bodies the schema rejects', async () => {
      const { deps, calls } = acceptingDeps();
      const app = createApp(deps);
      const doc = await documentOf(app);
      let rejected = 0;
      let accepted = 0;
      for (const { method, path, op } of operations(doc)) {
        const schema = op.requestBody?.content['application/json'].schema;
        if (!schema) continue;
        const fixup = FIXUPS[op.operationId] ?? ((b) => b);
        const base = fixup(sample(schema, 'full') as Record<string, unknown>);
        const cases: Array<{ label: string; value: unknown }> = [
          ...mutations(schema, base),
          { label: 'null', value: null },
          { label: 'an array', value: [base] },
          { label: 'a string', value: 'body' },
        ];
        for (const { label, value } of cases) {
          calls.length = 0;
          const reply = await call(app, method.toUpperCase(), concretePath(path, op), { json: value });
          const schemaSays = violation(schema, value) === undefined;
          const appSays = reply.status < 300;
          expect(appSays, `${op.operationId}: ${label} -> ${reply.status} ${JSON.stringify(reply.body)}`).toBe(schemaSays);
          if (!appSays) {
            expect(reply.status, `${op.operationId}: ${label}`).toBe(400);
            expect(calls, `${op.operationId}: ${label}`).toEqual([]);
            rejected++;
          } else accepted++;
        }
      }
      expect(rejected).toBeGreaterThan(300);
      expect(accepted).toBeGreaterThan(50);
    });

    it('the app accepts exactly the query and header values the parameter schemas accept', async () => {
      const { deps } = acceptingDeps();
      const app = createApp(deps);
      const doc = await documentOf(app);
      const probes = ['strong', 'eventual', '', 'STRONG', '5', '0', '101', 'abc', 'has space', 'k'.repeat(129)];
      let checked = 0;
      for (const { method, path, op } of operations(doc)) {
        for (const parameter of op.parameters ?? []) {
          if (parameter.in === 'path') continue;
          for (const probe of probes) {
            // Query values arrive as strings; the schema types the ones that are numbers.
            const typed = parameter.schema.type === 'integer' && /^\d+$/.test(probe) ? Number(probe) : probe;
            const schemaSays = violation(parameter.schema, typed) === undefined;
            const target =
              parameter.in === 'query'
                ? `${concretePath(path, op)}?${parameter.name}=${encodeURIComponent(probe)}`
                : concretePath(path, op);
            const reply = await call(app, method.toUpperCase(), target, {
              ...(op.requestBody ? { json: { body: 'x' } } : {}),
              ...(parameter.in === 'header' ? { headers: { [parameter.name]: probe } } : {}),
            });
            expect(reply.status < 300, `${method} ${path} ${parameter.name}=${JSON.stringify(probe)}: ${JSON.stringify(reply.body)}`).toBe(
              schemaSays,
            );
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(50);
    });
  });

  it('describes the responses the app actually sends', async () => {
    const world = fakeWorld();
    const app = createApp(world.deps);
    const doc = await documentOf(app);
    const seen: string[] = [];
    const check = async (method: string, template: string, path: string, options: Parameters<typeof call>[3] = {}) => {
      const reply = await call(app, method, path, options);
      const response = doc.paths[template]?.[method.toLowerCase()]?.responses[String(reply.status)];
      expect(response, `${method} ${path} answered ${reply.status}, which the document does not list`).toBeDefined();
      let schema = response?.content['application/json'].schema as Schema;
      if (schema.$ref === '#/components/schemas/Error') schema = doc.components.schemas.Error as Schema;
      expect(violation(schema, reply.body), `${method} ${path} ${reply.status}: ${JSON.stringify(reply.body)}`).toBeUndefined();
      seen.push(`${method} ${template} ${reply.status}`);
      return reply;
    };
    const q = '/v1/queues/{queue}';
    await check('PUT', q, '/v1/queues/jobs', { json: { maxReceiveCount: 1 } });
    await check('POST', `${q}/messages`, '/v1/queues/jobs/messages', { json: { body: 'a', groupId: 'g' } });
    await check('POST', `${q}/messages`, '/v1/queues/jobs/messages', { json: { body: 'b' } });
    const leased = await check('POST', `${q}/receive`, '/v1/queues/jobs/receive', { json: { max: 1 } });
    const receipt = leased.body.messages[0].receipt;
    const extended = await check('POST', `${q}/extend`, '/v1/queues/jobs/extend', { json: { receipt, visibilityTimeoutSeconds: 5 } });
    await check('POST', `${q}/ack`, '/v1/queues/jobs/ack', { json: { receipt: extended.body.receipt } });
    world.clock.advance(31_000); // past the first lease: a repeated ack is no longer the holder's own
    await check('POST', `${q}/ack`, '/v1/queues/jobs/ack', { json: { receipt } }); // 409
    const second = await check('POST', `${q}/receive`, '/v1/queues/jobs/receive', { json: { max: 10, visibilityTimeoutSeconds: 1 } });
    await check('POST', `${q}/nack`, '/v1/queues/jobs/nack', { json: { receipt: second.body.messages[0].receipt } });
    world.clock.advance(2_000);
    await check('POST', `${q}/receive`, '/v1/queues/jobs/receive', { json: {} }); // dead-letters it
    await check('GET', `${q}/stats`, '/v1/queues/jobs/stats');
    await check('GET', `${q}/dead-letters`, '/v1/queues/jobs/dead-letters?limit=1');
    await check('POST', `${q}/dead-letters/redrive`, '/v1/queues/jobs/dead-letters/redrive', { json: {} });
    await check('POST', '/v1/accounts', '/v1/accounts', { json: { bank: 'bank-a', id: 'alice', balance: 10 } });
    await check('GET', '/v1/accounts/{bank}/{id}', '/v1/accounts/bank-a/alice');
    await check('GET', '/v1/accounts/{bank}/{id}', '/v1/accounts/bank-a/nobody'); // 404
    const body = { from: { bank: 'bank-a', id: 'alice' }, to: { bank: 'bank-b', id: 'bob' }, amount: 5, transferId: 't1' };
    await check('POST', '/v1/transfers', '/v1/transfers', { json: body });
    world.coordinator.finish('t1', 'ABORTED', { decision: 'ABORT', decisionReason: 'insufficient funds' });
    world.bankA.participant.set('t1', 'debit', { state: 'ABORTED', epoch: 1, reason: 'insufficient funds' });
    await check('GET', '/v1/transfers/{id}', '/v1/transfers/t1');
    await check('GET', '/v1/transactions/{id}', '/v1/transactions/t1');
    await check('GET', '/v1/transactions/{id}', '/v1/transactions/t1?consistency=bogus'); // 400
    await check('POST', '/v1/transfers', '/v1/transfers', { raw: 'x', headers: { 'content-type': 'text/plain' } }); // 415
    world.queues.fault = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await check('GET', `${q}/stats`, '/v1/queues/jobs/stats'); // 429
    world.queues.fault = new Error('bug');
    await check('GET', `${q}/stats`, '/v1/queues/jobs/stats'); // 500
    await check('GET', '/v1/openapi.json', '/v1/openapi.json');
    expect(seen).toEqual(expect.arrayContaining(['POST /v1/queues/{queue}/ack 409', 'GET /v1/queues/{queue}/stats 429']));
    expect(new Set(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).size).toBe(15);
  });
});
