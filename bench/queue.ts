/**
 * The queue benchmark: `npm run bench:queue` (on MiniStack unless AWS_ENDPOINT_URL is set).
 *
 * For each row, producers and consumers run concurrently against a fresh queue until every message
 * is acknowledged: producers send batches of 10, consumers receive up to 10 and ack each. The cost
 * meter (functions/adapters/cost-meter.ts) bills every request by AWS's rules. In the same run:
 *
 * - raw SQS on the same emulator doing the same send -> receive -> delete work (batched by 10);
 * - the emulator's raw conditional-write rate, with the same number of concurrent workers each
 *   keeping 10 writes in flight (conditional put, update, delete of 1 KB items): the ceiling the
 *   queue is compared with. throughputRatioToLimit = delivered/s / (raw writes/s / writes per message).
 *
 * Writes bench/results/queue.json and prints a markdown table. Environment: BENCH_MESSAGES (default
 * 2000 per 1 KB row), BENCH_QUICK=1 for a short run.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CostMeter, type CostSnapshot, PRICES, usdPerMillion } from 'concord-aws/cost';
import { consume, createQueueService } from 'concord-aws/queue';
import { startFreshEmulator } from '../scripts/emulator.js';
import { createPlainTable } from '../test/support/tables.js';
import { sleep } from '../test/support/wait.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env.BENCH_QUICK === '1';
/** e.g. BENCH_ONLY=1KB-json:1,1KB-json:4 runs only those rows. */
const only = process.env.BENCH_ONLY?.split(',');
const baseMessages = Number(process.env.BENCH_MESSAGES ?? (quick ? 300 : 2_000));
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** Producers pause while more than this many messages per consumer are sent but not yet acked. */
const BACKLOG_PER_CONSUMER = Number(process.env.BENCH_BACKLOG ?? 150);
const region = 'us-east-1';

// Its own MiniStack, fresh, on a free port: ratios that do not depend on what ran before.
const emulator = await startFreshEmulator('ministack');
const endpoint = emulator.endpoint;
const meter = new CostMeter();
const dynamo = () => meter.attach(new DynamoDBClient({ endpoint, region, credentials }), 'DynamoDB');
const s3 = meter.attach(new S3Client({ endpoint, region, credentials, forcePathStyle: true }), 'S3');
const sqs = () => meter.attach(new SQSClient({ endpoint, region, credentials }), 'SQS');
const suffix = Date.now().toString(36);

/** A realistic 1 KB JSON event (order with line items): the kind of body queues carry. */
function jsonBody(targetBytes: number, seed: number): string {
  const head = `{"orderId":"ord-${seed}","customer":"cust-${seed % 977}","currency":"EUR","lines":[`;
  const tail = '],"pad":""}';
  const lines: string[] = [];
  let length = head.length + tail.length;
  for (let i = 0; ; i++) {
    const line = JSON.stringify({
      sku: `SKU-${(seed * 7919 + i * 104_729) % 100_000}`,
      qty: ((seed + i) % 9) + 1,
      price: ((seed * 31 + i * 17) % 10_000) / 100,
      note: i % 3 ? 'standard' : 'gift wrap',
    });
    if (length + line.length + 1 > targetBytes) break;
    lines.push(line);
    length += line.length + (lines.length > 1 ? 1 : 0);
  }
  // Pad to the exact size (the pad is what the last line would not fit into).
  return `${head}${lines.join(',')}],"pad":"${'x'.repeat(targetBytes - length)}"}`;
}

/** 1 KB of random base64: what compression cannot help with. */
function randomBody(targetBytes: number): string {
  return Buffer.from(Array.from({ length: targetBytes }, () => Math.floor(Math.random() * 256)))
    .toString('base64')
    .slice(0, targetBytes);
}

interface Row {
  system: 'concord' | 'sqs';
  body: string;
  bodyBytes: number;
  consumers: number;
  producers: number;
  messages: number;
  seconds: number;
  deliveredPerSecond: number;
  writeRequestsPerMessage: number;
  writeHttpRequestsPerMessage: number;
  readRequestsPerMessage: number;
  wruPerMessage: number;
  rruPerMessage: number;
  requestsPerMessage: number;
  failedConditionalWritesPerMessage: number;
  s3RequestsPerMessage: number;
  usdPerMillion: number;
  rawConditionalWritesPerSecond?: number;
  rawQueriesPerSecond?: number;
  throughputRatioToLimit?: number;
  throughputRatioToQueryAwareLimit?: number;
  rssMb: number;
}

