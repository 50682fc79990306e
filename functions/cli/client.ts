/**
 * A typed client of a Concord deployment's operators' API (docs/operators-api.md): one method per
 * route, the shapes the contract names, and every failure turned into an `OperatorError` whose
 * message says what was asked, of which URL, and what came back. The CLI renders what it returns;
 * the console can reuse it: it needs only `fetch` (no Node built-in, no AWS SDK; signers come from
 * auth.ts, which does).
 */
import { FailureKind, failureKindOfStatus, OperatorError } from './errors.js';

/** A request about to be sent: the signer may add headers. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Adds what proves who sends the request (auth.ts: SigV4, bearer); `unsigned` adds nothing. */
export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

export const unsigned: RequestSigner = async (request) => request.headers;

export type Consistency = 'strong' | 'eventual';
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface QueueStats {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLettered: number;
  readonly oldestAgeSeconds?: number | null;
  readonly consistency: Consistency;
}

export interface QueueConfig {
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly fifo: boolean;
  readonly shards?: number;
  readonly dedupWindowSeconds?: number;
}

export interface QueueSummary {
  readonly queue: string;
  readonly config: QueueConfig;
  readonly stats: QueueStats;
}

export const MessageState = { Visible: 'visible', InFlight: 'in-flight', Delayed: 'delayed' } as const;
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

export interface PeekedMessage {
  readonly messageId: string;
  readonly state: MessageState;
  readonly body: JsonValue;
  readonly groupId?: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly ageSeconds: number;
  readonly visibleAt?: string;
  readonly leaseExpiresAt?: string;
  readonly fence?: number;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly body: JsonValue;
  readonly groupId?: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly deadLetteredAt: string;
  readonly reason: string;
}

export const TxStatus = { Pending: 'PENDING', Committed: 'COMMITTED', Aborted: 'ABORTED', Stuck: 'STUCK' } as const;
export type TxStatus = (typeof TxStatus)[keyof typeof TxStatus];

/** The wire names of concord-aws/tx's TxMode and TxEngine. */
export type TransactionMode = '2pc' | 'saga';
export type TransactionEngine = 'standard' | 'express';

export interface TransactionSummary {
  readonly txId: string;
  readonly type: string;
  readonly mode: TransactionMode;
  readonly engine: TransactionEngine;
  readonly status: string;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly participants: readonly string[];
}

export interface TimelineEvent {
  readonly at: string;
  readonly kind: string;
  readonly participant?: string;
  readonly epoch?: number;
  readonly attempt?: number;
  readonly outcome?: string;
  readonly detail?: string;
}

export interface Timeline {
  readonly txId: string;
  readonly type: string;
  readonly mode: TransactionMode;
  readonly engine: TransactionEngine;
  readonly status: string;
  readonly events: readonly TimelineEvent[];
  readonly consistency: Consistency;
}

/** One page of a listing; `nextCursor` is absent on the last. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
  readonly consistency: Consistency;
}

export interface PageRequest {
  readonly cursor?: string | undefined;
  /** 1..100 (the API's bound). */
  readonly limit?: number | undefined;
}

export interface SendInput {
  readonly body: JsonValue;
  readonly groupId?: string;
  readonly dedupId?: string;
  readonly delaySeconds?: number;
}

export interface ClientOptions {
  /** The API's base URL: the stage's invoke URL, or the emulator's `/_aws/execute-api/<id>`. */
  readonly baseUrl: string;
  readonly signer?: RequestSigner;
  readonly fetch?: typeof fetch;
  /** Per request. @default 60 000 (a redrive call may take API Gateway's 30 s) */
  readonly timeoutMs?: number;
}

