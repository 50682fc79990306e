/**
 * The `concord` command line: parse (commander) → call (ConcordClient) → render (render.ts).
 * `runCli` takes its streams, environment and clock as arguments and returns the exit code, so it
 * runs the same in the bin (main.ts) and in a test.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConsoleProxyError, type RunningConsole, serveConsole } from '../console/proxy.js';
import { AuthMode, authModeFor, chooseAuth, defaultCredentials, regionOfApiHost } from './auth.js';
import {
  ConcordClient,
  type Consistency,
  type JsonValue,
  MessageState,
  type Page,
  type PageRequest,
  parseApiUrl,
  TxStatus,
} from './client.js';
import { ExitCode, FailureKind, OperatorError } from './errors.js';
import { type Progress, progressBar } from './progress.js';
import {
  moreHint,
  renderConfig,
  renderDeadLetter,
  renderDeadLetters,
  renderJson,
  renderPeek,
  renderQueues,
  renderRedriven,
  renderRetried,
  renderSent,
  renderStats,
  renderTimeline,
  renderTransactions,
} from './render.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin?: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
  /** The package's version, for --version. */
  readonly version?: string;
  /** Resolves when the operator stops a long-running command (`concord console`): the bin's Ctrl-C. */
  readonly interrupted?: () => Promise<void>;
  /** For tests; the bin uses the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The API's page bound (docs/operators-api.md). */
const PAGE_MAX = 100;
/** How many items a listing shows unless told `--limit` or `--all`. */
const DEFAULT_SHOWN = 100;
/** The redrive route moves at most this many per call (functions/api/schemas.ts RedriveLimits). */
const REDRIVE_PER_CALL = 1_000;

interface GlobalOptions {
  api?: string | undefined;
  token?: string | undefined;
  auth?: AuthMode;
  region?: string;
  profile?: string;
  json?: boolean;
  progress: boolean;
  timeout?: number;
}

