/**
 * The local AWS emulator harness: starts MiniStack (default) or moto from the project's .venv on
 * 127.0.0.1, waits until it answers, and stops it again.
 *
 *   tsx scripts/emulator.ts start [ministack|moto] [--port 4566]
 *   tsx scripts/emulator.ts stop  [ministack|moto] [--port 4566]
 *   tsx scripts/emulator.ts status
 *
 * Tests call `ensureEmulator`: with AWS_ENDPOINT_URL set they use that endpoint (LocalStack, a
 * shared emulator, anything LocalStack-compatible); otherwise they reuse an emulator already
 * answering on the port, or start one and stop it when they finish. The benchmarks call
 * `startFreshEmulator`: a new one on a free port, never one that served something before.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type EmulatorKind = 'ministack' | 'moto';

/**
 * Where each emulator listens: 4566 (LocalStack's port) and 5566, or CONCORD_MINISTACK_PORT and
 * CONCORD_MOTO_PORT, so that two checkouts on one machine can each run their own.
 */
export const DEFAULT_PORTS: Record<EmulatorKind, number> = {
  ministack: Number(process.env.CONCORD_MINISTACK_PORT ?? 4566),
  moto: Number(process.env.CONCORD_MOTO_PORT ?? 5566),
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = join(root, '.emulator');

export interface RunningEmulator {
  readonly kind: EmulatorKind | 'external';
  readonly endpoint: string;
  /** True when this call started it (and `stop` will end it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

/** True when a DynamoDB ListTables call to `endpoint` succeeds. */
export async function answers(endpoint: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** The command that runs `kind` from the project's venv (installed on first use). */
function command(kind: EmulatorKind, port: number): { file: string; args: string[] } {
  const bin = (name: string) => join(root, '.venv', 'bin', name);
  if (!existsSync(bin('ministack')) || !existsSync(bin('moto_server'))) {
    execFileSync(process.execPath, [join(root, 'scripts', 'bootstrap.mjs'), 'emulators'], { stdio: 'inherit' });
  }
  if (kind === 'ministack') return { file: bin('ministack'), args: [] };
  // moto behind a per-request lock: its transactions are not isolated under concurrency.
  return { file: bin('python'), args: [join(root, 'scripts', 'moto_serial.py'), '-H', '127.0.0.1', '-p', String(port)] };
}

const pidFile = (kind: EmulatorKind, port: number) => join(stateDir, `${kind}-${port}.pid`);
export const logFile = (kind: EmulatorKind, port: number) => join(stateDir, `${kind}-${port}.log`);

export interface StartOptions {
  /** Keep MiniStack's state in .emulator/state between runs (npm start). @default false */
  readonly persistent?: boolean;
}

function launch(kind: EmulatorKind, port: number, options: StartOptions = {}): ChildProcess {
  mkdirSync(stateDir, { recursive: true });
  const out = openSync(logFile(kind, port), 'a');
  const { file, args } = command(kind, port);
  const child = spawn(file, args, {
    cwd: stateDir,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      GATEWAY_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      // Lambda events carry `<apiId>.execute-api.<MINISTACK_HOST>` as the request's domain name;
      // with 127.0.0.1 that is not a valid URL host (a host ending in a number must be an IPv4
      // address) and URL parsers reject the request. MiniStack still binds 127.0.0.1 only.
      MINISTACK_HOST: 'localhost',
      LOG_LEVEL: process.env.EMULATOR_LOG_LEVEL ?? (options.persistent ? 'INFO' : 'WARNING'),
      // Not a directory inside this repository: MiniStack unpacks Lambda code and its worker
      // script under TMPDIR, and Node would treat them as ES modules under our package.json.
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      ...(options.persistent
        ? {
            PERSIST_STATE: '1',
            STATE_DIR: join(stateDir, 'state'),
            S3_PERSIST: '1',
            S3_DATA_DIR: join(stateDir, 's3'),
          }
        : {}),
    },
  });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile(kind, port), String(child.pid));
  return child;
}

export async function startEmulator(kind: EmulatorKind, port = DEFAULT_PORTS[kind], options: StartOptions = {}): Promise<RunningEmulator> {
  const endpoint = `http://127.0.0.1:${port}`;
  if (await answers(endpoint)) {
    return { kind, endpoint, started: false, stop: async () => {} };
  }
  const child = launch(kind, port, options);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while (!(await answers(endpoint, 1_000))) {
    if (exited) throw new Error(`${kind} exited during start; see ${logFile(kind, port)}`);
    if (Date.now() > deadline) throw new Error(`${kind} did not answer on ${endpoint} within 60 s; see ${logFile(kind, port)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  if (kind === 'moto') {
    // moto executes state machines only when asked to.
    await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
  }
  return { kind, endpoint, started: true, stop: () => stopEmulator(kind, port) };
}

export async function stopEmulator(kind: EmulatorKind, port = DEFAULT_PORTS[kind]): Promise<void> {
  const file = pidFile(kind, port);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8'));
  try {
    process.kill(-pid, 'SIGTERM'); // the whole process group (hypercorn workers, Lambda runtimes)
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  rmSync(file, { force: true });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && (await answers(endpoint, 300)); i++) await new Promise((r) => setTimeout(r, 100));
}

/** What the tests use: AWS_ENDPOINT_URL if set, else a running or freshly started local emulator. */
export async function ensureEmulator(
  kind: EmulatorKind = 'ministack',
  port?: number,
  options: StartOptions = {},
): Promise<RunningEmulator> {
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    if (!(await answers(external, 5_000))) throw new Error(`AWS_ENDPOINT_URL=${external} does not answer a DynamoDB ListTables call`);
    return { kind: 'external', endpoint: external, started: false, stop: async () => {} };
  }
  return startEmulator(kind, port ?? DEFAULT_PORTS[kind], options);
}

/** A TCP port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A new emulator of its own for a benchmark, on a free port, stopped by `stop()`: its figures do
 * not depend on what ran before (a MiniStack that served a whole test run measured raw
 * conditional writes at 810/s against ~1,300/s fresh). With AWS_ENDPOINT_URL set, that endpoint.
 */
export async function startFreshEmulator(kind: EmulatorKind = 'ministack'): Promise<RunningEmulator> {
  if (process.env.AWS_ENDPOINT_URL) return ensureEmulator(kind);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const emulator = await startEmulator(kind, port);
      if (emulator.started) return emulator;
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
}

async function main(): Promise<void> {
  const [command = 'status', kindArg = 'ministack'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const portFlag = process.argv.indexOf('--port');
  const kind = kindArg as EmulatorKind;
  if (kind !== 'ministack' && kind !== 'moto') throw new Error(`unknown emulator ${JSON.stringify(kindArg)} (ministack|moto)`);
  const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : DEFAULT_PORTS[kind];
  if (command === 'start') {
    const emulator = await startEmulator(kind, port);
    console.log(`${kind} ${emulator.started ? 'started' : 'already running'}: AWS_ENDPOINT_URL=${emulator.endpoint}`);
    console.log(`log: ${logFile(kind, port)}`);
  } else if (command === 'stop') {
    await stopEmulator(kind, port);
    console.log(`${kind} on port ${port} stopped`);
  } else {
    for (const k of ['ministack', 'moto'] as const) {
      const endpoint = `http://127.0.0.1:${DEFAULT_PORTS[k]}`;
      console.log(`${k}: ${(await answers(endpoint)) ? `answering on ${endpoint}` : 'not running'}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