/** Parses `--api`: an http(s) URL, or an error that quotes it. The trailing slash is dropped. */
export function parseApiUrl(text: string | undefined): URL {
  if (text === undefined || text.trim() === '') {
    throw new OperatorError(
      FailureKind.BadUrl,
      'no API URL: pass --api URL or set CONCORD_API_URL (npm start prints it as API_URL=...; on AWS it is the stack output ApiUrl)',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OperatorError(FailureKind.BadUrl, `--api ${JSON.stringify(text)} is not a URL: expected http(s)://host[:port][/base-path]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OperatorError(FailureKind.BadUrl, `--api ${JSON.stringify(text)} is not an http(s) URL (it is ${url.protocol})`);
  }
  if (url.search || url.hash) {
    throw new OperatorError(FailureKind.BadUrl, `--api ${JSON.stringify(text)} has a query or fragment: give the API's base URL only`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

const seg = encodeURIComponent;

/** The network error's own code (ECONNREFUSED, ENOTFOUND, ...), for the message. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export class ConcordClient {
  readonly baseUrl: URL;
  private readonly signer: RequestSigner;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = parseApiUrl(options.baseUrl);
    this.signer = options.signer ?? unsigned;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  // ---------------------------------------------------------------------------------------------
  // Queues

  async listQueues(options: PageRequest & { readonly consistency?: Consistency | undefined } = {}): Promise<Page<QueueSummary>> {
    const r = await this.call<{ queues: QueueSummary[]; nextCursor?: string; consistency: Consistency }>('GET', '/v1/queues', {
      query: { ...pageQuery(options), consistency: options.consistency },
      what: 'list the queues',
    });
    return toPage(r.queues, r);
  }

  queueStats(queue: string, consistency?: Consistency): Promise<QueueStats> {
    return this.call('GET', `/v1/queues/${seg(queue)}/stats`, {
      query: { consistency },
      what: `read the stats of queue ${JSON.stringify(queue)}`,
      notFound: `no queue named ${JSON.stringify(queue)}`,
    });
  }

  async peek(queue: string, options: PageRequest & { readonly state?: MessageState | undefined } = {}): Promise<Page<PeekedMessage>> {
    const r = await this.call<{ messages: PeekedMessage[]; nextCursor?: string; consistency: Consistency }>(
      'GET',
      `/v1/queues/${seg(queue)}/messages`,
      {
        query: { ...pageQuery(options), state: options.state },
        what: `peek at queue ${JSON.stringify(queue)}`,
        notFound: `no queue named ${JSON.stringify(queue)}`,
      },
    );
    return toPage(r.messages, r);
  }

  /** PUT: fields left out keep their value; returns the whole configuration now in force. */
  configure(queue: string, patch: Partial<QueueConfig>): Promise<QueueConfig & { queue: string }> {
    return this.call('PUT', `/v1/queues/${seg(queue)}`, { body: patch, what: `configure queue ${JSON.stringify(queue)}` });
  }

  send(queue: string, input: SendInput): Promise<{ messageId: string; duplicate: boolean }> {
    return this.call('POST', `/v1/queues/${seg(queue)}/messages`, { body: input, what: `send to queue ${JSON.stringify(queue)}` });
  }

  async listDeadLetters(queue: string, page: PageRequest = {}): Promise<Page<DeadLetter>> {
    const r = await this.call<{ deadLetters: DeadLetter[]; nextCursor?: string; consistency: Consistency }>(
      'GET',
      `/v1/queues/${seg(queue)}/dead-letters`,
      {
        query: pageQuery(page),
        what: `list the dead letters of queue ${JSON.stringify(queue)}`,
        notFound: `no queue named ${JSON.stringify(queue)}`,
      },
    );
    return toPage(r.deadLetters, r);
  }

  deadLetter(queue: string, messageId: string): Promise<DeadLetter> {
    return this.call('GET', `/v1/queues/${seg(queue)}/dead-letters/${seg(messageId)}`, {
      what: `read dead letter ${JSON.stringify(messageId)}`,
      notFound: `no dead letter ${JSON.stringify(messageId)} in queue ${JSON.stringify(queue)}`,
    });
  }

  async deleteDeadLetter(queue: string, messageId: string): Promise<void> {
    await this.call('DELETE', `/v1/queues/${seg(queue)}/dead-letters/${seg(messageId)}`, {
      what: `delete dead letter ${JSON.stringify(messageId)}`,
      notFound: `no dead letter ${JSON.stringify(messageId)} in queue ${JSON.stringify(queue)}`,
    });
  }

  redriveOne(queue: string, messageId: string): Promise<{ messageId: string; redriven: boolean }> {
    return this.call('POST', `/v1/queues/${seg(queue)}/dead-letters/${seg(messageId)}/redrive`, {
      what: `redrive dead letter ${JSON.stringify(messageId)}`,
      notFound: `no dead letter ${JSON.stringify(messageId)} in queue ${JSON.stringify(queue)}`,
    });
  }

  /** One call of the redrive route: at most `max` (≤ 1 000) moves; `remaining` says whether to call again. */
  redrive(
    queue: string,
    options: { readonly max?: number; readonly perSecond?: number } = {},
  ): Promise<{ redriven: number; remaining: boolean }> {
    return this.call('POST', `/v1/queues/${seg(queue)}/dead-letters/redrive`, {
      body: options,
      what: `redrive the dead letters of queue ${JSON.stringify(queue)}`,
      notFound: `no queue named ${JSON.stringify(queue)}`,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Transactions

  async listTransactions(options: PageRequest & { readonly status?: TxStatus | undefined } = {}): Promise<Page<TransactionSummary>> {
    const r = await this.call<{ transactions: TransactionSummary[]; nextCursor?: string; consistency: Consistency }>(
      'GET',
      '/v1/transactions',
      {
        query: { ...pageQuery(options), status: options.status },
        what: 'list the transactions',
      },
    );
    return toPage(r.transactions, r);
  }

  timeline(txId: string): Promise<Timeline> {
    return this.call('GET', `/v1/transactions/${seg(txId)}/timeline`, {
      what: `read the timeline of transaction ${JSON.stringify(txId)}`,
      notFound: `no transaction ${JSON.stringify(txId)}`,
    });
  }

  /** 202: the parked compensations run again under a new epoch (the sweeper's fencing). */
  retry(txId: string): Promise<{ txId: string; status: string; epoch?: number }> {
    return this.call('POST', `/v1/transactions/${seg(txId)}/retry`, {
      what: `retry transaction ${JSON.stringify(txId)}`,
      notFound: `no transaction ${JSON.stringify(txId)}`,
    });
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * One request. `what` completes "could not ..." in every message; `notFound` replaces the API's
   * 404 message, which cannot know whether the caller meant a queue, a dead letter or a route.
   */
  async call<T>(
    method: string,
    path: string,
    options: {
      readonly what: string;
      readonly query?: Record<string, string | number | undefined>;
      readonly body?: unknown;
      readonly notFound?: string;
    },
  ): Promise<T> {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${this.baseUrl.pathname}${path}`;
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const body = options.body !== undefined ? JSON.stringify(options.body) : undefined;
    const request = {
      method,
      url,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    };
    const headers = await this.signer(request);
    const where = `${method} ${url.href}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new OperatorError(
        FailureKind.Unreachable,
        `could not ${options.what}: the API at ${this.baseUrl.href} did not answer (${networkReason(error)}); is --api right and the deployment up?`,
        { cause: error },
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) {
      if (response.status === 204) return undefined as T;
      if (json === undefined || typeof json !== 'object' || json === null) {
        throw new OperatorError(
          FailureKind.Server,
          `could not ${options.what}: ${where} answered ${response.status} with ${response.headers.get('content-type') ?? 'no content type'}, not the Concord API's JSON; is --api the API's base URL?`,
          { status: response.status },
        );
      }
      return json as T;
    }
    throw this.failure(response, json, text, options, where);
  }

  private failure(
    response: Response,
    json: unknown,
    text: string,
    options: { what: string; notFound?: string },
    where: string,
  ): OperatorError {
    const apiError = (json as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
    const code = typeof apiError?.code === 'string' ? apiError.code : undefined;
    const field = typeof apiError?.field === 'string' ? apiError.field : undefined;
    // API Gateway's own refusals are `{"message":"Forbidden"}`, not Concord's error body.
    const gatewayMessage = (json as { message?: unknown } | undefined)?.message;
    const said =
      typeof apiError?.message === 'string'
        ? apiError.message
        : typeof gatewayMessage === 'string'
          ? gatewayMessage
          : text.slice(0, 200) || response.statusText;
    const status = response.status;
    const kind = failureKindOfStatus(status);
    const details = { status, ...(code ? { code } : {}), ...(field ? { field } : {}) };
    const answered = `${status}${code ? ` ${code}` : ''}: ${said}`;
    switch (kind) {
      case FailureKind.NotFound:
        // A 404 without Concord's error body is not the API saying "no such thing": the URL is wrong.
        if (!code) {
          return new OperatorError(
            FailureKind.BadUrl,
            `could not ${options.what}: ${where} is not a Concord API route (${status}: ${said}); is --api the API's base URL?`,
            details,
          );
        }
        // The app's own answer for a path it has no route for: a deployment older than this client.
        if (/^no route /.test(said)) {
          return new OperatorError(
            FailureKind.BadUrl,
            `could not ${options.what}: the API at ${this.baseUrl.href} has ${said} (a deployment older than this CLI, or --api is not the API's base URL)`,
            details,
          );
        }
        return new OperatorError(kind, `${options.notFound ?? `could not ${options.what}`} (${answered})`, details);
      case FailureKind.Auth:
        return new OperatorError(
          kind,
          `could not ${options.what}: the API refused the request (${answered}); with IAM authorization your credentials need execute-api:Invoke on this API (check AWS_PROFILE, --region); with JWT, check --token`,
          details,
        );
      case FailureKind.BadInput:
        return new OperatorError(
          kind,
          `could not ${options.what}: the API refused the input${field ? ` (field ${field})` : ''}: ${answered}`,
          details,
        );
      case FailureKind.Conflict:
        return new OperatorError(kind, `could not ${options.what}: ${answered}`, details);
      default: {
        const retryAfter = response.headers.get('retry-after');
        return new OperatorError(
          FailureKind.Server,
          `could not ${options.what}: the API failed (${answered})${retryAfter ? `; retry after ${retryAfter} s` : ''}`,
          details,
        );
      }
    }
  }
}

function pageQuery(page: PageRequest): Record<string, string | number | undefined> {
  return { cursor: page.cursor, limit: page.limit };
}

function toPage<T>(items: T[] | undefined, r: { nextCursor?: string; consistency: Consistency }): Page<T> {
  return { items: items ?? [], ...(r.nextCursor ? { nextCursor: r.nextCursor } : {}), consistency: r.consistency };
}
