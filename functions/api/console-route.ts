/**
 * GET /console/*: the operators' console, served by the API it talks to (functions/console). The
 * page and its script are static and public (API Gateway routes them without the authorizer:
 * cdk/constructs/concord-api.ts); every figure they show is fetched from /v1, under the API's
 * authorization. A strict Content-Security-Policy keeps the page to its own origin: no CDN, no
 * inline script, no frames.
 */
import type { Context, Hono } from 'hono';
import type { ConsoleAsset, ConsoleAssets } from '../console/assets.js';
import { ErrorCode } from './errors.js';

export const CONSOLE_PATH = '/console';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * The page is /console and its files /console/<file> (the page names them `console/<file>`).
 * Not /console/: MiniStack hands the function /console for it (it drops a trailing slash), so a
 * redirect from one to the other would loop there; /console/ redirects to the page, relatively,
 * so that a stage prefix (/prod/console) is kept.
 */
export function mountConsole(app: Hono, assets: ConsoleAssets): void {
  app.get(CONSOLE_PATH, (c) => serveAsset(c, assets.get('')));
  app.get(`${CONSOLE_PATH}/`, (c) => c.redirect('../console', 308));
  app.get(`${CONSOLE_PATH}/*`, (c) => {
    const path = c.req.path.slice(CONSOLE_PATH.length + 1);
    return serveAsset(c, assets.get(path), path);
  });
}

function serveAsset(c: Context, asset: ConsoleAsset | undefined, path = ''): Response {
  if (!asset) return c.json({ error: { code: ErrorCode.NotFound, message: `no console file ${JSON.stringify(path.slice(0, 100))}` } }, 404);
  return c.body(new Uint8Array(asset.body), 200, {
    ...SECURITY_HEADERS,
    'content-type': asset.contentType,
    // The page may change with a deploy; its script and style are named the same each build.
    'cache-control': 'no-cache',
  });
}
