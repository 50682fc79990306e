/**
 * The transaction benchmark: `npm run bench:tx` (MiniStack unless AWS_ENDPOINT_URL is set).
 *
 * For 2, 3 and 5 participants in both modes: transfers (one debit, the rest credits) through the
 * real state machine, participants as in-process SQS workers, 10 transactions in flight. Beside
 * them, in the same run, the floor: the same transfer as one DynamoDB TransactWriteItems when both
 * accounts live in one table.
 *
 * What is measured and what is modelled:
 *   measured: transactions, outcomes, money conservation, throughput, latency (start -> final
 *             status seen), every DynamoDB/SQS request the client side makes (cost meter);
 *   modelled: what Step Functions does inside AWS, which no SDK middleware sees: its state
 *             transitions (core/tx/billing.ts, from the path each transaction took), its SQS
 *             SendMessage per participant message, its DynamoDB writes of the decision and the
 *             final status (plus the sparse index entry); Lambda invocations as they would be on
 *             AWS (the API call that starts the transfer, one per participant message at batch
 *             size 1), at 128 MB and an assumed 100 ms each.
 *
 * Writes bench/results/tx.json.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CostMeter, itemSize, PRICES, stateTransitions, usd, writeUnits } from 'concord-aws/cost';
import {
  buildStateMachine,
  Coordinator,
  Participant,
  registerStateMachines,
  runParticipantWorker,
  type TransactionDefinition,
  type TxMode,
} from 'concord-aws/tx';
import { Bank, type TransferLeg } from '../functions/bank/bank.js';
import { transferDefinition } from '../functions/bank/transfer.js';
import { ensureEmulator } from '../scripts/emulator.js';
import { createCoordinatorTable, createPlainTable } from '../test/support/tables.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env.BENCH_QUICK === '1';
const PER_ROW = Number(process.env.BENCH_TRANSACTIONS ?? (quick ? 20 : 100));
const IN_FLIGHT = 10;
const LAMBDA_GB_SECONDS = 0.128 * 0.1;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

const emulator = await ensureEmulator('ministack');
const endpoint = emulator.endpoint;
const meter = new CostMeter();
const dynamodb = meter.attach(new DynamoDBClient({ endpoint, region, credentials }), 'DynamoDB');
const sfn = meter.attach(new SFNClient({ endpoint, region, credentials }), 'SFN');
const sqs = meter.attach(new SQSClient({ endpoint, region, credentials, maxAttempts: 3 }), 'SQS');
const suffix = Date.now().toString(36);

interface Row {
  mode: TxMode | 'transactWriteItems';
  participants: number;
  transactions: number;
  committed: number;
  aborted: number;
  conserved: boolean;
  txPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  stateTransitionsPerTx: number;
  wruPerTx: number;
  rruPerTx: number;
  sqsRequestsPerTx: number;
  lambdaInvocationsPerTx: number;
  usdPerMillion: number;
  /** Against the floor (one TransactWriteItems per transfer), measured in the same run. */
  costRatioToFloor?: number;
  speedRatioToFloor?: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function runWithConcurrency<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const coordinatorTable = await createCoordinatorTable(dynamodb, `concord-tx-bench-${suffix}`);
  const definitions: TransactionDefinition[] = [];
  for (const mode of ['2pc', 'saga'] as const)
    for (const legs of [2, 3, 5]) definitions.push(transferDefinition(mode, { legs, timeoutSeconds: 60 }));
  const arns: Record<string, string | undefined> = {};
  for (const definition of definitions) {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `${definition.name}-${suffix}`,
        definition: buildStateMachine(definition, { coordinatorTable }),
        roleArn: 'arn:aws:iam::000000000000:role/concord-coordinator',
      }),
    );
    arns[definition.name] = stateMachineArn;
  }
  const stateMachines = registerStateMachines(definitions, arns);
  const coordinator = new Coordinator({ dynamodb, sfn, tableName: coordinatorTable, stateMachines });
  // The benchmark's own polling for the outcome is not part of the protocol's cost: unmetered.
  const observer = new Coordinator({
    dynamodb: new DynamoDBClient({ endpoint, region, credentials }),
    sfn,
    tableName: coordinatorTable,
    stateMachines,
  });
  const banks: Record<string, { bank: Bank; queueUrl: string; participant: Participant<TransferLeg> }> = {};
  const names = new Set(definitions.flatMap((d) => d.participants.map((p) => p.name)));
  for (const name of ['bank-a', 'bank-b']) {
    const table = await createPlainTable(dynamodb, `${name}-bench-${suffix}`);
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `${name}-bench-${suffix}`, Attributes: { VisibilityTimeout: '30' } }),
    );
    const bank = new Bank(name, dynamodb, table);
    const handlers = bank.handlers();
    const participant = new Participant<TransferLeg>({
      dynamodb,
      tableName: table,
      sfn,
      coordinatorTable,
      handlers: Object.fromEntries([...names].map((n) => [n, handlers])),
    });
    banks[name] = { bank, queueUrl: QueueUrl as string, participant };
  }
  const workers = new AbortController();
  for (const rig of Object.values(banks)) {
    for (let i = 0; i < 3; i++) {
      void runParticipantWorker({
        participant: rig.participant as Participant<unknown>,
        sqs,
        queueUrl: rig.queueUrl,
        signal: workers.signal,
        visibilityTimeoutSeconds: 30,
      });
    }
  }

  const rows: Row[] = [];
  for (const definition of definitions) {
    const n = definition.participants.length;
    const mode = definition.mode;
    // Each transaction has its own accounts: no contention, every transfer commits (the cost of the protocol, not of retries).
    const accounts = await Promise.all(
      Array.from({ length: PER_ROW }, async (_, t) => {
        const from = `${mode}${n}-from-${t}-${suffix}`;
        await banks['bank-a']!.bank.open(from, 1_000);
        const credits = await Promise.all(
          Array.from({ length: n - 1 }, async (_, c) => {
            const id = `${mode}${n}-to-${t}-${c}-${suffix}`;
            await banks['bank-b']!.bank.open(id, 0);
            return id;
          }),
        );
        return { from, credits };
      }),
    );
    const handledBefore = Object.values(banks).reduce((s, b) => s + b.participant.counters.applied + b.participant.counters.duplicates, 0);
    const costBefore = meter.snapshot();
    const latencies: number[] = [];
    const statuses: string[] = [];
    const started = performance.now();
    await runWithConcurrency(
      accounts.map((a, t) => ({ ...a, txId: `bench-${mode}${n}-${t}-${suffix}` })),
      IN_FLIGHT,
      async ({ from, credits, txId }) => {
        const t0 = performance.now();
        await coordinator.start(
          definition.name,
          txId,
          definition.participants.map((p, i) => ({
            name: p.name,
            queueUrl: (i === 0 ? banks['bank-a'] : banks['bank-b'])!.queueUrl,
            payload: (i === 0
              ? { kind: 'debit', accountId: from, amount: 10 * (n - 1) }
              : { kind: 'credit', accountId: credits[i - 1] as string, amount: 10 }) satisfies TransferLeg,
          })),
        );
        for (;;) {
          const { status } = await observer.view(txId);
          if (status !== 'PENDING') {
            statuses.push(status);
            latencies.push(performance.now() - t0);
            return;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const cost = CostMeter.diff(meter.snapshot(), costBefore);
    const handled =
      Object.values(banks).reduce((s, b) => s + b.participant.counters.applied + b.participant.counters.duplicates, 0) - handledBefore;
    let conserved = true;
    for (const a of accounts) {
      const debited = await banks['bank-a']!.bank.account(a.from);
      const credited = await Promise.all(a.credits.map((c) => banks['bank-b']!.bank.account(c)));
      if (debited.balance + credited.reduce((s, c) => s + c.balance, 0) !== 1_000 || debited.held !== 0) conserved = false;
    }
    const committed = statuses.filter((s) => s === 'COMMITTED').length;
    const aborted = statuses.filter((s) => s === 'ABORTED').length;
    // Modelled: what Step Functions does inside AWS.
    const { Item: sample } = await dynamodb.send(
      new GetItemCommand({ TableName: coordinatorTable, Key: { pk: { S: `TX#bench-${mode}${n}-0-${suffix}` }, sk: { S: 'tx' } } }),
    );
    const recordWru = writeUnits(sample ? itemSize(sample) : 1_024);
    const sfnWruPerTx = 2 * recordWru + 2; // decision + status updates; the open index's insert and delete
    const messagesPerTx = mode === '2pc' ? 2 * n : n;
    const transitions = stateTransitions(definition, { kind: 'commit' });
    const lambdaInvocationsPerTx = 1 + handled / PER_ROW;
    const perTx = {
      writeUnits: cost.writeUnits / PER_ROW + sfnWruPerTx,
      readUnits: cost.readUnits / PER_ROW,
      sqsRequests: cost.sqsRequests / PER_ROW + messagesPerTx,
      s3Puts: 0,
      s3Gets: 0,
      stateTransitions: transitions,
      lambdaInvocations: lambdaInvocationsPerTx,
      lambdaGbSeconds: lambdaInvocationsPerTx * LAMBDA_GB_SECONDS,
    };
    rows.push({
      mode,
      participants: n,
      transactions: PER_ROW,
      committed,
      aborted,
      conserved,
      txPerSecond: PER_ROW / seconds,
      p50Ms: percentile(
        [...latencies].sort((x, y) => x - y),
        50,
      ),
      p99Ms: percentile(
        [...latencies].sort((x, y) => x - y),
        99,
      ),
      stateTransitionsPerTx: transitions,
      wruPerTx: perTx.writeUnits,
      rruPerTx: perTx.readUnits,
      sqsRequestsPerTx: perTx.sqsRequests,
      lambdaInvocationsPerTx,
      usdPerMillion: usd(perTx) * 1e6,
    });
    process.stderr.write(`done: ${mode} x${n}\n`);
  }
  workers.abort();

  // The floor: both accounts in one table, one TransactWriteItems per transfer.
  const floorTable = await createPlainTable(dynamodb, `concord-floor-${suffix}`);
  const floorBank = new Bank('floor', dynamodb, floorTable);
  for (let t = 0; t < PER_ROW; t++) {
    await floorBank.open(`from-${t}`, 1_000);
    await floorBank.open(`to-${t}`, 0);
  }
  const floorBefore = meter.snapshot();
  const floorLatencies: number[] = [];
  const floorStarted = performance.now();
  await runWithConcurrency(
    Array.from({ length: PER_ROW }, (_, t) => t),
    IN_FLIGHT,
    async (t) => {
      const t0 = performance.now();
      const update = (id: string, expression: string, condition: string) => ({
        Update: {
          TableName: floorTable,
          Key: { pk: { S: `ACCOUNT#${id}` }, sk: { S: 'account' } },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':a': { N: '10' } },
        },
      });
      await dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            update(`from-${t}`, 'SET balance = balance - :a, available = available - :a', 'available >= :a'),
            update(`to-${t}`, 'SET balance = balance + :a, available = available + :a', 'attribute_exists(pk)'),
          ],
        }),
      );
      floorLatencies.push(performance.now() - t0);
    },
  );
  const floorSeconds = (performance.now() - floorStarted) / 1000;
  const floorCost = CostMeter.diff(meter.snapshot(), floorBefore);
  let floorConserved = true;
  for (let t = 0; t < PER_ROW; t++) {
    const [a, b] = [await floorBank.account(`from-${t}`), await floorBank.account(`to-${t}`)];
    if (a.balance + b.balance !== 1_000) floorConserved = false;
  }
  const floorPerTx = {
    writeUnits: floorCost.writeUnits / PER_ROW,
    readUnits: 0,
    sqsRequests: 0,
    s3Puts: 0,
    s3Gets: 0,
    lambdaInvocations: 1,
    lambdaGbSeconds: LAMBDA_GB_SECONDS,
  };
  rows.push({
    mode: 'transactWriteItems',
    participants: 2,
    transactions: PER_ROW,
    committed: PER_ROW,
    aborted: 0,
    conserved: floorConserved,
    txPerSecond: PER_ROW / floorSeconds,
    p50Ms: percentile(
      [...floorLatencies].sort((x, y) => x - y),
      50,
    ),
    p99Ms: percentile(
      [...floorLatencies].sort((x, y) => x - y),
      99,
    ),
    stateTransitionsPerTx: 0,
    wruPerTx: floorPerTx.writeUnits,
    rruPerTx: 0,
    sqsRequestsPerTx: 0,
    lambdaInvocationsPerTx: 1,
    usdPerMillion: usd(floorPerTx) * 1e6,
  });

  const floor = rows.find((r) => r.mode === 'transactWriteItems');
  if (floor) {
    for (const r of rows) {
      r.costRatioToFloor = r.usdPerMillion / floor.usdPerMillion;
      r.speedRatioToFloor = r.txPerSecond / floor.txPerSecond;
    }
  }
  writeFileSync(
    join(root, 'bench', 'results', 'tx.json'),
    `${JSON.stringify(
      {
        emulator: emulator.kind === 'external' ? endpoint : emulator.kind,
        measuredAt: new Date().toISOString(),
        note: 'Step Functions transitions, its SQS sends and DynamoDB writes, and Lambda invocations are modelled (see bench/tx.ts); client-side DynamoDB/SQS requests are metered. Lambda cost assumes 128 MB x 100 ms per invocation.',
        prices: PRICES,
        rows,
      },
      null,
      2,
    )}\n`,
  );
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(`\nTransaction benchmark on ${emulator.kind}, ${PER_ROW} transfers per row, ${IN_FLIGHT} in flight\n`);
  console.log(
    '| mode | participants | tx | committed | aborted | conserved | tx/s | p50 ms | p99 ms | transitions/tx | WRU/tx | RRU/tx | SQS req/tx | Lambda inv/tx | $/M tx | cost × floor | speed × floor |',
  );
  console.log(`|${'---|'.repeat(17)}`);
  for (const r of rows) {
    console.log(
      `| ${r.mode} | ${r.participants} | ${r.transactions} | ${r.committed} | ${r.aborted} | ${r.conserved} | ${f(r.txPerSecond, 1)} | ${f(r.p50Ms, 0)} | ${f(r.p99Ms, 0)} | ${r.stateTransitionsPerTx} | ${f(r.wruPerTx, 1)} | ${f(r.rruPerTx, 1)} | ${f(r.sqsRequestsPerTx, 1)} | ${f(r.lambdaInvocationsPerTx, 1)} | ${f(r.usdPerMillion, 0)} | ${r.costRatioToFloor === undefined ? '—' : f(r.costRatioToFloor, 0)} | ${r.speedRatioToFloor === undefined ? '—' : f(r.speedRatioToFloor, 3)} |`,
    );
  }
  await emulator.stop();
}

await main();
