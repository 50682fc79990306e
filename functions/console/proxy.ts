/**
 * `concord console --api URL`: the console on localhost, for an API the browser cannot call itself.
 * A browser cannot sign SigV4, so for an IAM-authorized API this server serves the console's files
 * and forwards the page's /v1 calls to the API, signed with the operator's AWS credentials (the
 * default credential chain), as `kubectl proxy` does for a cluster. With `sign: false` it forwards
 * the page's own Authorization header (a JWT-authorized API: the page sends the bearer token).
 *
 * A local signing proxy is a confused deputy if any web page can reach it: a page from elsewhere
 * could make the browser POST to 127.0.0.1 and have it signed. So it listens on the loopback
 * interface only and forwards only requests of its own page: the Host must be the proxy's (a
 * DNS-rebinding page has another), and a browser's Origin / Sec-Fetch-Site must say same-origin.
 * Refused requests get 403 and are never signed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CredentialProvider, defaultCredentials, regionOfApiHost, sigV4 } from '../cli/auth.js';
import { type ConsoleAssets, loadConsoleAssets } from './assets.js';
import { packagedConsoleDir } from './packaged.js';

export interface ServeConsoleOptions {
  /** The deployment's API, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com */
  readonly apiUrl: string;
  /** true: sign every forwarded call with SigV4 (service execute-api); false: forward the page's Authorization. */
  readonly sign: boolean;
  /** @default the default credential chain (environment, profile, SSO, instance role) */
  readonly credentials?: CredentialProvider;
  /** @default the region in an execute-api host name, else AWS_REGION, AWS_DEFAULT_REGION, us-east-1 */
  readonly region?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default this package's built console (dist/console) */
  readonly assets?: ConsoleAssets;
}

export interface RunningConsole {
  /** The console's address: open it in a browser. */
  readonly url: string;
  close(): Promise<void>;
}

/** The page's calls carry at most this much (the API's own limit is below it). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Request headers the page may send on; everything else (cookies above all) stays behind. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'retry-after', 'allow'] as const;

export function regionOf(apiUrl: URL, fallback = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'): string {
  return regionOfApiHost(apiUrl.hostname) ?? fallback;
}

export class ConsoleProxyError extends Error {
  override readonly name = 'ConsoleProxyError';
}

export async function serveConsole(options: ServeConsoleOptions): Promise<RunningConsole> {
  let api: URL;
  try {
    api = new URL(options.apiUrl);
  } catch (cause) {
    throw new ConsoleProxyError(`--api must be a URL, got ${JSON.stringify(options.apiUrl)}`, { cause });
  }
  if (api.protocol !== 'https:' && api.protocol !== 'http:') {
    throw new ConsoleProxyError(`--api must be an http(s) URL, got ${JSON.stringify(options.apiUrl)}`);
  }
  const dir = options.assets ? undefined : packagedConsoleDir();
  const assets = options.assets ?? (dir ? loadConsoleAssets(dir) : undefined);
  if (!assets) throw new ConsoleProxyError('the console is not built: run `npm run build` in the concord-aws package');
  // The CLI's signer (cli/auth.ts): one SigV4 request shape for both tools.
  const signer = options.sign
    ? sigV4({ region: options.region ?? regionOf(api), credentials: options.credentials ?? defaultCredentials() })
    : undefined;

  let self = '';
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 'BadGateway', message: `the API at ${api.origin} did not answer: ${(error as Error).message}` } }),
      );
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = refuse(req, self);
    if (refusal) return json(res, 403, { error: { code: 'Forbidden', message: refusal } });
    const url = new URL(req.url ?? '/', `http://${self}`);
    // As the API serves it (functions/api/console-route.ts): the page at /console, its files below.
    if (url.pathname === '/' || url.pathname === '/console/') {
      res.writeHead(308, { location: '/console' });
      return void res.end();
    }
    if ((url.pathname === '/console' || url.pathname.startsWith('/console/')) && req.method === 'GET') {
      const asset = assets?.get(url.pathname.slice('/console/'.length));
      if (!asset) return json(res, 404, { error: { code: 'NotFound', message: `no console file ${JSON.stringify(url.pathname)}` } });
      res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      return void res.end(asset.body);
    }
    if (!url.pathname.startsWith('/v1/'))
      return json(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
    const body = await readBody(req);
    if (body === undefined)
      return json(res, 413, { error: { code: 'PayloadTooLarge', message: `a request body may have ${MAX_BODY_BYTES} bytes` } });
    const upstream = await forward(req.method ?? 'GET', url, req, body);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(upstream.status, headers);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }

  async function forward(method: string, url: URL, req: IncomingMessage, body: Buffer): Promise<Response> {
    const target = new URL(`${api.pathname.replace(/\/$/, '')}${url.pathname}${url.search}`, api.origin);
    const headers: Record<string, string> = { host: target.host };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (!signer && typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
    const hasBody = body.length > 0;
    // What is signed is what is sent: the page's JSON as text.
    const payload = hasBody ? (signer ? body.toString('utf8') : body) : undefined;
    const sent = signer
      ? await signer({ method, url: target, headers, ...(typeof payload === 'string' ? { body: payload } : {}) })
      : headers;
    const { host: _host, ...fetchHeaders } = sent;
    return fetch(target, { method, headers: fetchHeaders, ...(payload !== undefined ? { body: payload } : {}), redirect: 'manual' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${self}/console`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Why a request does not come from the proxy's own page, or undefined when it does. */
export function refuse(req: Pick<IncomingMessage, 'headers'>, self: string): string | undefined {
  const host = req.headers.host;
  const localhostAlias = self.replace(/^127\.0\.0\.1:/, 'localhost:');
  if (host !== self && host !== localhostAlias) return `the console proxy answers only to ${self}, not to Host ${JSON.stringify(host)}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return `requests from ${JSON.stringify(origin)} are not the console's own`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request is not the console's own`;
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
