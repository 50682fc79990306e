import { execFile } from 'node:child_process';
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
    expect(stats.stdout).toMatch(/\(strong read\)/);

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

  it('signs with SigV4 when told --auth iam (the emulator accepts the signed request)', async () => {
    const queue = unique('signed');
    const run = await concord(['--auth', 'iam', '--region', 'us-east-1', '--json', 'messages', 'send', queue, 'signed'], {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ queue, duplicate: false });
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
