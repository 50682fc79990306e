import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import { loadApiConfig } from '../../../functions/api/config.js';
import { buildApiDeps } from '../../../functions/api/deps.js';
import { createServer } from '../../../functions/api/server.js';
import { fakeWorld } from './fakes.js';

const ENV = {
  CONCORD_QUEUE_TABLE: 'concord-queues',
  CONCORD_COORDINATOR_TABLE: 'concord-tx',
  CONCORD_STATE_MACHINES: JSON.stringify({
    'transfer-2pc': 'arn:aws:states:us-east-1:000000000000:stateMachine:transfer-2pc',
    'transfer-saga': 'arn:aws:states:us-east-1:000000000000:stateMachine:transfer-saga',
    'transfer-2pc-express': 'arn:aws:states:us-east-1:000000000000:stateMachine:transfer-2pc-express',
    'transfer-saga-express': 'arn:aws:states:us-east-1:000000000000:stateMachine:transfer-saga-express',
  }),
  CONCORD_BANKS: JSON.stringify({
    'bank-a': { table: 'bank-a', queueUrl: 'http://localhost:4566/000000000000/bank-a', functionName: 'bank-a-participant' },
    'bank-b': { table: 'bank-b', queueUrl: 'http://localhost:4566/000000000000/bank-b', functionName: 'bank-b-participant' },
  }),
};

/** Clients that are never sent anything here (no region or credentials needed to construct them). */
const clients = () => ({ dynamodb: new DynamoDBClient({}), sfn: new SFNClient({}), s3: new S3Client({}) });

describe('loadApiConfig', () => {
  it('reads the environment', () => {
    const config = loadApiConfig({ ...ENV, CONCORD_CLAIM_CHECK_BUCKET: 'bodies' });
    expect(config.CONCORD_QUEUE_TABLE).toBe('concord-queues');
    expect(config.CONCORD_CLAIM_CHECK_BUCKET).toBe('bodies');
    expect(config.CONCORD_BANKS['bank-b'].queueUrl).toBe('http://localhost:4566/000000000000/bank-b');
    expect(config.CONCORD_STATE_MACHINES['transfer-saga']).toContain('transfer-saga');
  });

  it('takes an empty claim-check bucket as none', () => {
    expect(loadApiConfig({ ...ENV, CONCORD_CLAIM_CHECK_BUCKET: '' }).CONCORD_CLAIM_CHECK_BUCKET).toBeUndefined();
  });

  it.each(Object.keys(ENV))('names %s when it is missing', (name) => {
    const env: Record<string, string> = { ...ENV };
    delete env[name];
    expect(() => loadApiConfig(env)).toThrow(`environment variable ${name}: is not set`);
  });

  it.each([
    [{ CONCORD_QUEUE_TABLE: '' }, 'CONCORD_QUEUE_TABLE: is empty'],
    [{ CONCORD_BANKS: '{bank-a' }, 'CONCORD_BANKS: is not valid JSON'],
    [
      { CONCORD_BANKS: JSON.stringify({ 'bank-a': { table: 't', queueUrl: 'http://q', functionName: 'f' } }) },
      'CONCORD_BANKS.bank-b: is not set',
    ],
    [
      {
        CONCORD_BANKS: JSON.stringify({
          'bank-a': { table: 't', queueUrl: 'not a url', functionName: 'f' },
          'bank-b': { table: 't', queueUrl: 'http://q', functionName: 'f' },
        }),
      },
      'CONCORD_BANKS.bank-a.queueUrl',
    ],
    [
      {
        CONCORD_BANKS: JSON.stringify({
          'bank-a': { table: 't', queueUrl: 'http://q' },
          'bank-b': { table: 't', queueUrl: 'http://q', functionName: 'f' },
        }),
      },
      'CONCORD_BANKS.bank-a.functionName: is not set',
    ],
    [{ CONCORD_STATE_MACHINES: JSON.stringify({ 'transfer-2pc': 'arn:1' }) }, 'CONCORD_STATE_MACHINES.transfer-saga: is not set'],
  ])('names the offending variable and field: %j', (override, message) => {
    expect(() => loadApiConfig({ ...ENV, ...override })).toThrow(message);
  });
});

