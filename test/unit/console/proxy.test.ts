import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleAssets, loadConsoleAssets } from '../../../functions/console/assets.js';
import { type RunningConsole, regionOf, serveConsole } from '../../../functions/console/proxy.js';

/** What the stand-in API saw. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const assets: ConsoleAssets = {
  get: (path) =>
    path === '' ? { body: new TextEncoder().encode('<!doctype html><title>console</title>'), contentType: 'text/html' } : undefined,
};

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * SigV4 verified independently of the signing library, from AWS's documented algorithm
 * ("Create a signed AWS API request"): canonical request, string to sign, derived key.
 */
function expectedSignature(seen: Seen, secret: string): { signature: string; scope: string } {
  const auth = String(seen.headers.authorization);
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) throw new Error(`not a SigV4 Authorization header: ${auth}`);
  const [, , date, region, service, signedHeaders] = match as unknown as [string, string, string, string, string, string];
  const url = new URL(seen.url, 'http://x');
  const query = [...url.searchParams]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(seen.headers[n]).trim()}\n`).join('');
  const canonicalRequest = [seen.method, url.pathname, query, canonicalHeaders, signedHeaders, sha256(seen.body)].join('\n');
  const amzDate = String(seen.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return { signature: createHmac('sha256', key).update(stringToSign).digest('hex'), scope };
}

describe('serveConsole (the signing proxy of `concord console`)', () => {
  let api: Server;
  let apiUrl: string;
  const seen: Seen[] = [];
  let signing: RunningConsole;
  let passing: RunningConsole;

  beforeAll(async () => {
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=b' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    signing = await serveConsole({ apiUrl, sign: true, credentials: async () => credentials, region: 'eu-west-1', assets });
    passing = await serveConsole({ apiUrl, sign: false, assets });
  });
  afterAll(async () => {
    await signing.close();
    await passing.close();
    await new Promise<void>((r) => api.close(() => r()));
  });

  const last = () => seen[seen.length - 1] as Seen;

  it('serves the console page on the loopback interface', async () => {
    expect(signing.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console$/);
    const page = await fetch(signing.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>console</title>');
  });

  it('signs a forwarded POST with SigV4 for execute-api, as AWS verifies it', async () => {
    const body = JSON.stringify({ body: { orderId: 42 } });
    const response = await fetch(new URL('/v1/queues/orders/messages', signing.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'session=secret' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get('set-cookie')).toBeNull();
    const request = last();
    expect(request).toMatchObject({ method: 'POST', url: '/v1/queues/orders/messages', body });
    expect(request.headers.cookie).toBeUndefined();
    const { signature, scope } = expectedSignature(request, credentials.secretAccessKey);
    expect(String(request.headers.authorization)).toContain(`Credential=${credentials.accessKeyId}/${scope}`);
    expect(scope).toMatch(/^\d{8}\/eu-west-1\/execute-api\/aws4_request$/);
    expect(String(request.headers.authorization)).toMatch(new RegExp(`SignedHeaders=[^,]*host[^,]*, Signature=${signature}$`));
  });

  it('signs a GET with a query string, and the signature fails for another secret', async () => {
    await fetch(new URL('/v1/queues/orders/messages?state=in-flight&limit=5', signing.url));
    const request = last();
    expect(request.url).toBe('/v1/queues/orders/messages?state=in-flight&limit=5');
    const auth = String(request.headers.authorization);
    expect(auth).toContain(`Signature=${expectedSignature(request, credentials.secretAccessKey).signature}`);
    expect(auth).not.toContain(`Signature=${expectedSignature(request, 'another-secret').signature}`);
  });

  it("never signs another site's request: a foreign Origin, a cross-site fetch, another Host get 403", async () => {
    const before = seen.length;
    const foreign = await fetch(new URL('/v1/queues/orders/dead-letters/redrive', signing.url), {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    const crossSite = await fetch(new URL('/v1/queues', signing.url), { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    // fetch sets Host itself: a DNS-rebinding page's request, made by hand.
    const rebound = await new Promise<number>((resolve, reject) => {
      const target = new URL('/v1/queues', signing.url);
      request({ host: target.hostname, port: target.port, path: target.pathname, headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(rebound).toBe(403);
    expect(seen.length).toBe(before);
  });

  it('without signing forwards the page bearer token and adds no signature', async () => {
    await fetch(new URL('/v1/transactions?status=COMMITTED', passing.url), { headers: { authorization: 'Bearer abc.def.ghi' } });
    expect(last().headers.authorization).toBe('Bearer abc.def.ghi');
    expect(last().headers['x-amz-date']).toBeUndefined();
  });

  it('while signing drops an Authorization the page sent', async () => {
    await fetch(new URL('/v1/queues', signing.url), { headers: { authorization: 'Bearer forged' } });
    expect(String(last().headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('refuses a URL that is not http(s), naming it', async () => {
    await expect(serveConsole({ apiUrl: 'ftp://x', sign: true, assets })).rejects.toThrow(/"ftp:\/\/x"/);
    await expect(serveConsole({ apiUrl: 'not a url', sign: true, assets })).rejects.toThrow(/"not a url"/);
  });

  it('reads the region from an execute-api host name', () => {
    expect(regionOf(new URL('https://abc123.execute-api.ap-southeast-2.amazonaws.com'), 'x')).toBe('ap-southeast-2');
    expect(regionOf(new URL('http://localhost:4566'), 'us-west-2')).toBe('us-west-2');
  });
});

describe('loadConsoleAssets', () => {
  it('is undefined where the console was not built', () => {
    expect(loadConsoleAssets('/nonexistent')).toBeUndefined();
  });
});
