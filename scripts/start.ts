/**
 * `npm start`: the whole system on this machine. Starts MiniStack (or uses AWS_ENDPOINT_URL),
 * deploys the CDK app to it with the CDK CLI, prints `API_URL=<url>` on a line of its own once the
 * API answers and `CONSOLE_URL=<url>` (the operators' console, served by the API) after it, then follows the emulator's log (Lambda output included) until Ctrl-C.
 *
 * MiniStack keeps its state in .emulator/state between runs, so a second start finds the app
 * deployed and skips `cdk deploy` when nothing changed.
 */
import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { createInterface } from 'node:readline';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ensureEmulator, logFile } from './emulator.js';
import { deployLocal, STACK_NAME } from './local-stack.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const say = (line: string) => console.log(`[concord] ${line}`);
const started = Date.now();

const emulator = await ensureEmulator('ministack', undefined, { persistent: true });
say(`${emulator.kind} ${emulator.started ? 'started' : 'already running'} at ${emulator.endpoint}`);
let stack: Awaited<ReturnType<typeof deployLocal>>;
try {
  stack = await deployLocal(emulator.endpoint, (line) => say(line));
} catch (error) {
  say(`deploy failed: ${(error as Error).message}`);
  await emulator.stop();
  process.exit(1);
}
say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s${stack.deployed ? '' : ' (no changes to deploy)'}`);
console.log(`API_URL=${stack.apiUrl}`);
console.log(`CONSOLE_URL=${stack.apiUrl}/console`);
say(`try: curl -s -X POST ${stack.apiUrl}/v1/queues/demo/messages -H 'content-type: application/json' -d '{"body":"hello"}'`);
say(`     curl -s ${stack.apiUrl}/v1/openapi.json | head -c 300`);
say("following the Lambdas' logs and the emulator's; Ctrl-C stops");

/** Prints what the stack's Lambdas log (CloudWatch Logs on the emulator), as it arrives. */
async function followLambdaLogs(endpoint: string): Promise<void> {
  const logs = new CloudWatchLogsClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let since = Date.now();
  const seen = new Set<string>();
  for (;;) {
    await new Promise((r) => setTimeout(r, 2_000));
    try {
      const { logGroups = [] } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: STACK_NAME }));
      const from = since;
      since = Date.now();
      for (const group of logGroups) {
        const { events = [] } = await logs.send(new FilterLogEventsCommand({ logGroupName: group.logGroupName, startTime: from - 2_000 }));
        const name = (group.logGroupName ?? '').replace(`${STACK_NAME}-`, '').replace(/[A-F0-9]{8}-[A-Za-z0-9]+$/, '');
        for (const event of events) {
          const id = `${group.logGroupName}/${event.eventId ?? event.timestamp}/${event.message}`;
          if (seen.has(id) || /^(START|END|REPORT) RequestId/.test(event.message ?? '')) continue;
          seen.add(id);
          console.log(`[${name}] ${(event.message ?? '').trim()}`);
        }
      }
      if (seen.size > 50_000) seen.clear();
    } catch {
      /* the emulator is restarting or stopping */
    }
  }
}
void followLambdaLogs(emulator.endpoint);

// Follow the emulator's log file from its current end.
const log = emulator.kind === 'ministack' ? logFile('ministack', Number(new URL(emulator.endpoint).port)) : undefined;
if (log && existsSync(log)) {
  let position = statSync(log).size;
  const follow = () => {
    const size = statSync(log).size;
    if (size <= position) return;
    const stream = createReadStream(log, { start: position, end: size - 1 });
    position = size;
    createInterface({ input: stream }).on('line', (line) => console.log(`[emulator] ${line}`));
  };
  watch(log, follow);
  setInterval(follow, 1_000);
}

const stop = async () => {
  say(
    emulator.started
      ? 'stopping the emulator (its state is kept for the next start)'
      : 'leaving the emulator running (it was not started here)',
  );
  await emulator.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {}, 1 << 30);
