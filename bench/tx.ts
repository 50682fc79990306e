/**
 * The transaction benchmark: `npm run bench:tx`, on a fresh MiniStack of its own (or
 * AWS_ENDPOINT_URL).
 *
 * For 2, 3 and 5 participants, both modes and both engines: transfers (one debit, the rest
 * credits) through the real state machine, 10 in flight. Standard: participants as in-process SQS
 * workers answering task tokens. Express: participants as Lambda functions the state machine
 * invokes (MiniStack's proxy mode forwards each invocation to the same handler in this process,
 * test/support/participant-functions.ts), each transfer run with StartSyncExecution (the API's
 * `"wait": true`). Beside them, in the same run, the floor: the same transfer as one DynamoDB
 * TransactWriteItems when both accounts live in one table. Then the two designs of a participant
 * phase (a 2-item transaction, or one conditional update of the account item), side by side.
 * Then the rate at saturation: the floor and the 2-participant rows again with more in flight
 * (BENCH_SATURATION, default 40): at 10 in flight each row's rate is 10 / its latency; with more in
 * flight each runs until the emulator's one process is the bottleneck, which is what a rate is.
 *
 * What is measured and what is modelled:
 *   measured: transactions, outcomes, money conservation, throughput, latency (start -> final
 *             status), every DynamoDB/SQS request the client side makes (cost meter), every
 *             participant invocation and how long its handler ran, each Express execution's
 *             duration (the emulator's start and stop dates);
 *   modelled: what no SDK middleware sees: Standard's state transitions (core/tx/billing.ts),
 *             its SQS SendMessage per participant message, the state machine's DynamoDB writes of
 *             the decision and the final status, the coordinator table's index entries (the open
 *             index and the by-status index: 5 WRU a transaction); Lambda as AWS bills it: one
 *             invocation per participant message (batch size 1) or invocation, plus the API call
 *             that starts the transfer, at 128 MB, each for the time its handler was measured
 *             to run; Express by its rules (one request per execution, duration rounded up to
 *             100 ms times 64 MB).
 *
 * Writes bench/results/tx.json (a BENCH_ONLY run: concord-bench-tx.json in the temp dir).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CostMeter, expressGbSeconds, itemSize, lambdaGbSeconds, PRICES, stateTransitions, usd, writeUnits } from 'concord-aws/cost';
import {
  buildStateMachine,
  Coordinator,
  Participant,
  registerStateMachines,
  runParticipantWorker,
  type TransactionDefinition,
  TxEngine,
  type TxMode,
} from 'concord-aws/tx';
import { Bank, type TransferLeg } from '../functions/bank/bank.js';
import { transferDefinition } from '../functions/bank/transfer.js';
import { startFreshEmulator } from '../scripts/emulator.js';
import { participantFunctions } from '../test/support/participant-functions.js';
import { createCoordinatorTable, createPlainTable } from '../test/support/tables.js';
import { measurePhaseDesigns } from './tx-phase-designs.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env.BENCH_QUICK === '1';
const PER_ROW = Number(process.env.BENCH_TRANSACTIONS ?? (quick ? 20 : 100));
const IN_FLIGHT = 10;
/** In-flight levels of the saturation pass (BENCH_SATURATION=40,80; empty to skip). */
const SATURATION_IN_FLIGHT = (process.env.BENCH_SATURATION ?? (quick ? '' : '40'))
  .split(',')
  .filter((x) => x !== '')
  .map(Number);
/**
 * Only these rows, e.g. BENCH_ONLY=express-2pc-2,standard-2pc-2 (engine-mode-participants); the
 * floor always runs, it is what every row is measured against. Unset: every row.
 */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter((x) => x !== '');
/** Every Lambda (API, participants) billed at this size: they wait on I/O. */
const LAMBDA_MB = 128;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

const emulator = await startFreshEmulator('ministack');
const endpoint = emulator.endpoint;
const meter = new CostMeter();
const dynamodb = meter.attach(new DynamoDBClient({ endpoint, region, credentials }), 'DynamoDB');
// StartSyncExecution goes to `sync-<host>` on AWS; a local endpoint has no such host.
const sfn = meter.attach(new SFNClient({ endpoint, region, credentials, disableHostPrefix: true }), 'SFN');
const sqs = meter.attach(new SQSClient({ endpoint, region, credentials, maxAttempts: 3 }), 'SQS');
const lambda = new LambdaClient({ endpoint, region, credentials });
const suffix = Date.now().toString(36);

