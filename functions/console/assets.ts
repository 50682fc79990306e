/**
 * The console's built files (scripts/build.ts bundles console/ into dist/console/ and copies them
 * beside the API Lambda's bundle, dist/handlers/api/console/). They are static and hold no data:
 * every number on the page comes from the API, under the API's own authorization.
 *
 * Read once, at cold start; a request is a map lookup.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface ConsoleAsset {
  readonly body: Uint8Array;
  readonly contentType: string;
}

export interface ConsoleAssets {
  /** `path` below /console/ ('' is the page itself, served at /console); undefined for anything not built. */
  get(path: string): ConsoleAsset | undefined;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const CONSOLE_PAGE = 'index.html';
export const CONSOLE_SCRIPT = 'console.js';

/** The files of `dir`, or undefined when the console was not built there. */
export function loadConsoleAssets(dir: string): ConsoleAssets | undefined {
  if (!existsSync(join(dir, CONSOLE_PAGE))) return undefined;
  const files = new Map<string, ConsoleAsset>();
  for (const name of readdirSync(dir)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType) files.set(name, { body: readFileSync(join(dir, name)), contentType });
  }
  return { get: (path) => files.get(path === '' ? CONSOLE_PAGE : path) };
}