/** DynamoDB operations that write: each HTTP request of one costs the emulator about what a raw conditional write does. */
const DYNAMO_WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

const perMessage = (cost: CostSnapshot, n: number) => ({
  writeRequestsPerMessage: cost.dynamoWriteRequests / n,
  /** HTTP requests that write (a BatchWriteItem of 10 puts is 10 write requests, 1 HTTP request). */
  writeHttpRequestsPerMessage: DYNAMO_WRITE_OPERATIONS.reduce((sum, op) => sum + (cost.requests[`DynamoDB.${op}`] ?? 0), 0) / n,
  readRequestsPerMessage: cost.dynamoReadRequests / n,
  wruPerMessage: cost.writeUnits / n,
  rruPerMessage: cost.readUnits / n,
  requestsPerMessage: Object.values(cost.requests).reduce((a, b) => a + b, 0) / n,
  failedConditionalWritesPerMessage: cost.failedConditionalWrites / n,
  s3RequestsPerMessage: (cost.s3Puts + cost.s3Gets) / n,
  usdPerMillion: usdPerMillion(cost, n),
});

/** What a row's producers and consumers do against one system. */
interface RowWork {
  /** Makes one producer's sender (its own client): sends one batch of up to 10 bodies. */
  readonly producer: () => (bodies: readonly string[]) => Promise<void>;
  /** One consumer: calls `done` per message finished (acked, deleted) until `finished()`. */
  readonly consumer: (done: (n: number) => void, finished: () => boolean) => Promise<void>;
}

/**
 * One row, whatever the system: producers send batches of 10, holding back while `maxBacklog`
 * messages are sent but not yet finished (steady state, not an ever-growing backlog); consumers
 * finish them. Timed to the last message finished: consumers still polling an empty queue
 * afterwards are not work.
 */
async function runRow(
  system: Row['system'],
  label: string,
  makeBody: (i: number) => string,
  consumers: number,
  messages: number,
  work: RowWork,
): Promise<Row> {
  const producers = Math.max(1, Math.ceil(consumers / 2));
  const maxBacklog = BACKLOG_PER_CONSUMER * consumers;
  const bodies = Array.from({ length: messages }, (_, i) => makeBody(i));
  const before = meter.snapshot();
  const started = performance.now();
  let nextToSend = 0;
  let finished = 0;
  let lastFinishedAt = Number.NaN;
  const done = (n: number) => {
    finished += n;
    if (finished >= messages && Number.isNaN(lastFinishedAt)) lastFinishedAt = performance.now();
  };
  const producer = async () => {
    const send = work.producer();
    while (nextToSend < messages) {
      while (nextToSend - finished >= maxBacklog) await sleep(2);
      if (nextToSend >= messages) break;
      const slice = bodies.slice(nextToSend, Math.min(messages, nextToSend + 10));
      nextToSend += slice.length;
      await send(slice);
    }
  };
  const consumer = () => work.consumer(done, () => finished >= messages);
  await Promise.all([...Array.from({ length: producers }, producer), ...Array.from({ length: consumers }, consumer)]);
  const seconds = (lastFinishedAt - started) / 1000;
  const cost = CostMeter.diff(meter.snapshot(), before);
  return {
    system,
    body: label,
    bodyBytes: Buffer.byteLength(bodies[0] as string),
    consumers,
    producers,
    messages,
    seconds,
    deliveredPerSecond: messages / seconds,
    ...perMessage(cost, messages),
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
}

async function runConcord(
  table: string,
  bucket: string,
  label: string,
  makeBody: (i: number) => string,
  consumers: number,
  messages: number,
): Promise<Row> {
  const queueName = `bench-${label}-${consumers}`.replace(/[^A-Za-z0-9_-]/g, '');
  const queueOfOwnProcess = () => createQueueService({ dynamodb: dynamo(), tableName: table, claimCheck: { s3, bucket } }).queue(queueName);
  await queueOfOwnProcess().configure({ shards: Math.max(4, consumers), visibilityTimeoutSeconds: 30 });
  return runRow('concord', label, makeBody, consumers, messages, {
    producer: () => {
      const queue = queueOfOwnProcess();
      return async (bodies) => {
        for (const r of await queue.sendBatch(bodies.map((body) => ({ body })))) if (!r.ok) throw r.error;
      };
    },
    consumer: async (done, finished) => {
      // The library's consumer loop: up to 20 messages in hand, so the next receive of 10 overlaps the acks.
      const stats = await consume(queueOfOwnProcess(), async () => done(1), { concurrency: 20, waitSeconds: 1, until: finished });
      if (stats.leaseLost || stats.nacked) throw new Error(`unexpected: ${JSON.stringify(stats)}`);
    },
  });
}

async function runSqs(label: string, makeBody: (i: number) => string, consumers: number, messages: number): Promise<Row> {
  const { QueueUrl } = await sqs().send(
    new CreateQueueCommand({ QueueName: `bench-sqs-${label}-${consumers}-${suffix}`, Attributes: { VisibilityTimeout: '30' } }),
  );
  return runRow('sqs', label, makeBody, consumers, messages, {
    producer: () => {
      const client = sqs();
      return async (bodies) => {
        await client.send(
          new SendMessageBatchCommand({ QueueUrl, Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })) }),
        );
      };
    },
    consumer: async (done, finished) => {
      const client = sqs();
      while (!finished()) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        if (Messages.length === 0) continue;
        await client.send(
          new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
        );
        done(Messages.length);
      }
    },
  });
}