/** Each Express execution's duration as the emulator reports it (start and stop dates of StartSyncExecution). */
const expressDurationsMs: number[] = [];
sfn.middlewareStack.add(
  (next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName === 'StartSyncExecutionCommand') {
      const out = result.output as { startDate?: Date; stopDate?: Date };
      if (out.startDate && out.stopDate) expressDurationsMs.push(out.stopDate.getTime() - out.startDate.getTime());
    }
    return result;
  },
  { step: 'initialize', name: 'benchExpressDuration' },
);

interface Row {
  engine?: TxEngine;
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
  expressMsPerTx: number;
  wruPerTx: number;
  rruPerTx: number;
  sqsRequestsPerTx: number;
  lambdaInvocationsPerTx: number;
  lambdaMsPerTx: number;
  usdPerMillion: number;
  /** Where the money goes, $ per million transactions. */
  usd: { dynamodb: number; sqs: number; stepFunctions: number; lambda: number };
  /** Against the floor (one TransactWriteItems per transfer), measured in the same run. */
  costRatioToFloor?: number;
  speedRatioToFloor?: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

async function runWithConcurrency<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

interface Usage {
  writeUnits: number;
  readUnits: number;
  sqsRequests: number;
  stateTransitions: number;
  expressRequests: number;
  expressGbSeconds: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
}
const zero = { s3Puts: 0, s3Gets: 0 };
function breakdown(u: Usage): Row['usd'] {
  const m = 1e6;
  return {
    dynamodb: usd({ ...zero, writeUnits: u.writeUnits, readUnits: u.readUnits, sqsRequests: 0 }) * m,
    sqs: usd({ ...zero, writeUnits: 0, readUnits: 0, sqsRequests: u.sqsRequests }) * m,
    stepFunctions:
      usd({
        ...zero,
        writeUnits: 0,
        readUnits: 0,
        sqsRequests: 0,
        stateTransitions: u.stateTransitions,
        expressRequests: u.expressRequests,
        expressGbSeconds: u.expressGbSeconds,
      }) * m,
    lambda:
      usd({
        ...zero,
        writeUnits: 0,
        readUnits: 0,
        sqsRequests: 0,
        lambdaInvocations: u.lambdaInvocations,
        lambdaGbSeconds: u.lambdaGbSeconds,
      }) * m,
  };
}

async function main(): Promise<void> {
  const coordinatorTable = await createCoordinatorTable(dynamodb, `concord-tx-bench-${suffix}`);
  const definitions: TransactionDefinition[] = [];
  // Express: the whole run must fit in 5 minutes, a 5-leg saga's budget included.
  for (const engine of [TxEngine.Standard, TxEngine.Express])
    for (const mode of ['2pc', 'saga'] as const)
      for (const legs of [2, 3, 5])
        if (ONLY.length === 0 || ONLY.includes(`${engine}-${mode}-${legs}`))
          definitions.push(transferDefinition(mode, { legs, engine, timeoutSeconds: engine === TxEngine.Express ? 3 : 60 }));
  const arns: Record<string, string | undefined> = {};
  for (const definition of definitions) {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `${definition.name}-${suffix}`,
        definition: buildStateMachine(definition, { coordinatorTable }),
        roleArn: 'arn:aws:iam::000000000000:role/concord-coordinator',
        type: definition.engine === TxEngine.Express ? 'EXPRESS' : 'STANDARD',
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

  /** Every participant phase's handler time (a Lambda invocation's billed duration on AWS). */
  const phaseMs: number[] = [];
  const banks: Record<string, { bank: Bank; queueUrl: string; participant: Participant<TransferLeg>; functionName: string }> = {};
  const names = new Set(definitions.flatMap((d) => d.participants.map((p) => p.name)));
  const bankNames = ['bank-a', 'bank-b'];
  const functions = await participantFunctions({
    lambda,
    banks: bankNames,
    suffix,
    participantOf: (bank) => banks[bank]!.participant as Participant<unknown>,
    onError: () => undefined,
    onInvocation: (_, ms) => phaseMs.push(ms),
  });
  for (const name of bankNames) {
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
    banks[name] = { bank, queueUrl: QueueUrl as string, participant, functionName: functions.functionName(name) };
    functions.setOnline(name, true);
  }
  const workers = new AbortController();
  for (const rig of Object.values(banks)) {
    // The SQS worker's handle, timed: what an SQS-triggered Lambda would run per message.
    const timed = {
      handle: async (body: Parameters<Participant<unknown>['handle']>[0]) => {
        const started = performance.now();
        try {
          return await rig.participant.handle(body);
        } finally {
          phaseMs.push(performance.now() - started);
        }
      },
    } as Participant<unknown>;
    for (let i = 0; i < 3; i++) {
      void runParticipantWorker({ participant: timed, sqs, queueUrl: rig.queueUrl, signal: workers.signal, visibilityTimeoutSeconds: 30 });
    }
  }

  /** One row: PER_ROW transfers of `definition`, `inFlight` at a time, on accounts of their own. */
  const runRow = async (definition: TransactionDefinition, inFlight: number): Promise<Row> => {
    const n = definition.participants.length;
    const { mode, engine } = definition;
    const express = engine === TxEngine.Express;
    const tag = `${engine[0]}${mode}${n}i${inFlight}`;
    // Each transaction has its own accounts: no contention, every transfer commits (the cost of the protocol, not of retries).
    const accounts = await Promise.all(
      Array.from({ length: PER_ROW }, async (_, t) => {
        const from = `${tag}-from-${t}-${suffix}`;
        await banks['bank-a']!.bank.open(from, 1_000);
        const credits = await Promise.all(
          Array.from({ length: n - 1 }, async (_, c) => {
            const id = `${tag}-to-${t}-${c}-${suffix}`;
            await banks['bank-b']!.bank.open(id, 0);
            return id;
          }),
        );
        return { from, credits };
      }),
    );
    const phasesBefore = phaseMs.length;
    const expressBefore = expressDurationsMs.length;
    const costBefore = meter.snapshot();
    const latencies: number[] = [];
    const startMs: number[] = [];
    const statuses: string[] = [];
    const started = performance.now();
    await runWithConcurrency(
      accounts.map((a, t) => ({ ...a, txId: `bench-${tag}-${t}-${suffix}` })),
      inFlight,
      async ({ from, credits, txId }) => {
        const t0 = performance.now();
        const { status } = await coordinator.start(
          definition.name,
          txId,
          definition.participants.map((p, i) => {
            const rig = (i === 0 ? banks['bank-a'] : banks['bank-b'])!;
            return {
              name: p.name,
              queueUrl: rig.queueUrl,
              functionName: rig.functionName,
              payload: (i === 0
                ? { kind: 'debit', accountId: from, amount: 10 * (n - 1) }
                : { kind: 'credit', accountId: credits[i - 1] as string, amount: 10 }) satisfies TransferLeg,
            };
          }),
          { wait: express },
        );
        // The API Lambda that starts the transfer runs this long (for a synchronous run: all of it).
        startMs.push(performance.now() - t0);
        if (express) {
          statuses.push(status);
          latencies.push(performance.now() - t0);
          return;
        }
        for (;;) {
          const view = await observer.view(txId);
          if (view.status !== 'PENDING') {
            statuses.push(view.status);
            latencies.push(performance.now() - t0);
            return;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const cost = CostMeter.diff(meter.snapshot(), costBefore);
    const phases = phaseMs.slice(phasesBefore);
    const executions = expressDurationsMs.slice(expressBefore);
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
      new GetItemCommand({ TableName: coordinatorTable, Key: { pk: { S: `TX#bench-${tag}-0-${suffix}` }, sk: { S: 'tx' } } }),
    );
    const recordWru = writeUnits(sample ? itemSize(sample) : 1_024);
    // The state machine's decision and status updates bill the whole record. The coordinator
    // table's two KEYS_ONLY indexes bill what no client-side meter sees (an entry is under 1 KB,
    // 1 WRU): the open index (`ob`) gets an entry with the start and loses it with the status; the
    // by-status index (`ls`) gets one with the start, and the status moves it (a delete and an insert).
    const indexWruPerTx = 2 + 3;
    const sfnWruPerTx = 2 * recordWru + indexWruPerTx;
    const sfnSqsPerTx = express ? 0 : mode === '2pc' ? 2 * n : n;
    const transitions = express ? 0 : stateTransitions(definition, { kind: 'commit' });
    const lambdaInvocationsPerTx = 1 + phases.length / PER_ROW;
    const usage: Usage = {
      writeUnits: cost.writeUnits / PER_ROW + sfnWruPerTx,
      readUnits: cost.readUnits / PER_ROW,
      sqsRequests: cost.sqsRequests / PER_ROW + sfnSqsPerTx,
      stateTransitions: transitions,
      expressRequests: express ? 1 : 0,
      expressGbSeconds: sum(executions.map((ms) => expressGbSeconds(ms))) / PER_ROW,
      lambdaInvocations: lambdaInvocationsPerTx,
      lambdaGbSeconds: sum([...phases, ...startMs].map((ms) => lambdaGbSeconds(ms, LAMBDA_MB))) / PER_ROW,
    };
    const money = breakdown(usage);
    const sorted = [...latencies].sort((x, y) => x - y);
    const row: Row = {
      engine,
      mode,
      participants: n,
      transactions: PER_ROW,
      committed,
      aborted,
      conserved,
      txPerSecond: PER_ROW / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      stateTransitionsPerTx: transitions,
      expressMsPerTx: sum(executions) / PER_ROW,
      wruPerTx: usage.writeUnits,
      rruPerTx: usage.readUnits,
      sqsRequestsPerTx: usage.sqsRequests,
      lambdaInvocationsPerTx,
      lambdaMsPerTx: sum([...phases, ...startMs]) / PER_ROW,
      usdPerMillion: sum(Object.values(money)),
      usd: money,
    };
    process.stderr.write(`done: ${engine} ${mode} x${n}, ${inFlight} in flight\n`);
    return row;
  };

  const rows: Row[] = [];
  for (const definition of definitions) rows.push(await runRow(definition, IN_FLIGHT));

  /** The floor: both accounts in one table, one TransactWriteItems per transfer. */
  const runFloor = async (inFlight: number): Promise<Row> => {
    const floorTable = await createPlainTable(dynamodb, `concord-floor-${inFlight}-${suffix}`);
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
      inFlight,
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
    const floorUsage: Usage = {
      writeUnits: floorCost.writeUnits / PER_ROW,
      readUnits: 0,
      sqsRequests: 0,
      stateTransitions: 0,
      expressRequests: 0,
      expressGbSeconds: 0,
      lambdaInvocations: 1,
      lambdaGbSeconds: sum(floorLatencies.map((ms) => lambdaGbSeconds(ms, LAMBDA_MB))) / PER_ROW,
    };
    const floorMoney = breakdown(floorUsage);
    const floorSorted = [...floorLatencies].sort((x, y) => x - y);
    return {
      mode: 'transactWriteItems',
      participants: 2,
      transactions: PER_ROW,
      committed: PER_ROW,
      aborted: 0,
      conserved: floorConserved,
      txPerSecond: PER_ROW / floorSeconds,
      p50Ms: percentile(floorSorted, 50),
      p99Ms: percentile(floorSorted, 99),
      stateTransitionsPerTx: 0,
      expressMsPerTx: 0,
      wruPerTx: floorUsage.writeUnits,
      rruPerTx: 0,
      sqsRequestsPerTx: 0,
      lambdaInvocationsPerTx: 1,
      lambdaMsPerTx: sum(floorLatencies) / PER_ROW,
      usdPerMillion: sum(Object.values(floorMoney)),
      usd: floorMoney,
    };
  };
  rows.push(await runFloor(IN_FLIGHT));

  // The rate at saturation: throughput is bounded by latency at 10 in flight; with more in flight
  // each system runs until the emulator (one process) is the bottleneck. Same rows, same run.
  const saturation: Array<{ inFlight: number; row: Row; floorTxPerSecond: number }> = [];
  const saturated = definitions.filter((d) => d.participants.length === 2 && (d.engine === TxEngine.Express || d.mode === '2pc'));
  for (const inFlight of SATURATION_IN_FLIGHT) {
    const floorRow = await runFloor(inFlight);
    saturation.push({ inFlight, row: floorRow, floorTxPerSecond: floorRow.txPerSecond });
    for (const definition of saturated) {
      saturation.push({ inFlight, row: await runRow(definition, inFlight), floorTxPerSecond: floorRow.txPerSecond });
    }
  }
  workers.abort();

  const floor = rows.find((r) => r.mode === 'transactWriteItems');
  if (floor) {
    for (const r of rows) {
      r.costRatioToFloor = r.usdPerMillion / floor.usdPerMillion;
      r.speedRatioToFloor = r.txPerSecond / floor.txPerSecond;
    }
  }

  const phaseDesigns = await measurePhaseDesigns({ dynamodb, meter, suffix });
  await functions.close();

  // A run of some rows only (BENCH_ONLY) is not the benchmark's record: it goes to the temp dir.
  const resultsFile = ONLY.length === 0 ? join(root, 'bench', 'results', 'tx.json') : join(tmpdir(), 'concord-bench-tx.json');
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        emulator: emulator.kind === 'external' ? endpoint : `${emulator.kind} (fresh, ${endpoint})`,
        measuredAt: new Date().toISOString(),
        note:
          "Client-side DynamoDB/SQS requests are metered; Step Functions' own transitions, SQS sends and DynamoDB writes are modelled (bench/tx.ts). " +
          `Lambda: one invocation per participant message or invocation plus the API call, ${LAMBDA_MB} MB, each for its measured handler time. ` +
          'Express: one request per execution plus its emulator-reported duration rounded up to 100 ms at 64 MB (MiniStack sleeps 150 ms before every execution, Standard or Express).',
        prices: PRICES,
        rows,
        saturation: saturation.map(({ inFlight, row, floorTxPerSecond }) => ({
          engine: row.engine ?? null,
          mode: row.mode,
          participants: row.participants,
          inFlight,
          transactions: row.transactions,
          committed: row.committed,
          conserved: row.conserved,
          txPerSecond: row.txPerSecond,
          p50Ms: row.p50Ms,
          speedRatioToFloor: row.txPerSecond / floorTxPerSecond,
        })),
        phaseDesigns,
      },
      null,
      2,
    )}\n`,
  );
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(`\nTransaction benchmark on ${emulator.kind} (fresh), ${PER_ROW} transfers per row, ${IN_FLIGHT} in flight\n`);
  console.log(
    '| engine | mode | participants | tx | committed | conserved | tx/s | p50 ms | p99 ms | transitions/tx | Express ms/tx | WRU/tx | RRU/tx | SQS req/tx | Lambda inv/tx | Lambda ms/tx | $/M tx | $ DynamoDB | $ Step Functions | $ Lambda | $ SQS | cost × floor | speed × floor |',
  );
  console.log(`|${'---|'.repeat(23)}`);
  for (const r of rows) {
    console.log(
      `| ${r.engine ?? '—'} | ${r.mode} | ${r.participants} | ${r.transactions} | ${r.committed} | ${r.conserved} | ${f(r.txPerSecond, 1)} | ${f(r.p50Ms, 0)} | ${f(r.p99Ms, 0)} | ${r.stateTransitionsPerTx} | ${f(r.expressMsPerTx, 0)} | ${f(r.wruPerTx, 1)} | ${f(r.rruPerTx, 1)} | ${f(r.sqsRequestsPerTx, 1)} | ${f(r.lambdaInvocationsPerTx, 1)} | ${f(r.lambdaMsPerTx, 0)} | ${f(r.usdPerMillion, 1)} | ${f(r.usd.dynamodb, 1)} | ${f(r.usd.stepFunctions, 1)} | ${f(r.usd.lambda, 1)} | ${f(r.usd.sqs, 1)} | ${r.costRatioToFloor === undefined ? '—' : f(r.costRatioToFloor, 1)} | ${r.speedRatioToFloor === undefined ? '—' : f(r.speedRatioToFloor, 3)} |`,
    );
  }
  if (saturation.length > 0) {
    console.log('\nRate at saturation (the same transfers with more in flight; the floor measured at the same level):\n');
    console.log('| engine | mode | participants | in flight | tx | committed | conserved | tx/s | p50 ms | speed × floor |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const { inFlight, row: r, floorTxPerSecond } of saturation) {
      console.log(
        `| ${r.engine ?? '—'} | ${r.mode} | ${r.participants} | ${inFlight} | ${r.transactions} | ${r.committed} | ${r.conserved} | ${f(r.txPerSecond, 1)} | ${f(r.p50Ms, 0)} | ${f(r.txPerSecond / floorTxPerSecond, 3)} |`,
      );
    }
  }
  console.log('\nParticipant phase designs (a debit: prepare + commit, each on its own account, then on one account with history):\n');
  console.log(
    '| design | WRU per phase | requests per phase | account item bytes after 0 / 100 / 1000 transactions | WRU per write after 1000 |',
  );
  console.log('|---|---|---|---|---|');
  for (const d of phaseDesigns) {
    console.log(
      `| ${d.design} | ${f(d.wruPerPhase)} | ${f(d.requestsPerPhase)} | ${d.itemBytesAfter.join(' / ')} | ${f(d.wruPerWriteAfter1000)} |`,
    );
  }
  await emulator.stop();
}

await main();