describe('buildApiDeps', () => {
  it('wires the library objects: queue table, both banks with their queues, transfer types by definition name', () => {
    const deps = buildApiDeps(loadApiConfig(ENV), clients());
    expect((deps.queues as unknown as { tableName: string }).tableName).toBe('concord-queues');
    expect(deps.transferTypes).toEqual({ '2pc': 'transfer-2pc', saga: 'transfer-saga' });
    expect(deps.expressTransferTypes).toEqual({ '2pc': 'transfer-2pc-express', saga: 'transfer-saga-express' });
    expect(deps.banks['bank-a'].functionName).toBe('bank-a-participant');
    expect(deps.banks['bank-a'].queueUrl).toBe('http://localhost:4566/000000000000/bank-a');
    expect(deps.banks['bank-b'].bank).toMatchObject({ name: 'bank-b', tableName: 'bank-b' });
    expect(deps.newId()).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('lambda.ts (API Gateway HTTP API, payload format 2.0)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /**
   * lambda.ts as a cold start: a fresh instance of that module alone (its imports, loaded with this
   * file, are shared), so that it reads the environment stubbed for the test. Not vi.resetModules():
   * that would load the whole core again inside a test, and Stryker would take the module-level
   * code for code only this test covers (docs/testing.md).
   */
  let coldStarts = 0;
  const coldStart = () =>
    import(/* @vite-ignore */ `../../../functions/api/lambda.js?cold-start=${++coldStarts}`) as Promise<
      typeof import('../../../functions/api/lambda.js')
    >;

  async function lambda() {
    for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
    const { handler } = await coldStart();
    return (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
      handler({
        version: '2.0',
        routeKey: '$default',
        rawPath: path,
        rawQueryString: '',
        headers: { host: 'api.test', ...headers },
        requestContext: {
          accountId: '000000000000',
          apiId: 'api',
          domainName: 'api.test',
          domainPrefix: 'api',
          http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
          requestId: 'request-1',
          routeKey: '$default',
          stage: '$default',
          time: '01/Jan/2025:00:00:00 +0000',
          timeEpoch: 0,
        },
        isBase64Encoded: body !== undefined,
        ...(body !== undefined ? { body: Buffer.from(body).toString('base64') } : {}),
      } as unknown as Parameters<typeof handler>[0]);
  }

  it('serves the OpenAPI document', async () => {
    const invoke = await lambda();
    const result = await invoke('GET', '/v1/openapi.json');
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).openapi).toBe('3.1.0');
  });

  it('validates a base64-encoded body before calling AWS', async () => {
    const invoke = await lambda();
    const result = await invoke('POST', '/v1/transfers', JSON.stringify({ from: { bank: 'bank-x', id: 'a' } }), {
      'content-type': 'application/json',
    });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.field).toBe('from.bank');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const invoke = await lambda();
    const result = await invoke('POST', '/v1/queues/q/messages', JSON.stringify({ body: 'x'.repeat(1_048_576) }), {
      'content-type': 'application/json',
    });
    expect(result.statusCode).toBe(413);
  });

  it('fails at cold start, naming the variable, when the environment is incomplete', async () => {
    vi.stubEnv('CONCORD_BANKS', '');
    for (const [name, value] of Object.entries(ENV)) if (name !== 'CONCORD_BANKS') vi.stubEnv(name, value);
    await expect(coldStart()).rejects.toThrow('CONCORD_BANKS: is empty');
  });
});

describe('server.ts (the app as a local process)', () => {
  it('serves the app over node:http', async () => {
    const world = fakeWorld();
    const server = createServer(createApp(world.deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const sent = await fetch(`${base}/v1/queues/jobs/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
        body: JSON.stringify({ body: 'hello' }),
      });
      expect(sent.status).toBe(201);
      expect(await sent.json()).toEqual({ messageId: 'm1', duplicate: false });
      const received = await fetch(`${base}/v1/queues/jobs/receive`, { method: 'POST' });
      expect(((await received.json()) as { messages: Array<{ body: string }> }).messages[0]?.body).toBe('hello');
      const stats = await fetch(`${base}/v1/queues/jobs/stats?consistency=strong`);
      expect(await stats.json()).toMatchObject({ inFlight: 1, consistency: 'strong' });
      const missing = await fetch(`${base}/nowhere`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NotFound');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