/**
 * The emulator's raw conditional-write rate: `workers` loops, each keeping 10 chains in flight of
 * conditional put -> conditional update -> conditional delete on 1 KB items (the reference design).
 */
async function rawConditionalWriteRate(table: string, workers: number, writesPerWorker: number): Promise<number> {
  const body = jsonBody(900, 1);
  let writes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const client = dynamo();
      for (let round = 0; round * 30 < writesPerWorker; round++) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const Key = { pk: { S: `raw-${w % 4}` }, sk: { S: `${w}-${round}-${j}` } };
            await client.send(
              new PutItemCommand({
                TableName: table,
                Item: { ...Key, v: { N: '0' }, b: { S: body } },
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            );
            await client.send(
              new UpdateItemCommand({
                TableName: table,
                Key,
                UpdateExpression: 'SET v = :one',
                ConditionExpression: 'v = :zero',
                ExpressionAttributeValues: { ':one': { N: '1' }, ':zero': { N: '0' } },
              }),
            );
            await client.send(
              new DeleteItemCommand({
                TableName: table,
                Key,
                ConditionExpression: 'v = :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              }),
            );
            writes += 3;
          }),
        );
      }
    }),
  );
  return writes / ((performance.now() - started) / 1000);
}

/**
 * The emulator's raw Query rate with the same concurrency: strongly consistent, Limit 10, on a
 * partition of 20 ready 1 KB items (what a receive reads). Used for the query-aware limit.
 */
async function rawQueryRate(table: string, workers: number, queriesPerWorker: number): Promise<number> {
  const client = dynamo();
  const body = jsonBody(600, 2);
  const pk = `rawq-${workers}`;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: pk }, sk: { S: `M#${String(i).padStart(13, '0')}` }, v: { N: '0' }, b: { S: body } },
        }),
      ),
    ),
  );
  let queries = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const worker = dynamo();
      for (let round = 0; round * 10 < queriesPerWorker; round++) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            await worker.send(
              new QueryCommand({
                TableName: table,
                KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
                FilterExpression: 'v <= :now',
                ExpressionAttributeValues: { ':p': { S: pk }, ':a': { S: 'M#' }, ':b': { S: 'M#9' }, ':now': { N: '5' } },
                Limit: 10,
                ConsistentRead: true,
              }),
            );
            queries++;
          }),
        );
      }
    }),
  );
  return queries / ((performance.now() - started) / 1000);
}

