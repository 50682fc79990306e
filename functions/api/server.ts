/**
 * The same app as a plain Node HTTP server, for running and debugging the API as a local process
 * (no extra dependency: node:http in front of Hono's fetch handler).
 *
 *   CONCORD_QUEUE_TABLE=... CONCORD_COORDINATOR_TABLE=... CONCORD_STATE_MACHINES='{...}' \
 *   CONCORD_BANKS='{...}' PORT=8787 tsx functions/api/server.ts
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { passableMethod } from './methods.js';

export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

export function createServer(app: FetchApp): Server {
  return createHttpServer((req, res) => {
    void forward(app, req, res);
  });
}

async function forward(app: FetchApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const response = await app.fetch(toRequest(req));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  } catch (error) {
    // The app maps its own errors; this is only reached when the request could not be built.
    console.error('concord-api: could not serve a request', error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'InternalError', message: 'internal error' } }));
  }
}

function toRequest(req: IncomingMessage): Request {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  const method = passableMethod(req.method ?? 'GET', (name, value) => headers.set(name, value));
  // The body streams: the app stops reading at its size limit (request.ts), not after buffering it all.
  const body = method === 'GET' || method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  return new Request(url, { method, headers, ...(body ? { body, duplex: 'half' } : {}) } as RequestInit);
}

async function main(): Promise<void> {
  const [{ createApp }, { loadApiConfig }, { buildApiDeps }, { loadConsoleAssets }, { packagedConsoleDir }] = await Promise.all([
    import('./app.js'),
    import('./config.js'),
    import('./deps.js'),
    import('../console/assets.js'),
    import('../console/packaged.js'),
  ]);
  const port = Number(process.env.PORT ?? 8787);
  const dir = packagedConsoleDir();
  const consoleAssets = dir ? loadConsoleAssets(dir) : undefined;
  createServer(createApp({ ...buildApiDeps(loadApiConfig()), ...(consoleAssets ? { consoleAssets } : {}) })).listen(port, () => {
    console.log(`concord-api listening on http://127.0.0.1:${port}/v1/openapi.json`);
    if (consoleAssets) console.log(`the console: http://127.0.0.1:${port}/console`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
