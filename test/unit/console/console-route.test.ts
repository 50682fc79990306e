import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import { loadConsoleAssets } from '../../../functions/console/assets.js';
import { fakeWorld } from '../api/fakes.js';
import { call } from '../api/http.js';

function builtConsole() {
  const dir = mkdtempSync(join(tmpdir(), 'console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="console/console.js"></script>');
  writeFileSync(join(dir, 'console.js'), 'console.log(1)');
  writeFileSync(join(dir, 'console.css'), 'body{}');
  writeFileSync(join(dir, 'notes.txt'), 'not served');
  const assets = loadConsoleAssets(dir);
  if (!assets) throw new Error('assets expected');
  return assets;
}

describe('GET /console/* (the console, served by the API)', () => {
  const app = createApp({ ...fakeWorld().deps, consoleAssets: builtConsole() });

  it('serves the page with a Content-Security-Policy that keeps it to its own origin', async () => {
    const page = await call(app, 'GET', '/console');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('console/console.js');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('serves the script and the style with their types', async () => {
    expect((await call(app, 'GET', '/console/console.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await call(app, 'GET', '/console/console.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('redirects /console/ to the page relatively (a stage prefix stays)', async () => {
    const reply = await call(app, 'GET', '/console/');
    expect(reply.status).toBe(308);
    expect(reply.headers.get('location')).toBe('../console');
  });

  it('answers 404 in the API error shape for a file it did not build, or one outside its folder', async () => {
    for (const path of ['/console/notes.txt', '/console/../package.json', '/console/nothing.js']) {
      const reply = await call(app, 'GET', path);
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('NotFound');
    }
  });

  it('is absent when the API was given no console', async () => {
    const bare = createApp(fakeWorld().deps);
    expect((await call(bare, 'GET', '/console')).status).toBe(404);
  });
});
