import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

/**
 * The `concord` CLI as an operator runs it: a real process (tsx on the sources, as `npm run
 * concord` does) against the CDK app deployed to the emulator; its output and exit codes asserted.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const api = inject('apiUrl');
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `concord ...args` with the API URL in the environment (as CONCORD_API_URL); never throws. */
function concord(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--conditions=source', join(root, 'functions', 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, CONCORD_API_URL: api, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const json = async (args: readonly string[]) => {
  const run = await concord(['--json', ...args]);
  expect(run, `concord --json ${args.join(' ')}: ${run.stderr}`).toMatchObject({ code: 0 });
  return JSON.parse(run.stdout);
};

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${api}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("concord, the operators' CLI, against the deployed stack", () => {
  it('--help lists the commands and the exit codes', async () => {
    const { code, stdout } = await concord(['--help']);
    expect(code).toBe(0);
    for (const command of ['queues', 'messages', 'dlq', 'tx']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toMatch(/Exit codes: 0 ok/);
  });

  it('sends, counts, dead-letters and redrives a message: tables for people, JSON for scripts', async () => {
    const queue = unique('cli');
    const configured = await json(['queues', 'configure', queue, '--max-receives', '1', '--visibility', '1']);
    expect(configured).toMatchObject({ queue, maxReceiveCount: 1, visibilityTimeoutSeconds: 1, fifo: false });

    const sent = await concord(['messages', 'send', queue, 'poison']);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(new RegExp(`^sent message \\S+ to ${queue}\\n$`));

    const stats = await concord(['queues', 'stats', queue, '--strong']);
    expect(stats).toMatchObject({ code: 0, stderr: '' });
    expect(stats.stdout).toMatch(/^visible +1$/m);
    expect(stats.stdout).toMatch(/\(strong read; counts approximate while messages move\)/);

    // One delivery allowed: the lease runs out, and the next receive dead-letters it.
    expect(((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages as unknown[]).length).toBe(1);
    await sleep(1_500);
    expect((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages).toEqual([]);

    const listed = await concord(['dlq', 'list', queue]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/│ MESSAGE +│ RECEIVES +│ DEAD-LETTERED +│ REASON +│ BODY/);
    expect(listed.stdout).toContain('"poison"');
    const letters = await json(['dlq', 'list', queue]);
    expect(letters).toMatchObject({ queue, deadLetters: [{ body: 'poison', receiveCount: 1 }] });

    const redriven = await concord(['dlq', 'redrive', queue, '--rate', '10']);
    // Not a terminal: no progress bar, nothing on stderr.
    expect(redriven).toMatchObject({ code: 0, stdout: `redrove 1 dead letter of ${queue} back into the queue\n`, stderr: '' });
    expect(await json(['queues', 'stats', queue, '--strong'])).toMatchObject({ queue, visible: 1, deadLettered: 0, consistency: 'strong' });
    expect(await json(['dlq', 'redrive', queue])).toEqual({ queue, redriven: 0, remaining: false, calls: 1 });
  });

  it('peeks without leasing: a JSON body comes back as the same value; an in-flight message shows its lease end and fence', async () => {
    const queue = unique('peek');
    const sent = await json(['messages', 'send', queue, '{"orderId":42}']);
    await json(['messages', 'send', queue, '7']);
    const visible = await json(['queues', 'peek', queue]);
    expect(visible.messages.map((m: { body: unknown }) => m.body).sort()).toEqual([7, { orderId: 42 }].sort());
    expect(visible.messages.every((m: { state: string; fence?: number }) => m.state === 'visible' && m.fence === undefined)).toBe(true);
    // Peeking leased nothing: a receive still gets both.
    const received = (await call('POST', `/v1/queues/${queue}/receive`, { max: 10, visibilityTimeoutSeconds: 300 })).body
      .messages as Array<{
      messageId: string;
      fence: number;
    }>;
    expect(received).toHaveLength(2);
    const table = await concord(['queues', 'peek', queue, '--state', 'in-flight']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`│ ${sent.messageId} +│ in-flight +│ 1 +│ \\S+ +│ in [45]m( \\d+s)? +│ 1 +│`));
    const inFlight = await json(['queues', 'peek', queue, '--state', 'in-flight']);
    expect(inFlight.messages).toHaveLength(2);
    for (const m of inFlight.messages) {
      expect(m).toMatchObject({ state: 'in-flight', receiveCount: 1, fence: 1 });
      expect(Date.parse(m.leaseExpiresAt)).toBeGreaterThan(Date.now());
      expect(m).not.toHaveProperty('receipt');
    }
    // queues list has it, with its counts.
    const listed = await json(['queues', 'list', '--all']);
    expect(listed.queues.find((q: { queue: string }) => q.queue === queue)).toMatchObject({ stats: { inFlight: 2 } });
  });

  it('an unknown queue, dead letter or transaction is exit 2, naming it', async () => {
    const queue = unique('never-used');
    const stats = await concord(['queues', 'stats', queue]);
    expect(stats).toMatchObject({ code: 2, stdout: '' });
    expect(stats.stderr).toContain(`no queue named "${queue}"`);
    expect((await concord(['dlq', 'list', queue])).code).toBe(2);
    expect((await concord(['queues', 'peek', queue])).code).toBe(2);
    const letter = await concord(['dlq', 'show', 'account-events', 'no-such-message']);
    expect(letter).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no dead letter "no-such-message" in queue "account-events"'),
    });
    const tx = await concord(['tx', 'show', 'no-such-tx']);
    expect(tx).toMatchObject({ code: 2, stderr: expect.stringContaining('no transaction "no-such-tx"') });
  });

  it('one dead letter: show, redrive by id, delete', async () => {
    const queue = unique('one');
    await json(['queues', 'configure', queue, '--max-receives', '1', '--visibility', '1']);
    const first = await json(['messages', 'send', queue, '"first"']);
    const second = await json(['messages', 'send', queue, '{"n":2}']);
    expect(((await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages as unknown[]).length).toBe(2);
    await sleep(1_500);
    expect((await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages).toEqual([]);
    const shown = await concord(['dlq', 'show', queue, second.messageId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^message +${second.messageId}$`, 'm'));
    expect(shown.stdout).toMatch(/^body +\{\n {4}"n": 2\n {2}\}$/m);
    expect(await concord(['dlq', 'redrive', queue, first.messageId])).toMatchObject({
      code: 0,
      stdout: `redrove 1 dead letter of ${queue} back into the queue\n`,
    });
    expect(await concord(['dlq', 'delete', queue, second.messageId])).toMatchObject({
      code: 0,
      stdout: `deleted dead letter ${second.messageId} of ${queue}\n`,
    });
    expect((await concord(['dlq', 'delete', queue, second.messageId])).code).toBe(2);
    expect(await json(['queues', 'stats', queue, '--strong'])).toMatchObject({ visible: 1, deadLettered: 0 });
  });

  it("lists transactions by status and draws one's timeline; retrying one that is not STUCK is exit 5", async () => {
    const [a, b] = [unique('alice'), unique('bob')];
    expect((await call('POST', '/v1/accounts', { bank: 'bank-a', id: a, balance: 1_000 })).status).toBe(201);
    expect((await call('POST', '/v1/accounts', { bank: 'bank-b', id: b, balance: 0 })).status).toBe(201);
    const transfer = (amount: number) =>
      call('POST', '/v1/transfers', { from: { bank: 'bank-a', id: a }, to: { bank: 'bank-b', id: b }, amount, mode: '2pc', wait: true });
    const ok = await transfer(300);
    expect(ok.body).toMatchObject({ status: 'COMMITTED' });
    const refused = await transfer(5_000);
    expect(refused.body).toMatchObject({ status: 'ABORTED' });
    const txId = String(ok.body.transferId);

    // The by-status index is eventually consistent: wait for the committed one to show.
    let committed: { transactions: Array<{ txId: string; status: string; participants: string[] }> } = { transactions: [] };
    for (let i = 0; i < 20 && !committed.transactions.some((t) => t.txId === txId); i++) {
      if (i > 0) await sleep(500);
      committed = await json(['tx', 'list', '--status', 'COMMITTED', '--all']);
    }
    expect(committed.transactions.find((t) => t.txId === txId)).toMatchObject({ status: 'COMMITTED' });
    expect(committed.transactions.every((t) => t.status === 'COMMITTED')).toBe(true);
    const table = await concord(['tx', 'list', '--status', 'COMMITTED', '--limit', '5']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/│ TRANSACTION +│ STATUS +│ TYPE/);

    const timeline = await json(['tx', 'show', txId]);
    expect(timeline).toMatchObject({ txId, status: 'COMMITTED', consistency: 'strong' });
    const kinds = timeline.events.map((e: { kind: string }) => e.kind);
    expect(kinds[0]).toBe('started');
    expect(kinds).toContain('vote');
    expect(timeline.events.find((e: { kind: string }) => e.kind === 'decision')).toMatchObject({ outcome: 'COMMIT' });
    const drawn = await concord(['tx', 'show', txId]);
    expect(drawn.code).toBe(0);
    expect(drawn.stdout).toMatch(/^status +COMMITTED$/m);
    expect(drawn.stdout).toMatch(/│ \S+ +│ \+0\.000s +│ started /);
    expect(drawn.stdout).toMatch(/│ decision +│ - +│ \S+ +│ - +│ COMMIT /);
    const abortedTimeline = await json(['tx', 'show', String(refused.body.transferId)]);
    expect(abortedTimeline.events.find((e: { kind: string }) => e.kind === 'decision')).toMatchObject({ outcome: 'ABORT' });

    const retried = await concord(['tx', 'retry', txId]);
    expect(retried.code).toBe(5);
    expect(retried.stderr).toMatch(new RegExp(`could not retry transaction "${txId}": 409`));
  });

  it('signs with SigV4 when told --auth iam (the emulator accepts the signed request)', async () => {
    const queue = unique('signed');
    const run = await concord(['--auth', 'iam', '--region', 'us-east-1', '--json', 'messages', 'send', queue, 'signed'], {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ queue, duplicate: false });
  });

  it("concord console serves the console on localhost and signs the page's API calls; Ctrl-C stops it with exit 0", async () => {
    const queue = unique('console');
    await json(['messages', 'send', queue, '"seen through the console"']);
    const child = spawn(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        '--conditions=source',
        join(root, 'functions', 'cli', 'main.ts'),
        '--auth',
        'iam',
        '--region',
        'us-east-1',
        'console',
      ],
      { cwd: root, env: { ...process.env, CONCORD_API_URL: api, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const consoleUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /^CONSOLE_URL=(\S+)$/m.exec(stdout);
        if (found) resolve(found[1]!);
      });
      void exited.then((code) => reject(new Error(`concord console exited ${code} before printing CONSOLE_URL: ${stderr}`)));
    });
    try {
      expect(new URL(consoleUrl).hostname).toBe('127.0.0.1');
      const page = await fetch(new URL('/console', consoleUrl));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const stats = await fetch(new URL(`/v1/queues/${queue}/stats?consistency=strong`, consoleUrl));
      expect(stats.status).toBe(200);
      expect(await stats.json()).toMatchObject({ visible: 1, consistency: 'strong' });
      expect(stderr).toMatch(/signing its calls with SigV4/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('errors name what was wrong, with exit codes a script can branch on', async () => {
    const port = await closedPort();
    const unreachable = await concord(['queues', 'stats', 'q'], { CONCORD_API_URL: `http://127.0.0.1:${port}` });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(new RegExp(`the API at http://127.0.0.1:${port}/ did not answer \\(ECONNREFUSED\\)`));

    const badUrl = await concord(['queues', 'stats', 'q'], { CONCORD_API_URL: 'localhost:4566' });
    expect(badUrl).toMatchObject({ code: 1, stderr: expect.stringMatching(/--api "localhost:4566" is not an http\(s\) URL/) });

    const wrongBase = await concord(['--api', `${api}/stage`, 'queues', 'stats', 'q']);
    expect(wrongBase.code).toBe(1);
    expect(wrongBase.stderr).toMatch(
      /has no route GET "\/stage\/v1\/queues\/q\/stats" \(a deployment older than this CLI, or --api is not the API.s base URL\)/,
    );

    const usage = await concord(['queues', 'peek', 'q', '--state', 'sleeping']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/argument 'sleeping' is invalid/);

    const refused = await concord(['messages', 'send', 'bad queue name', 'x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the input \(field queue\)/);
  });
});