/** How the emulator's Query latency grows with the partition's size (on AWS it does not). */
async function emulatorQueryCost(table: string): Promise<Array<{ partitionItems: number; queryMs: number; conditionalWriteMs: number }>> {
  const client = dynamo();
  const body = jsonBody(600, 3);
  const out: Array<{ partitionItems: number; queryMs: number; conditionalWriteMs: number }> = [];
  for (const n of [10, 100, 1_000]) {
    const pk = `qcost-${n}`;
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          client.send(
            new PutItemCommand({
              TableName: table,
              Item: { pk: { S: pk }, sk: { S: `M#${String(i + j).padStart(13, '0')}` }, v: { N: '0' }, b: { S: body } },
            }),
          ),
        ),
      );
    }
    const time = async (fn: (k: number) => Promise<unknown>) => {
      const t = performance.now();
      for (let k = 0; k < 30; k++) await fn(k);
      return (performance.now() - t) / 30;
    };
    const queryMs = await time(() =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
          FilterExpression: 'v <= :now',
          ExpressionAttributeValues: { ':p': { S: pk }, ':a': { S: 'M#' }, ':b': { S: 'M#9' }, ':now': { N: '5' } },
          Limit: 10,
          ConsistentRead: true,
        }),
      ),
    );
    const conditionalWriteMs = await time((k) =>
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: pk }, sk: { S: `M#${String(k % n).padStart(13, '0')}` } },
          UpdateExpression: 'SET v = :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      ),
    );
    out.push({ partitionItems: n, queryMs, conditionalWriteMs });
  }
  return out;
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined ? '—' : n.toFixed(digits));

