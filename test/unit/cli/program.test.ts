import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExitCode } from '../../../functions/cli/errors.js';
import { runCli } from '../../../functions/cli/program.js';

/**
 * The CLI in-process against a tiny HTTP server that plays the API: what each failure looks like
 * to the operator (message and exit code), paging, the redrive loop, body parsing, and the
 * Authorization header for JWT and IAM (the SigV4 signature recomputed here from the spec).
 */
interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string>; raw?: string };
type Handler = (request: Recorded) => Reply;

let server: Server;
let base: string;
let routes: Record<string, Handler> = {};
let requests: Recorded[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      requests.push(recorded);
      const handler = routes[`${req.method} ${url.pathname}`];
      const reply: Reply = handler
        ? handler(recorded)
        : { status: 404, body: { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } } };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stage`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  routes = {};
  requests = [];
});

function sink(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (isTTY) {
    stream.isTTY = true;
    stream.columns = 120;
  }
  return { stream, text: () => chunks.join('') };
}

async function concord(args: string[], options: { env?: Record<string, string>; ttyStderr?: boolean; stdin?: string } = {}) {
  const stdout = sink();
  const stderr = sink(options.ttyStderr);
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...options.env },
    ...(options.stdin !== undefined ? { stdin: Readable.from([options.stdin]) } : {}),
    now: () => Date.parse('2026-12-02T05:00:00.000Z'),
    version: '9.9.9',
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
const api = (...args: string[]) => ['--api', base, ...args];

const emptyStats = { visible: 0, inFlight: 0, delayed: 0, deadLettered: 0, consistency: 'eventual' };
const summary = (queue: string) => ({
  queue,
  config: { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, fifo: false },
  stats: emptyStats,
});

describe('concord (in-process, against a stand-in API)', () => {
  describe('usage', () => {
    it('--help and --version exit 0', async () => {
      const help = await concord(['--help']);
      expect(help.code).toBe(ExitCode.Ok);
      expect(help.stdout).toMatch(/Usage: concord/);
      expect(help.stdout).toMatch(/Exit codes: 0 ok/);
      expect(await concord(['--version'])).toMatchObject({ code: 0, stdout: '9.9.9\n' });
    });

    it.each([
      [['nosuch']],
      [['queues', 'peek', 'q', '--state', 'sleeping']],
      [['dlq', 'redrive', 'q', '--rate', 'fast']],
      [['tx', 'list', '--status', 'DONE']],
      [['messages', 'send', 'q']],
      [['queues', 'list', '--limit', '0']],
      [['queues', 'list', '--limit', '1.5']],
      [['messages', 'send', 'q', 'x', '--delay', '901']],
    ])('%j is a usage error (exit 1) that says what was wrong, and calls nothing', async (args) => {
      const { code, stderr } = await concord(api(...args));
      expect(code).toBe(ExitCode.Usage);
      expect(stderr).toMatch(/error: /);
      expect(requests).toEqual([]);
    });

    it('names a missing or malformed --api, and exits 1', async () => {
      expect(await concord(['queues', 'list'])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/no API URL: pass --api URL or set CONCORD_API_URL/),
      });
      expect(await concord(['--api', 'localhost:4566', 'queues', 'list'])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/--api "localhost:4566" is not an http\(s\) URL/),
      });
      expect(await concord(['--api', 'ftp://example.com', 'console'])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/--api "ftp:\/\/example.com" is not an http\(s\) URL/),
      });
      expect(await concord(['--api', 'not a url', 'queues', 'list'])).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/--api "not a url" is not a URL/),
      });
    });

    it('reads the URL and the token from the environment', async () => {
      routes['GET /stage/v1/queues'] = () => ({ status: 200, body: { queues: [], consistency: 'eventual' } });
      const { code } = await concord(['queues', 'list'], { env: { CONCORD_API_URL: base, CONCORD_API_TOKEN: 'tok-1' } });
      expect(code).toBe(0);
      expect(requests[0]?.headers.authorization).toBe('Bearer tok-1');
    });
  });

  describe('errors the API gives, as the operator sees them', () => {
    it('an API that does not answer: exit 3, naming the URL and the reason', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const { code, stderr } = await concord(['--api', `http://127.0.0.1:${port}`, 'queues', 'list']);
      expect(code).toBe(ExitCode.Unavailable);
      expect(stderr).toContain(`could not list the queues: the API at http://127.0.0.1:${port}/ did not answer (ECONNREFUSED)`);
    });

    it("API Gateway's 403: exit 4, saying what the credentials need", async () => {
      routes['GET /stage/v1/queues'] = () => ({ status: 403, body: { message: 'Forbidden' } });
      const { code, stderr } = await concord(api('queues', 'list'));
      expect(code).toBe(ExitCode.Auth);
      expect(stderr).toMatch(
        /the API refused the request \(403: Forbidden\); with IAM authorization your credentials need execute-api:Invoke/,
      );
    });

    it('a 404 for a queue: exit 2, naming the queue', async () => {
      routes['GET /stage/v1/queues/nope/stats'] = () => ({
        status: 404,
        body: { error: { code: 'NotFound', message: 'no queue "nope"' } },
      });
      const { code, stderr } = await concord(api('queues', 'stats', 'nope'));
      expect(code).toBe(ExitCode.NotFound);
      expect(stderr).toBe('concord: no queue named "nope" (404 NotFound: no queue "nope")\n');
    });

    it('an empty answer for a queue the list of queues does not have: exit 2, naming the queue', async () => {
      routes['GET /stage/v1/queues/typo/stats'] = () => ({ status: 200, body: emptyStats });
      routes['GET /stage/v1/queues'] = (r) =>
        r.query.get('cursor')
          ? { status: 200, body: { queues: [summary('b')], consistency: 'eventual' } }
          : { status: 200, body: { queues: [summary('a')], nextCursor: 'p2', consistency: 'eventual' } };
      const { code, stderr } = await concord(api('queues', 'stats', 'typo'));
      expect(code).toBe(ExitCode.NotFound);
      expect(stderr).toMatch(/no queue named "typo"/);
      // ...and an empty queue that exists is not an error.
      routes['GET /stage/v1/queues/b/stats'] = () => ({ status: 200, body: emptyStats });
      expect(await concord(api('queues', 'stats', 'b'))).toMatchObject({ code: 0, stdout: expect.stringMatching(/^queue +b\n/) });
    });

    it("a 404 without Concord's error body means --api is not the API: exit 1", async () => {
      routes['GET /stage/v1/queues'] = () => ({ status: 404, raw: 'Not Found', headers: { 'content-type': 'text/plain' } });
      const { code, stderr } = await concord(api('queues', 'list'));
      expect(code).toBe(ExitCode.Usage);
      expect(stderr).toMatch(/is not a Concord API route \(404: Not Found\); is --api the API's base URL\?/);
    });

    it('a route this deployment does not have yet says so: exit 1', async () => {
      const { code, stderr } = await concord(api('tx', 'list'));
      expect(code).toBe(ExitCode.Usage);
      expect(stderr).toMatch(/has no route GET \/stage\/v1\/transactions \(a deployment older than this CLI/);
    });

    it('a 200 that is not JSON (a web page at --api): exit 3', async () => {
      routes['GET /stage/v1/queues'] = () => ({ status: 200, raw: '<html></html>', headers: { 'content-type': 'text/html' } });
      const { code, stderr } = await concord(api('queues', 'list'));
      expect(code).toBe(ExitCode.Unavailable);
      expect(stderr).toMatch(/answered 200 with text\/html, not the Concord API's JSON/);
    });

    it('a 400 names the field and exits 1; a 503 says when to retry and exits 3; a 409 exits 5', async () => {
      routes['POST /stage/v1/queues/q/messages'] = () => ({
        status: 400,
        body: { error: { code: 'ValidationError', message: 'delaySeconds: too large', field: 'delaySeconds' } },
      });
      expect(await concord(api('messages', 'send', 'q', 'x'))).toMatchObject({
        code: ExitCode.Usage,
        stderr: expect.stringMatching(/refused the input \(field delaySeconds\): 400 ValidationError: delaySeconds: too large/),
      });
      routes['GET /stage/v1/transactions/t1/timeline'] = () => ({
        status: 503,
        headers: { 'retry-after': '2' },
        body: { error: { code: 'Unavailable', message: 'DynamoDB is unavailable' } },
      });
      expect(await concord(api('tx', 'show', 't1'))).toMatchObject({
        code: ExitCode.Unavailable,
        stderr: expect.stringMatching(/503 Unavailable: DynamoDB is unavailable\); retry after 2 s/),
      });
      routes['POST /stage/v1/transactions/t1/retry'] = () => ({
        status: 409,
        body: { error: { code: 'Conflict', message: 't1 is COMMITTED, not STUCK' } },
      });
      expect(await concord(api('tx', 'retry', 't1'))).toMatchObject({
        code: ExitCode.Conflict,
        stderr: expect.stringMatching(/COMMITTED, not STUCK/),
      });
    });

    it('with --json, the error is a JSON document on stderr with its kind and exit code', async () => {
      routes['POST /stage/v1/transactions/t9/retry'] = () => ({
        status: 404,
        body: { error: { code: 'NotFound', message: 'no transaction' } },
      });
      const { code, stdout, stderr } = await concord(api('--json', 'tx', 'retry', 't9'));
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(JSON.parse(stderr)).toEqual({
        error: {
          kind: 'not-found',
          exitCode: 2,
          status: 404,
          code: 'NotFound',
          message: 'no transaction "t9" (404 NotFound: no transaction)',
        },
      });
    });
  });

  describe('listings', () => {
    const page = (from: number, count: number, next?: string) => ({
      queues: Array.from({ length: count }, (_, i) => summary(`q${from + i}`)),
      ...(next ? { nextCursor: next } : {}),
      consistency: 'eventual',
    });

    it('--all follows every page; the JSON has every item and no cursor', async () => {
      routes['GET /stage/v1/queues'] = (r) => {
        const cursor = r.query.get('cursor');
        return { status: 200, body: cursor === null ? page(0, 100, 'c1') : cursor === 'c1' ? page(100, 100, 'c2') : page(200, 5) };
      };
      const { code, stdout, stderr } = await concord(api('--json', 'queues', 'list', '--all'));
      expect(code).toBe(0);
      const listed = JSON.parse(stdout);
      expect(listed.queues).toHaveLength(205);
      expect(listed.nextCursor).toBeUndefined();
      expect(requests.map((r) => [r.query.get('cursor'), r.query.get('limit')])).toEqual([
        [null, '100'],
        ['c1', '100'],
        ['c2', '100'],
      ]);
      expect(stderr).toBe(''); // not a terminal: no progress bar
    });

    it('--limit stops early, asks for no more than it shows, and says how to go on', async () => {
      routes['GET /stage/v1/queues'] = (r) => ({
        status: 200,
        body: r.query.get('cursor') ? page(100, Number(r.query.get('limit')), 'c2') : page(0, 100, 'c1'),
      });
      const { code, stdout, stderr } = await concord(api('queues', 'list', '--limit', '130'));
      expect(code).toBe(0);
      expect(stdout.match(/│ q\d+ /g)).toHaveLength(130);
      expect(requests.map((r) => r.query.get('limit'))).toEqual(['100', '30']);
      expect(stderr).toBe('130 shown; more with --cursor c2 (or --all)\n');
    });

    it('draws a progress bar on stderr when it is a terminal, and only then', async () => {
      routes['GET /stage/v1/queues'] = (r) => ({ status: 200, body: r.query.get('cursor') ? page(100, 3) : page(0, 100, 'c1') });
      const { code, stderr } = await concord(api('queues', 'list', '--all'), { ttyStderr: true });
      expect(code).toBe(0);
      expect(stderr).toMatch(/queues \[.*\] \d+\/\d+ items/);
      const quiet = await concord(api('--no-progress', 'queues', 'list', '--all'), { ttyStderr: true });
      expect(quiet.stderr).toBe('');
    });

    it('peek passes --state and shows the fence and lease of in-flight messages', async () => {
      routes['GET /stage/v1/queues/q/messages'] = () => ({
        status: 200,
        body: {
          messages: [
            {
              messageId: 'm1',
              state: 'in-flight',
              body: 'b',
              receiveCount: 1,
              sentAt: '2026-12-02T04:59:00.000Z',
              ageSeconds: 60,
              leaseExpiresAt: '2026-12-02T05:00:10.000Z',
              fence: 3,
            },
          ],
          consistency: 'eventual',
        },
      });
      const { code, stdout } = await concord(api('queues', 'peek', 'q', '--state', 'in-flight'));
      expect(code).toBe(0);
      expect(requests[0]?.query.get('state')).toBe('in-flight');
      expect(stdout).toMatch(/│ m1 +│ in-flight │ 1 +│ 1m +│ in 10s +│ 3 +│/);
    });
  });

  describe('commands that change things', () => {
    it.each([
      [['{"orderId":42}'], { orderId: 42 }],
      [['42'], 42],
      [['hello world'], 'hello world'],
      [['--string', '42'], '42'],
      [['null'], null],
    ])('messages send %j sends body %j', async (args, body) => {
      routes['POST /stage/v1/queues/q/messages'] = () => ({ status: 201, body: { messageId: 'm1', duplicate: false } });
      const { code, stdout } = await concord(api('messages', 'send', 'q', ...args));
      expect(code).toBe(0);
      expect(stdout).toBe('sent message m1 to q\n');
      expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ body });
      expect(requests[0]?.headers['content-type']).toBe('application/json');
    });

    it('messages send Q - reads the body from stdin (one trailing newline dropped)', async () => {
      routes['POST /stage/v1/queues/q/messages'] = () => ({ status: 201, body: { messageId: 'm1', duplicate: false } });
      expect((await concord(api('messages', 'send', 'q', '-'), { stdin: '{"from":"stdin"}\n' })).code).toBe(0);
      expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ body: { from: 'stdin' } });
    });

    it('messages send passes the group, dedup id and delay', async () => {
      routes['POST /stage/v1/queues/q/messages'] = () => ({ status: 201, body: { messageId: 'm1', duplicate: true } });
      const { stdout } = await concord(api('--json', 'messages', 'send', 'q', 'x', '--group', 'g', '--dedup-id', 'd', '--delay', '5'));
      expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ body: 'x', groupId: 'g', dedupId: 'd', delaySeconds: 5 });
      expect(JSON.parse(stdout)).toEqual({ queue: 'q', messageId: 'm1', duplicate: true });
    });

    it('dlq redrive calls again while more are waiting, at --rate, and stops at --max', async () => {
      routes['GET /stage/v1/queues/q/stats'] = () => ({ status: 200, body: { ...emptyStats, deadLettered: 2500 } });
      let calls = 0;
      routes['POST /stage/v1/queues/q/dead-letters/redrive'] = (r) => {
        calls += 1;
        const { max } = JSON.parse(r.body) as { max: number };
        return { status: 200, body: { redriven: max, remaining: calls < 3 } };
      };
      const all = await concord(api('--json', 'dlq', 'redrive', 'q', '--rate', '200'));
      expect(all.code).toBe(0);
      expect(JSON.parse(all.stdout)).toEqual({ queue: 'q', redriven: 3000, remaining: false, calls: 3 });
      const bodies = requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body));
      expect(bodies).toEqual([
        { max: 1000, perSecond: 200 },
        { max: 1000, perSecond: 200 },
        { max: 1000, perSecond: 200 },
      ]);
      requests = [];
      calls = 0;
      const some = await concord(api('dlq', 'redrive', 'q', '--max', '1500'));
      expect(some.stdout).toBe('redrove 1500 dead letters of q back into the queue; more are waiting (run again)\n');
      expect(requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body))).toEqual([{ max: 1000 }, { max: 500 }]);
    });

    it('dlq redrive Q ID, show and delete address one dead letter', async () => {
      routes['POST /stage/v1/queues/q/dead-letters/d%201/redrive'] = () => ({ status: 200, body: { messageId: 'd 1', redriven: true } });
      expect(await concord(api('dlq', 'redrive', 'q', 'd 1'))).toMatchObject({
        code: 0,
        stdout: 'redrove 1 dead letter of q back into the queue\n',
      });
      routes['DELETE /stage/v1/queues/q/dead-letters/d2'] = () => ({ status: 204 });
      expect(await concord(api('dlq', 'delete', 'q', 'd2'))).toMatchObject({ code: 0, stdout: 'deleted dead letter d2 of q\n' });
      routes['GET /stage/v1/queues/q/dead-letters/d3'] = () => ({
        status: 404,
        body: { error: { code: 'NotFound', message: 'no dead letter' } },
      });
      expect(await concord(api('dlq', 'show', 'q', 'd3'))).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/no dead letter "d3" in queue "q"/),
      });
    });
  });

  describe('authorization', () => {
    beforeEach(() => {
      routes['GET /stage/v1/transactions'] = () => ({ status: 200, body: { transactions: [], consistency: 'eventual' } });
    });

    it('sends no Authorization header to a non-AWS host without a token', async () => {
      await concord(api('tx', 'list'));
      expect(requests[0]?.headers.authorization).toBeUndefined();
    });

    it('--auth jwt without a token is a usage error', async () => {
      expect(await concord(api('--auth', 'jwt', 'tx', 'list'))).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/--auth jwt needs a token/),
      });
    });

    it('--auth iam signs with SigV4 for execute-api, with the credentials of the default chain, verifiable from the spec', async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
      vi.stubEnv('AWS_SESSION_TOKEN', '');
      vi.stubEnv('AWS_PROFILE', '');
      try {
        const { code } = await concord(api('--auth', 'iam', '--region', 'eu-west-1', 'tx', 'list', '--status', 'STUCK'));
        expect(code).toBe(0);
      } finally {
        vi.unstubAllEnvs();
      }
      const request = requests[0]!;
      const authorization = String(request.headers.authorization);
      const match =
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
          authorization,
        );
      expect(match, authorization).not.toBeNull();
      const [, date, signedHeaders, signature] = match!;
      // The canonical request and signature, computed here from the SigV4 specification.
      const names = signedHeaders!.split(';');
      expect(names).toContain('host');
      expect(names).toContain('x-amz-date');
      const query = [...request.query.entries()]
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .sort()
        .join('&');
      const canonical = [
        'GET',
        request.path,
        query,
        ...names.map((name) => `${name}:${String(request.headers[name]).trim()}`),
        '',
        signedHeaders,
        createHash('sha256').update(request.body).digest('hex'),
      ].join('\n');
      const amzDate = String(request.headers['x-amz-date']);
      const scope = `${date}/eu-west-1/execute-api/aws4_request`;
      const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
      const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
      let key = hmac('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', date!);
      for (const part of ['eu-west-1', 'execute-api', 'aws4_request']) key = hmac(key, part);
      expect(createHmac('sha256', key).update(toSign).digest('hex')).toBe(signature);
    });

    it('--auth iam with no credentials anywhere is exit 4, saying how to give some', async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', '');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
      vi.stubEnv('AWS_PROFILE', 'concord-cli-test-no-such-profile');
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/config');
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      try {
        const { code, stderr } = await concord(api('--auth', 'iam', '--region', 'eu-west-1', 'tx', 'list'));
        expect(code).toBe(ExitCode.Auth);
        expect(stderr).toMatch(/no AWS credentials to sign with .*set AWS_PROFILE or AWS_ACCESS_KEY_ID/);
      } finally {
        vi.unstubAllEnvs();
      }
      expect(requests).toEqual([]);
    });
  });
});