interface ListOptions {
  limit?: number;
  all?: boolean;
  cursor?: string;
}

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER, min = 1) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0, not ${JSON.stringify(text)}`);
    return n;
  };
}

/** A message body from the command line: JSON when it parses as JSON, else the text as a string. */
export function parseBody(text: string, asString: boolean): JsonValue {
  if (asString) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

/** The bin's stop: the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const write = (text: string): void => {
    io.stdout.write(text);
  };
  const program = new Command('concord');
  let json = false;

  program
    .description('Operate a Concord deployment through its HTTP API: queues, dead letters, transactions.')
    .version(io.version ?? 'unknown', '-V, --version')
    .addOption(new Option('--api <url>', "the API's base URL (env: CONCORD_API_URL)"))
    .addOption(new Option('--token <token>', 'a bearer token, for APIs with JWT authorization (env: CONCORD_API_TOKEN)'))
    .addOption(
      new Option(
        '--auth <mode>',
        'how requests are authorized (env: CONCORD_API_AUTH; default: jwt with a token, iam for an execute-api host, else none)',
      ).choices(Object.values(AuthMode)),
    )
    .addOption(new Option('--region <region>', "the region to sign for (default: the API host's, else AWS_REGION)"))
    .addOption(new Option('--profile <name>', "the AWS profile to sign with (default: the SDK's chain, AWS_PROFILE)"))
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--no-progress', 'never draw a progress bar (it is drawn only when stderr is a terminal)')
    .addOption(new Option('--timeout <seconds>', 'per request').argParser(positiveNumber('--timeout')))
    .showHelpAfterError('(concord --help lists the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 usage or bad input (incl. a bad --api URL, a 400), 2 not found,
            3 the API failed or is unreachable, 4 not authorized (401/403, no credentials),
            5 the state does not allow it (409).`,
    )
    .hook('preAction', () => {
      json = program.opts<GlobalOptions>().json === true;
    });

  /** The options, the environment filling in what the command line left out (io.env: the bin's process.env). */
  const globals = (): GlobalOptions => {
    const given = program.opts<GlobalOptions>();
    const auth = given.auth ?? io.env.CONCORD_API_AUTH;
    if (auth !== undefined && !(Object.values(AuthMode) as string[]).includes(auth)) {
      throw new OperatorError(
        FailureKind.Usage,
        `CONCORD_API_AUTH=${JSON.stringify(auth)} is not one of ${Object.values(AuthMode).join(', ')}`,
      );
    }
    return {
      ...given,
      api: given.api ?? io.env.CONCORD_API_URL,
      token: given.token ?? io.env.CONCORD_API_TOKEN,
      ...(auth !== undefined ? { auth: auth as AuthMode } : {}),
    };
  };
  const client = (): ConcordClient => {
    const g = globals();
    const url = parseApiUrl(g.api);
    const auth = chooseAuth({
      url,
      mode: g.auth,
      token: g.token,
      region: g.region ?? regionOfApiHost(url.hostname) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
      profile: g.profile,
    });
    return new ConcordClient({
      baseUrl: url.href,
      signer: auth.signer,
      ...(io.fetch ? { fetch: io.fetch } : {}),
      ...(g.timeout ? { timeoutMs: g.timeout * 1000 } : {}),
    });
  };
  const progress = (label: string, total: number, unit: string): Progress =>
    progressBar({ stream: io.stderr, label, total, unit, enabled: globals().progress && !json });

  /** Pages through a listing until `--limit` items (default 100), or the end with `--all`. */
  async function collect<T>(label: string, options: ListOptions, fetchPage: (page: PageRequest) => Promise<Page<T>>) {
    const wanted = options.all ? Number.POSITIVE_INFINITY : (options.limit ?? DEFAULT_SHOWN);
    const items: T[] = [];
    let cursor = options.cursor;
    let consistency: Page<T>['consistency'] = 'eventual';
    let bar: Progress | undefined;
    let pages = 0;
    try {
      for (;;) {
        const page = await fetchPage({ cursor, limit: Math.min(PAGE_MAX, wanted - items.length) });
        pages += 1;
        items.push(...page.items);
        consistency = page.consistency;
        cursor = page.nextCursor;
        if (!cursor || items.length >= wanted) break;
        // A second page means long work: show it, growing the total as pages arrive.
        bar ??= progress(label, items.length + PAGE_MAX, 'items');
        bar.update(items.length, items.length + PAGE_MAX);
      }
    } finally {
      bar?.stop();
    }
    return { items, consistency, pages, ...(cursor ? { nextCursor: cursor } : {}) };
  }

  /** A listing: `--json` as the API's page shape (the items under `key`), else the table and, on stderr, how to go on. */
  function printListing<T>(
    listed: { items: T[]; consistency: Consistency; nextCursor?: string },
    key: string,
    extra: Record<string, unknown>,
    table: (items: readonly T[], consistency: Consistency) => string,
  ): void {
    if (json) {
      const next = listed.nextCursor ? { nextCursor: listed.nextCursor } : {};
      write(renderJson({ ...extra, [key]: listed.items, ...next, consistency: listed.consistency }));
    } else {
      write(table(listed.items, listed.consistency));
      io.stderr.write(moreHint(listed.nextCursor, listed.items.length));
    }
  }

  /**
   * Queues exist on first use, so an empty answer may be an empty queue or a typo. Only then ask
   * the list of queues whether it exists (the list reads every queue's stats: not on every call).
   */
  async function requireQueue(api: ConcordClient, queue: string): Promise<void> {
    let cursor: string | undefined;
    try {
      do {
        // Strong: a queue used a moment ago must not read as unknown.
        const page = await api.listQueues({ cursor, limit: PAGE_MAX, consistency: 'strong' });
        if (page.items.some((q) => q.queue === queue)) return;
        cursor = page.nextCursor;
      } while (cursor);
    } catch (error) {
      // A deployment without the list route cannot tell: the empty answer stands.
      if (error instanceof OperatorError && error.kind === FailureKind.BadUrl) return;
      throw error;
    }
    throw new OperatorError(
      FailureKind.NotFound,
      `no queue named ${JSON.stringify(queue)} (concord queues list shows this deployment's queues)`,
    );
  }

  const listOptions = (command: Command) =>
    command
      .addOption(new Option('--limit <n>', `show at most n (default ${DEFAULT_SHOWN})`).argParser(positiveInt('--limit')))
      .option('--all', 'every page')
      .option('--cursor <cursor>', 'start at this page (from a previous --json nextCursor)');

  // --- queues -----------------------------------------------------------------------------------
  const queues = program.command('queues').description('queues: their configuration, counts and messages');

  listOptions(queues.command('list').description('every queue with its configuration and counts')).action(async (options: ListOptions) => {
    const api = client();
    const listed = await collect('queues', options, (page) => api.listQueues(page));
    printListing(listed, 'queues', {}, (items) => renderQueues(items));
  });

  queues
    .command('stats <queue>')
    .description('counts by state: visible, in flight, delayed, dead-lettered, age of the oldest')
    .option('--strong', 'a strongly consistent read (default: eventual)')
    .action(async (queue: string, options: { strong?: boolean }) => {
      const api = client();
      const stats = await api.queueStats(queue, options.strong ? 'strong' : undefined);
      if (stats.visible + stats.inFlight + stats.delayed + stats.deadLettered === 0) await requireQueue(api, queue);
      write(json ? renderJson({ queue, ...stats }) : renderStats(queue, stats));
    });

  listOptions(
    queues
      .command('peek <queue>')
      .description('look at messages without leasing them: receive count, age, lease end and fence of in-flight ones')
      .addOption(
        new Option('--state <state>', 'the messages in this state (default: visible, as the API)').choices(Object.values(MessageState)),
      ),
  ).action(async (queue: string, options: ListOptions & { state?: MessageState }) => {
    const api = client();
    const listed = await collect('messages', options, (page) => api.peek(queue, { ...page, state: options.state }));
    if (listed.items.length === 0 && !options.cursor) await requireQueue(api, queue);
    printListing(listed, 'messages', { queue }, (items, consistency) => renderPeek(items, io.now(), consistency));
  });

  queues
    .command('configure <queue>')
    .description('set the configuration (fields left out keep their value); prints the whole configuration now in force')
    .addOption(new Option('--max-receives <n>', 'deliveries before a message is dead-lettered').argParser(positiveInt('--max-receives')))
    .addOption(new Option('--visibility <seconds>', 'the default lease').argParser(positiveInt('--visibility')))
    .option('--fifo', 'ordered per message group (only on a queue that has no messages yet)')
    .action(async (queue: string, options: { maxReceives?: number; visibility?: number; fifo?: boolean }) => {
      const config = await client().configure(queue, {
        ...(options.maxReceives !== undefined ? { maxReceiveCount: options.maxReceives } : {}),
        ...(options.visibility !== undefined ? { visibilityTimeoutSeconds: options.visibility } : {}),
        ...(options.fifo ? { fifo: true } : {}),
      });
      write(json ? renderJson(config) : renderConfig(config));
    });

  // --- messages ---------------------------------------------------------------------------------
  const messages = program.command('messages').description('send messages');
  messages
    .command('send <queue> <body>')
    .description('send a message; BODY is a JSON value (`{"a":1}`, `42`, `"text"`), other text is sent as a string; - reads stdin')
    .option('--string', 'send BODY as a string even if it parses as JSON')
    .option('--group <id>', 'the message group (FIFO queues)')
    .option('--dedup-id <id>', 'a repeat with this id within the dedup window is the same message')
    .addOption(new Option('--delay <seconds>', 'visible after this many seconds').argParser(positiveInt('--delay', 900, 0)))
    .action(async (queue: string, bodyText: string, options: { string?: boolean; group?: string; dedupId?: string; delay?: number }) => {
      const text = bodyText === '-' ? await readAll(io.stdin ?? process.stdin) : bodyText;
      const body = parseBody(bodyText === '-' ? text.replace(/\n$/, '') : text, options.string === true);
      const sent = await client().send(queue, {
        body,
        ...(options.group !== undefined ? { groupId: options.group } : {}),
        ...(options.dedupId !== undefined ? { dedupId: options.dedupId } : {}),
        ...(options.delay !== undefined ? { delaySeconds: options.delay } : {}),
      });
      write(json ? renderJson({ queue, ...sent }) : renderSent(queue, sent));
    });

  // --- dlq --------------------------------------------------------------------------------------
  const dlq = program.command('dlq').description("a queue's dead letters: list, show, delete, redrive");

  listOptions(dlq.command('list <queue>').description('dead letters, oldest first')).action(async (queue: string, options: ListOptions) => {
    const api = client();
    const listed = await collect('dead letters', options, (page) => api.listDeadLetters(queue, page));
    if (listed.items.length === 0 && !options.cursor) await requireQueue(api, queue);
    printListing(listed, 'deadLetters', { queue }, (items, consistency) => renderDeadLetters(items, io.now(), consistency));
  });

  dlq
    .command('show <queue> <messageId>')
    .description('one dead letter, its whole body')
    .action(async (queue: string, messageId: string) => {
      const letter = await client().deadLetter(queue, messageId);
      write(json ? renderJson({ queue, ...letter }) : renderDeadLetter(queue, letter));
    });

  dlq
    .command('delete <queue> <messageId>')
    .description('delete one dead letter for good')
    .action(async (queue: string, messageId: string) => {
      await client().deleteDeadLetter(queue, messageId);
      write(json ? renderJson({ queue, messageId, deleted: true }) : `deleted dead letter ${messageId} of ${queue}\n`);
    });

  dlq
    .command('redrive <queue> [messageId]')
    .description('move dead letters back into the queue, oldest first (all of them, or --max, or the one messageId)')
    .addOption(new Option('--rate <n>', "at most n per second (the API's default: 50)").argParser(positiveNumber('--rate')))
    .addOption(new Option('--max <n>', 'move at most n').argParser(positiveInt('--max')))
    .action(async (queue: string, messageId: string | undefined, options: { rate?: number; max?: number }) => {
      const api = client();
      if (messageId !== undefined) {
        const one = await api.redriveOne(queue, messageId);
        return write(json ? renderJson({ queue, ...one }) : renderRedriven(queue, { redriven: 1, remaining: false }));
      }
      const total = (await api.queueStats(queue)).deadLettered;
      const cap = options.max ?? Number.POSITIVE_INFINITY;
      const bar = progress(`redrive ${queue}`, Math.min(total, cap), 'dead letters');
      let redriven = 0;
      let remaining = true;
      let calls = 0;
      try {
        while (remaining && redriven < cap) {
          const step = await api.redrive(queue, {
            max: Math.min(REDRIVE_PER_CALL, cap - redriven),
            ...(options.rate !== undefined ? { perSecond: options.rate } : {}),
          });
          calls += 1;
          redriven += step.redriven;
          remaining = step.remaining;
          bar.update(redriven, Math.max(Math.min(total, cap), redriven));
          if (step.redriven === 0) break; // nothing moved: another call would not either
        }
      } finally {
        bar.stop();
      }
      if (redriven === 0 && total === 0) await requireQueue(api, queue);
      write(json ? renderJson({ queue, redriven, remaining, calls }) : renderRedriven(queue, { redriven, remaining }));
    });

  // --- tx ---------------------------------------------------------------------------------------
  const tx = program.command('tx').description('transactions: list, timeline, retry');

  listOptions(
    tx
      .command('list')
      .description('transactions, newest first')
      .addOption(
        new Option('--status <status>', 'the transactions with this status (default: PENDING, as the API)').choices(
          Object.values(TxStatus),
        ),
      ),
  ).action(async (options: ListOptions & { status?: TxStatus }) => {
    const api = client();
    const listed = await collect('transactions', options, (page) => api.listTransactions({ ...page, status: options.status }));
    printListing(listed, 'transactions', {}, (items, consistency) => renderTransactions(items, consistency));
  });

  tx.command('show <txId>')
    .description("one transaction's timeline: prepare/vote or action, decision, each delivery, retries, recovery")
    .action(async (txId: string) => {
      const timeline = await client().timeline(txId);
      write(json ? renderJson(timeline) : renderTimeline(timeline));
    });

  tx.command('retry <txId>')
    .description("retry a STUCK transaction's parked compensations (fenced as the sweeper's are)")
    .action(async (txId: string) => {
      const result = await client().retry(txId);
      write(json ? renderJson(result) : renderRetried(result));
    });

  // --- console ----------------------------------------------------------------------------------
  program
    .command('console')
    .description(
      'serve the web console on localhost (127.0.0.1 only): its API calls are signed with your AWS credentials for an IAM API, or carry the bearer token the page sends for a JWT API',
    )
    .addOption(new Option('--port <n>', 'the local port (default: a free one)').argParser(positiveInt('--port', 65_535)))
    .action(async (options: { port?: number }) => {
      const g = globals();
      const url = parseApiUrl(g.api);
      const sign = authModeFor({ url, mode: g.auth, token: g.token }) === AuthMode.Iam;
      const region = g.region ?? regionOfApiHost(url.hostname) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      let running: RunningConsole;
      try {
        running = await serveConsole({
          apiUrl: url.href.replace(/\/$/, ''),
          sign,
          ...(sign ? { credentials: defaultCredentials(g.profile) } : {}),
          ...(region ? { region } : {}),
          ...(options.port ? { port: options.port } : {}),
        });
      } catch (error) {
        if (error instanceof ConsoleProxyError) throw new OperatorError(FailureKind.Usage, error.message, { cause: error });
        throw error;
      }
      write(`CONSOLE_URL=${running.url}\n`);
      io.stderr.write(`serving the console for ${url.href}${sign ? ' (signing its calls with SigV4)' : ''}; Ctrl-C stops\n`);
      try {
        await (io.interrupted ?? untilSignal)();
      } finally {
        await running.close();
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are successes; a usage error has already been printed by commander.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof OperatorError) {
      io.stderr.write(
        json
          ? renderJson({
              error: { kind: error.kind, message: error.message, exitCode: error.exitCode, ...error.details, cause: undefined },
            })
          : `concord: ${error.message}\n`,
      );
      return error.exitCode;
    }
    // A bug in the CLI: say so, with the stack, and exit as a failure of the tool.
    io.stderr.write(`concord: unexpected error (a bug in the CLI): ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.Unavailable;
  }
}
