import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { serveConsole } from '../../functions/console/proxy.js';

/**
 * The operators' console in a real browser: Debian's Chromium (apt `chromium`, installed by
 * .ci/run), headless, driven by playwright-core, against the console the deployed API serves at
 * /console/. Every test fails on a JavaScript error of the page or an error it logs. Screenshots of
 * each view go to reports/console-screenshots/ (printed below).
 */
const api = inject('apiUrl');
const CHROMIUM = process.env.CONCORD_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'reports', 'console-screenshots');
/** The page polls every 2 to 3 s; the emulator's transfers finish within seconds. */
const SEEN_WITHIN_MS = 45_000;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies by path
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + SEEN_WITHIN_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("the operators' console, in Chromium", () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    console.log(`console screenshots: ${SHOTS}`);
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
    page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    page.setDefaultTimeout(SEEN_WITHIN_MS);
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console error: ${message.text()}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
  });
  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const textOf = (selector: string) => page.locator(selector).first().textContent();

  it('opens on the queues and shows a message sent through the API, with its live counts', async () => {
    const queue = unique('console');
    await page.goto(`${api}/console`);
    await page.locator('header .brand').waitFor();
    const sent = await call('POST', `/v1/queues/${queue}/messages`, { body: { orderId: 42, note: 'sent through the API' } });
    expect(sent.status).toBe(201);
    const row = page.locator(`tr[data-queue="${queue}"]`);
    await row.locator('[data-count="visible"]', { hasText: '1' }).waitFor();
    expect(await row.locator('.consistency').textContent()).toMatch(/^(strong|eventual)$/);
    await shot('queues');

    await row.locator('a').click();
    await page.locator(`tr[data-message="${sent.body.messageId}"]`).waitFor();
    expect(await textOf(`tr[data-message="${sent.body.messageId}"] .body`)).toContain('"orderId":42');
    expect(await textOf('[data-card="visible"] .value')).toBe('1');
    await shot('queue-visible');
  });

  it('shows an in-flight message with its lease counting down and its fence', async () => {
    const queue = unique('lease');
    const sent = await call('POST', `/v1/queues/${queue}/messages`, { body: 'leased' });
    const received = await call('POST', `/v1/queues/${queue}/receive`, { visibilityTimeoutSeconds: 300 });
    expect(received.body.messages).toHaveLength(1);
    await page.goto(`${api}/console#/queues/${queue}`);
    await page.getByRole('tab', { name: 'in-flight' }).click();
    const row = page.locator(`tr[data-message="${sent.body.messageId}"]`);
    await row.waitFor();
    const first = Number.parseFloat((await row.locator('.countdown').textContent()) ?? '');
    expect(first).toBeGreaterThan(200);
    expect(first).toBeLessThanOrEqual(300);
    // The countdown ticks in the page (every 250 ms) without a reload.
    await until('the countdown to tick', async () => Number.parseFloat((await row.locator('.countdown').textContent()) ?? '') < first);
    expect(await row.locator('td').nth(5).textContent()).toBe(String(received.body.messages[0].fence));
    await shot('queue-in-flight');
  });

  it('redrives a dead letter by clicking, and deletes another', async () => {
    const queue = unique('dlq');
    expect((await call('PUT', `/v1/queues/${queue}`, { maxReceiveCount: 1, visibilityTimeoutSeconds: 1 })).status).toBe(200);
    const poison = await call('POST', `/v1/queues/${queue}/messages`, { body: { poison: true } });
    const doomed = await call('POST', `/v1/queues/${queue}/messages`, { body: 'to delete' });
    expect((await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages).toHaveLength(2);
    // Leases of 1 s ran out with maxReceiveCount 1: the next receive dead-letters both.
    await until('both messages dead-lettered', async () => {
      await call('POST', `/v1/queues/${queue}/receive`, { max: 10 });
      const letters = await call('GET', `/v1/queues/${queue}/dead-letters?consistency=strong`);
      return letters.body.deadLetters?.length === 2;
    });
    await page.goto(`${api}/console#/queues/${queue}`);
    const letter = page.locator(`tr[data-dead-letter="${poison.body.messageId}"]`);
    await letter.waitFor();
    await page.locator(`tr[data-dead-letter="${doomed.body.messageId}"]`).waitFor();
    await shot('dead-letters');

    await letter.locator('button[data-action="redrive"]').click();
    await letter.waitFor({ state: 'detached' });
    await page.locator(`tr[data-message="${poison.body.messageId}"]`).waitFor();
    await page.locator(`tr[data-dead-letter="${doomed.body.messageId}"] button[data-action="delete"]`).click();
    await page.locator(`tr[data-dead-letter="${doomed.body.messageId}"]`).waitFor({ state: 'detached' });

    const letters = await call('GET', `/v1/queues/${queue}/dead-letters?consistency=strong`);
    expect(letters.body.deadLetters).toEqual([]);
    const redriven = await call('POST', `/v1/queues/${queue}/receive`, { max: 10 });
    expect(redriven.body.messages.map((m: { body: unknown }) => m.body)).toEqual([{ poison: true }]);
  });

  it("lists committed and aborted transfers and draws each one's timeline as phases per participant", async () => {
    const [a, b] = [unique('alice'), unique('bob')];
    expect((await call('POST', '/v1/accounts', { bank: 'bank-a', id: a, balance: 1_000 })).status).toBe(201);
    expect((await call('POST', '/v1/accounts', { bank: 'bank-b', id: b, balance: 0 })).status).toBe(201);
    const transfer = async (amount: number, mode: '2pc' | 'saga' = '2pc') => {
      const started = await call('POST', '/v1/transfers', {
        from: { bank: 'bank-a', id: a },
        to: { bank: 'bank-b', id: b },
        amount,
        mode,
      });
      expect(started.status).toBe(202);
      const id = started.body.transferId as string;
      return until(`transfer ${id} to finish`, async () => {
        const view = await call('GET', `/v1/transfers/${id}`);
        return view.body.status !== 'PENDING' && { id, status: view.body.status as string };
      });
    };
    const committed = await transfer(300);
    const aborted = await transfer(5_000); // more than bank-a's account holds: bank-a votes NO
    expect([committed.status, aborted.status]).toEqual(['COMMITTED', 'ABORTED']);

    for (const [tx, status, decision] of [
      [committed, 'COMMITTED', 'COMMIT'],
      [aborted, 'ABORTED', 'ABORT'],
    ] as const) {
      await page.goto(`${api}/console#/transactions?status=${status}`);
      const row = page.locator(`tr[data-tx="${tx.id}"]`);
      await row.waitFor();
      if (status === 'COMMITTED') await shot('transactions');
      await row.locator('a').click();
      const grid = page.getByTestId('phase-grid');
      await grid.waitFor();
      await grid.locator('[data-lane="coordinator"] [data-kind="decision"]', { hasText: decision }).waitFor();
      // The transfer's participants are its debit (bank-a) and credit (bank-b) legs; a prepare is
      // drawn as its vote, and the debit cannot cover 5,000: it votes NO.
      const votes = status === 'COMMITTED' ? { debit: 'YES', credit: 'YES' } : { debit: 'NO' };
      for (const [leg, vote] of Object.entries(votes)) {
        await grid.locator(`[data-lane="${leg}"] [data-kind="vote"]`, { hasText: vote }).first().waitFor();
      }
      if (status === 'COMMITTED') {
        for (const leg of ['debit', 'credit']) await grid.locator(`[data-lane="${leg}"] [data-kind="commit"]`).first().waitFor();
      }
      await grid.locator('[data-lane="coordinator"] [data-kind="completed"]').waitFor();
      expect(await page.getByTestId('tx-cost').textContent()).toMatch(/^\$/);
      await shot(`timeline-${status.toLowerCase()}`);
    }

    // A saga drawn as actions and compensations: the debit's action fails, the saga compensates it,
    // and the credit, which never ran, keeps an empty lane.
    const saga = await transfer(5_000, 'saga');
    expect(saga.status).toBe('ABORTED');
    await page.goto(`${api}/console#/transactions/${saga.id}`);
    const grid = page.getByTestId('phase-grid');
    await grid.locator('thead', { hasText: 'compensate' }).waitFor();
    await grid.locator('[data-lane="debit"] [data-kind="action"]', { hasText: 'failed' }).waitFor();
    await grid.locator('[data-lane="debit"] [data-kind="compensate"]').waitFor();
    await grid.locator('[data-lane="credit"]').waitFor();
    expect(await grid.locator('[data-lane="credit"] .chip').count()).toBe(0);
    await shot('timeline-saga-aborted');
  });

  it('works the same through `concord console`, the local proxy that signs every call with SigV4', async () => {
    const queue = unique('proxied');
    const sent = await call('POST', `/v1/queues/${queue}/messages`, { body: 'through the proxy' });
    // The emulator verifies no signatures (test/unit/console/proxy.test.ts verifies them); this
    // shows the page, its calls and their answers make the round trip through the proxy.
    const proxy = await serveConsole({
      apiUrl: api,
      sign: true,
      credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
      region: 'us-east-1',
    });
    try {
      await page.goto(`${proxy.url}#/queues/${queue}`);
      await page.locator(`tr[data-message="${sent.body.messageId}"]`).waitFor();
      expect(await textOf('[data-card="visible"] .value')).toBe('1');
    } finally {
      await proxy.close();
    }
  });

  it('shows what a message and a transaction cost at AWS prices', async () => {
    await page.goto(`${api}/console#/costs`);
    await page.getByRole('heading', { name: 'Cost per message' }).waitFor();
    expect(await page.locator('table.costs').count()).toBe(3);
    await shot('costs');
  });
});
