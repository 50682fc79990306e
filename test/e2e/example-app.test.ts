import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deployCdkApp } from '../../scripts/local-stack.js';
import { waitFor } from '../support/wait.js';

/**
 * What proves the package works for someone else: examples/orders, an app outside the package
 * with its own package.json, gets the packed tarball installed the way a user would install it,
 * is type-checked (NodeNext, every entry point it imports), runs its own unit test (InMemoryQueue
 * from concord-aws/testing), synthesizes, deploys to the emulator with its own CDK CLI, and takes
 * one order: the outbox message is consumed and the 2PC transaction commits.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

describe('examples/orders: the packed package, installed and deployed as a user would', () => {
  const work = mkdtempSync(join(tmpdir(), 'concord-orders-'));
  const app = join(work, 'orders');
  /** Runs a command in the example (or elsewhere); a failure says what it printed. */
  const run = (command: string, args: string[], cwd = app): string => {
    try {
      return execFileSync(command, args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CDK_HOME: join(work, '.cdk-home') },
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`.slice(0, 8_000));
    }
  };
  let outputs: Record<string, string>;

  beforeAll(() => {
    // `npm pack` builds the package (prepack) and writes the tarball a user would download.
    run('npm', ['pack', '--pack-destination', work, '--silent'], root);
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
    cpSync(join(root, 'examples', 'orders'), app, { recursive: true, filter: (path) => !/node_modules|cdk\.out/.test(path) });
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    manifest.dependencies['concord-aws'] = `file:${join(work, tarball)}`;
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('type-checks against the installed declarations, and its own unit test passes with InMemoryQueue', () => {
    run('npx', ['tsc', '-p', '.']); // throws with the compiler's output on an error
    expect(run('npm', ['test', '--silent'])).toMatch(/# pass 2\b/);
  });

  it("installs the operators' CLI as a bin: `npx concord` runs from the installed package and talks to the deployed API", () => {
    expect(run('npx', ['concord', '--help'])).toMatch(/^Usage: concord /);
    const queue = `bin-${Date.now().toString(36)}`;
    const concord = (...args: string[]) => JSON.parse(run('npx', ['concord', '--api', inject('apiUrl'), '--json', ...args]));
    expect(concord('messages', 'send', queue, 'from the installed bin')).toMatchObject({ queue, duplicate: false });
    expect(concord('queues', 'stats', queue, '--strong')).toMatchObject({ queue, visible: 1, consistency: 'strong' });
  });

  it('bundles a Lambda that imports only concord-aws/queue without any CDK code', () => {
    const meta = join(work, 'consumer-meta.json');
    run('npx', [
      'esbuild',
      'src/consumer.ts',
      '--bundle',
      '--platform=node',
      '--outfile=/dev/null',
      `--metafile=${meta}`,
      '--log-level=error',
    ]);
    const inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs as Record<string, unknown>);
    expect(inputs.some((path) => path.includes('node_modules/concord-aws/dist/functions/'))).toBe(true);
    expect(inputs.filter((path) => /aws-cdk-lib|\/constructs\/|concord-aws\/dist\/cdk/.test(path))).toEqual([]);
  });

  it('synthesizes, deploys to the emulator, and takes an order through the outbox, the consumer and a 2PC transaction', async () => {
    run('npx', ['cdk', 'synth', '-q']);
    const endpoint = inject('endpoint');
    outputs = await deployCdkApp({
      endpoint,
      stack: 'ConcordOrders',
      cwd: app,
      cdkHome: join(work, '.cdk-home'),
      log: (line) => process.stderr.write(`[orders] ${line}\n`),
    });
    const dynamodb = new DynamoDBClient({ endpoint, region, credentials });
    const lambda = new LambdaClient({ endpoint, region, credentials });
    await dynamodb.send(
      new PutItemCommand({
        TableName: outputs.InventoryTable,
        Item: { pk: { S: 'STOCK#widget' }, sk: { S: 'stock' }, available: { N: '5' }, held: { N: '0' } },
      }),
    );
    const invoked = await lambda.send(
      new InvokeCommand({
        FunctionName: outputs.ProducerFunction,
        Payload: JSON.stringify({ orderId: 'order-1', item: 'widget', quantity: 2 }),
      }),
    );
    const placed = JSON.parse(new TextDecoder().decode(invoked.Payload));
    expect(placed).toMatchObject({ orderId: 'order-1', duplicate: false, transaction: 'PENDING' });
    const item = (table: string | undefined, pk: string, sk: string) =>
      dynamodb
        .send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }))
        .then((r) => r.Item);
    // The outbox message wakes the consumer through the table's stream; it confirms with its fence.
    const order = await waitFor(
      'the order to be confirmed by the consumer',
      async () => {
        const found = await item(outputs.OrdersTable, 'ORDER#order-1', 'order');
        return found?.status?.S === 'CONFIRMED' ? found : undefined;
      },
      { timeoutMs: 60_000, everyMs: 500 },
    );
    expect(order.fence?.N).toBe('1');
    const tx = await waitFor(
      'the reserve-stock transaction to commit',
      async () => {
        const found = await item(outputs.CoordinatorTable, 'TX#order-1', 'tx');
        return found?.status?.S === 'COMMITTED' ? found : undefined;
      },
      { timeoutMs: 90_000, everyMs: 500 },
    );
    expect(tx.decision?.S).toBe('COMMIT');
    expect(await item(outputs.InventoryTable, 'STOCK#widget', 'stock')).toMatchObject({ available: { N: '3' }, held: { N: '0' } });
    // The same order again is one order: the outbox's dedup id says so, and nothing is written.
    const again = await lambda.send(
      new InvokeCommand({
        FunctionName: outputs.ProducerFunction,
        Payload: JSON.stringify({ orderId: 'order-1', item: 'widget', quantity: 2 }),
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(again.Payload))).toMatchObject({ orderId: 'order-1', duplicate: true });
    dynamodb.destroy();
    lambda.destroy();
  }, 600_000);
});
