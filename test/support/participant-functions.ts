/**
 * Participants the express engine invokes, run in this process: each is a Lambda function created
 * on MiniStack in its proxy mode (the function's `MINISTACK_LAMBDA_PROXY_URL`), so that a
 * `lambda:invoke` from the real state machine is forwarded over HTTP to `participantLambdaHandler`
 * here: the same entry point the deployed participant Lambda exports, with the participant object
 * the test holds (crash hooks, counters, handlers it swaps). Nothing of the protocol is faked; the
 * forwarding stands in for Lambda's own runtime (test set-up only; docs/emulators.md).
 *
 * A participant that is "down" (no workers started, or stopped) holds the invocations it gets
 * until it is up again, as an SQS queue holds messages for a stopped worker; the state machine's
 * TimeoutSeconds still bounds its wait, and a held invocation is answered late when it comes back.
 */
import { createServer, type Server } from 'node:http';
import { crc32 } from 'node:zlib';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type Participant, participantLambdaHandler } from 'concord-aws/tx';

export interface ParticipantFunctions {
  /** The function name of `bank`'s participant Lambda. */
  functionName(bank: string): string;
  /** Answer invocations for these banks (releasing what they held); the others hold theirs. */
  setOnline(bank: string, online: boolean): void;
  /** Invocations a bank holds while down, and those it is handling now. */
  pending(bank: string): number;
  close(): Promise<void>;
}

export async function participantFunctions(options: {
  readonly lambda: LambdaClient;
  readonly banks: readonly string[];
  readonly suffix: string;
  /** The participant a bank's invocations go to, read at each invocation (tests swap it). */
  readonly participantOf: (bank: string) => Participant<unknown>;
  readonly onError: (error: unknown) => void;
  /** Each invocation's handler time (what Lambda would bill as its duration), for the benchmark. */
  readonly onInvocation?: (bank: string, durationMs: number) => void;
}): Promise<ParticipantFunctions> {
  const online = new Map<string, boolean>(options.banks.map((b) => [b, false]));
  const waiting = new Map<string, Array<() => void>>(options.banks.map((b) => [b, []]));
  const busy = new Map<string, number>(options.banks.map((b) => [b, 0]));
  const whenOnline = (bank: string) =>
    online.get(bank) ? Promise.resolve() : new Promise<void>((resolve) => waiting.get(bank)?.push(resolve));

  const server: Server = createServer((request, response) => {
    const bank = decodeURIComponent((request.url ?? '/').slice(1));
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      busy.set(bank, (busy.get(bank) ?? 0) + 1);
      try {
        await whenOnline(bank);
        const handler = participantLambdaHandler(options.participantOf(bank), { inDoubtAfterMs: 300_000 });
        const started = performance.now();
        const result = await handler(JSON.parse(Buffer.concat(chunks).toString('utf8'))).finally(() =>
          options.onInvocation?.(bank, performance.now() - started),
        );
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? null));
      } catch (error) {
        options.onError(error);
        // Lambda's answer for a handler that threw; the emulator turns a non-2xx into a function error.
        const body = { errorType: (error as Error).name, errorMessage: (error as Error).message };
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      } finally {
        busy.set(bank, (busy.get(bank) ?? 1) - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  const functionName = (bank: string) => `${bank}-participant-${options.suffix}`;
  for (const bank of options.banks) {
    await options.lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName(bank),
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/concord-participant',
        // Never run: the emulator forwards every invocation to the proxy URL.
        Code: { ZipFile: zipOneFile('index.js', 'exports.handler = async () => { throw new Error("proxied"); };') },
        // Longer than any phase timeout: the state machine's TimeoutSeconds decides, as on AWS.
        Timeout: 120,
        Environment: { Variables: { MINISTACK_LAMBDA_PROXY_URL: `http://127.0.0.1:${port}/${encodeURIComponent(bank)}` } },
      }),
    );
  }

  return {
    functionName,
    setOnline(bank, up) {
      online.set(bank, up);
      if (up) for (const release of waiting.get(bank)?.splice(0) ?? []) release();
    },
    pending: (bank) => busy.get(bank) ?? 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A zip archive holding one stored (uncompressed) file: enough for CreateFunction. */
export function zipOneFile(name: string, content: string): Uint8Array {
  const data = Buffer.from(content);
  const fileName = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(local.length + fileName.length + data.length, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}