async function main(): Promise<void> {
  const admin = dynamo();
  const table = `concord-bench-${suffix}`;
  const rawTable = `concord-bench-raw-${suffix}`;
  await createPlainTable(admin, table);
  await createPlainTable(admin, rawTable);
  const bucket = `concord-bench-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  const queryCost = await emulatorQueryCost(rawTable);
  const scenarios: Array<{ label: string; make: (i: number) => string; messages: number; consumers: number[] }> = [
    { label: '1KB-json', make: (i) => jsonBody(1024, i), messages: baseMessages, consumers: [1, 4, 16] },
    { label: '1KB-random', make: () => randomBody(1024), messages: Math.ceil(baseMessages / 2), consumers: [4] },
    { label: '64KB-json', make: (i) => jsonBody(64 * 1024, i), messages: Math.ceil(baseMessages / 8), consumers: [1, 4, 16] },
  ];
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    for (const consumers of scenario.consumers) {
      if (only && !only.includes(`${scenario.label}:${consumers}`)) continue;
      const workers = consumers + Math.max(1, Math.ceil(consumers / 2));
      // The ceiling is measured right before and right after the row and averaged: this machine's
      // speed drifts between minutes, and both halves of the ratio must see the same machine.
      const rawWrites = quick ? 60 : Math.max(150, Math.ceil(3_000 / workers));
      const rawBefore = await rawConditionalWriteRate(rawTable, workers, rawWrites);
      const row = await runConcord(table, bucket, scenario.label, scenario.make, consumers, scenario.messages);
      const raw = (rawBefore + (await rawConditionalWriteRate(rawTable, workers, rawWrites))) / 2;
      const rawQueries = await rawQueryRate(rawTable, workers, quick ? 30 : Math.max(50, Math.ceil(600 / workers)));
      row.rawConditionalWritesPerSecond = raw;
      row.rawQueriesPerSecond = rawQueries;
      row.throughputRatioToLimit = row.deliveredPerSecond / (raw / row.writeRequestsPerMessage);
      // What the emulator could do with the requests the queue sends: each write request at the raw
      // write rate, each query at the raw query rate.
      row.throughputRatioToQueryAwareLimit =
        row.deliveredPerSecond * (row.writeHttpRequestsPerMessage / raw + row.readRequestsPerMessage / rawQueries);
      rows.push(row);
      rows.push(await runSqs(scenario.label, scenario.make, consumers, scenario.messages));
      process.stderr.write(`done: ${scenario.label} x${consumers}\n`);
    }
  }

  const headline = rows.find((r) => r.system === 'concord' && r.body === '1KB-json' && r.consumers === 1) as Row;
  const concord1kb = rows.filter((r) => r.system === 'concord' && r.body === '1KB-json');
  const result = {
    emulator: emulator.kind === 'external' ? endpoint : emulator.kind,
    measuredAt: new Date().toISOString(),
    note: 'Headline fields: 1 KB JSON bodies, 1 producer + 1 consumer (no contention), receives of up to 10, producers held to a backlog of at most backlogPerConsumer messages per consumer. Every row has its own throughputRatioToLimit.',
    writeRequestsPerMessage: headline.writeRequestsPerMessage,
    wruPerMessage: headline.wruPerMessage,
    rruPerMessage: headline.rruPerMessage,
    usdPerMillion: headline.usdPerMillion,
    throughputRatioToLimit: headline.throughputRatioToLimit,
    lowestThroughputRatioToLimit1KB: Math.min(...concord1kb.map((r) => r.throughputRatioToLimit as number)),
    sqsUsdPerMillionBatched: rows.find((r) => r.system === 'sqs' && r.body === '1KB-json' && r.consumers === 1)?.usdPerMillion,
    sqsUsdPerMillionUnbatched: 3 * PRICES.sqsStandardRequest * 1e6,
    targets: { writeRequestsPerMessage: 3, wruPerMessage: 3.3, rruPerMessage: 0.25, throughputRatioToLimit: 0.8 },
    backlogPerConsumer: BACKLOG_PER_CONSUMER,
    emulatorQueryCost: queryCost,
    rows,
  };
  writeFileSync(join(root, 'bench', 'results', 'queue.json'), `${JSON.stringify(result, null, 2)}\n`);

  const header =
    '| system | body | consumers | msgs | msg/s | write req/msg | WRU/msg | RRU/msg | failed cond. writes/msg | requests/msg | S3 req/msg | $/M msgs | raw cond. writes/s | ratio to limit | raw queries/s | ratio to query-aware limit |';
  console.log(`\nQueue benchmark on ${result.emulator}, ${result.measuredAt}\n`);
  console.log(header);
  console.log(`|${'---|'.repeat(16)}`);
  for (const r of rows) {
    console.log(
      `| ${r.system} | ${r.body} | ${r.consumers} | ${r.messages} | ${fmt(r.deliveredPerSecond, 0)} | ${fmt(r.writeRequestsPerMessage)} | ${fmt(r.wruPerMessage)} | ${fmt(r.rruPerMessage, 3)} | ${fmt(r.failedConditionalWritesPerMessage, 3)} | ${fmt(r.requestsPerMessage)} | ${fmt(r.s3RequestsPerMessage)} | ${fmt(r.usdPerMillion)} | ${fmt(r.rawConditionalWritesPerSecond, 0)} | ${fmt(r.throughputRatioToLimit)} | ${fmt(r.rawQueriesPerSecond, 0)} | ${fmt(r.throughputRatioToQueryAwareLimit)} |`,
    );
  }
  console.log("\nThe emulator's own costs (why its Query-bound rows fall below its write-bound limit):\n");
  console.log('| items in the partition | Query, Limit 10 (ms) | conditional write (ms) |');
  console.log('|---|---|---|');
  for (const q of queryCost) console.log(`| ${q.partitionItems} | ${fmt(q.queryMs, 1)} | ${fmt(q.conditionalWriteMs, 1)} |`);
  console.log(
    `\nHeadline (1 KB JSON, no contention): ${fmt(result.writeRequestsPerMessage)} write requests, ${fmt(result.wruPerMessage)} WRU, ${fmt(result.rruPerMessage, 3)} RRU, $${fmt(result.usdPerMillion)} per million; SQS batched $${fmt(result.sqsUsdPerMillionBatched)}, unbatched $${fmt(result.sqsUsdPerMillionUnbatched)}; throughput ratio to the emulator's limit ${fmt(result.throughputRatioToLimit)} (lowest 1 KB row ${fmt(result.lowestThroughputRatioToLimit1KB)})`,
  );
  await emulator.stop();
}

await main();
