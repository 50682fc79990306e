import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';

/**
 * The contract test: Schemathesis (pinned in requirements-contract.txt, installed into .venv by
 * scripts/bootstrap.mjs) generates requests from the deployed API's own OpenAPI document and runs
 * every check against the local stack: no 5xx, every response within its schema (status, content
 * type, headers, body), no schema-valid request refused, schema-invalid ones refused, 405 with a
 * true `Allow`. The only exemptions, and why, are in test/contract/schemathesis.toml; each is also
 * in the document (the operation's rules). Bounded: a fixed seed, a few examples per operation.
 */
const api = inject('apiUrl');
const schemathesis = join(process.cwd(), '.venv', 'bin', 'schemathesis');
const config = join(process.cwd(), 'test', 'contract', 'schemathesis.toml');

/** Where the output goes, and Schemathesis' own cache (`.schemathesis/`), out of the work tree. */
const dir = join(process.env.TMPDIR ?? '/tmp', 'concord-contract');

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesis, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' } });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('Schemathesis finds no server error, no response off its schema and no schema-valid request refused', async () => {
  const { code, output } = await run([
    '--config-file',
    config,
    'run',
    `${api}/v1/openapi.json`,
    '--url',
    api,
    // Authorization checks need credentials: the emulator deployment verifies no SigV4.
    '--exclude-checks',
    'ignored_auth,object_level_authorization',
    '--no-color',
  ]);
  writeFileSync(join(dir, 'schemathesis.txt'), output);
  const summary = output.slice(output.lastIndexOf('SUMMARY'));
  process.stderr.write(`[contract] Schemathesis output: ${join(dir, 'schemathesis.txt')}\n[contract] ${summary}\n`);
  expect(summary).toMatch(/Tested: \d+/);
  expect(code, summary).toBe(0);
}, 900_000);
