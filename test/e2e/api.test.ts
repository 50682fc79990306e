import { describe, expect, inject, it } from 'vitest';

/**
 * The CDK app deployed to the emulator (every Lambda really running there: the API, both banks'
 * participants, the sweeper, the queue consumer), driven only through its HTTP API.
 */
const api = inject('apiUrl');
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, body: json as Record<string, unknown> & { error?: { code: string; message: string } } };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the deployed system, through its HTTP API', () => {
  it('serves its OpenAPI document', async () => {
    const { status, body } = await call('GET', '/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths as object)).toContain('/v1/queues/{queue}/messages');
  });

  it('queue round trip: send, receive, ack, and the stats say so', async () => {
    const queue = unique('rt');
    const sent = await call('POST', `/v1/queues/${queue}/messages`, { body: 'hello' });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ duplicate: false });
    const received = await call('POST', `/v1/queues/${queue}/receive`, { max: 10 });
    expect(received.status).toBe(200);
    const [message] = received.body.messages as Array<{
      messageId: string;
      body: string;
      receipt: string;
      fence: number;
      receiveCount: number;
    }>;
    expect(message).toMatchObject({ messageId: sent.body.messageId, body: 'hello', receiveCount: 1, fence: 1 });
    expect((await call('POST', `/v1/queues/${queue}/ack`, { receipt: message?.receipt })).body).toEqual({ acked: true });
    const stats = await call('GET', `/v1/queues/${queue}/stats?consistency=strong`);
    expect(stats.body).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0, consistency: 'strong' });
  });

  it('a stale receipt gets 409 LeaseLost', async () => {
    const queue = unique('stale');
    await call('POST', `/v1/queues/${queue}/messages`, { body: 'contested' });
    const first = (await call('POST', `/v1/queues/${queue}/receive`, { visibilityTimeoutSeconds: 1 })).body.messages as Array<{
      receipt: string;
    }>;
    await sleep(1_500);
    const second = (await call('POST', `/v1/queues/${queue}/receive`, { visibilityTimeoutSeconds: 30 })).body.messages as Array<{
      receipt: string;
      fence: number;
    }>;
    expect(second).toHaveLength(1);
    const stale = await call('POST', `/v1/queues/${queue}/ack`, { receipt: first[0]?.receipt });
    expect(stale.status).toBe(409);
    expect(stale.body.error?.code).toBe('LeaseLost');
    expect((await call('POST', `/v1/queues/${queue}/ack`, { receipt: second[0]?.receipt })).status).toBe(200);
  });

  it('dead-letters after maxReceiveCount and redrives', async () => {
    const queue = unique('dlq');
    expect((await call('PUT', `/v1/queues/${queue}`, { maxReceiveCount: 1, visibilityTimeoutSeconds: 1 })).status).toBe(200);
    await call('POST', `/v1/queues/${queue}/messages`, { body: 'poison' });
    expect((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages).toHaveLength(1);
    await sleep(1_500);
    expect((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages).toEqual([]);
    const letters = await call('GET', `/v1/queues/${queue}/dead-letters?consistency=strong`);
    expect(letters.status).toBe(200);
    expect(JSON.stringify(letters.body)).toContain('poison');
    const redrive = await call('POST', `/v1/queues/${queue}/dead-letters/redrive`, {});
    expect(redrive.body).toMatchObject({ redriven: 1 });
    expect(((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages as Array<{ body: string }>)[0]?.body).toBe('poison');
  });

  it('dedups by Idempotency-Key', async () => {
    const queue = unique('dedup');
    const a = await call('POST', `/v1/queues/${queue}/messages`, { body: 'pay' }, { 'Idempotency-Key': 'order-7' });
    const b = await call('POST', `/v1/queues/${queue}/messages`, { body: 'pay' }, { 'Idempotency-Key': 'order-7' });
    expect(a.body).toMatchObject({ duplicate: false });
    expect(b.body).toEqual({ messageId: a.body.messageId, duplicate: true });
    expect((await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages).toHaveLength(1);
  });

  it('delivers a FIFO group in order', async () => {
    const queue = unique('fifo');
    expect((await call('PUT', `/v1/queues/${queue}`, { fifo: true })).status).toBe(200);
    for (const body of ['one', 'two', 'three']) await call('POST', `/v1/queues/${queue}/messages`, { body, groupId: 'g' });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = (await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages as Array<{
        body: string;
        receipt: string;
      }>;
      order.push(m?.body ?? '?');
      await call('POST', `/v1/queues/${queue}/ack`, { receipt: m?.receipt });
    }
    expect(order).toEqual(['one', 'two', 'three']);
  });

  for (const mode of ['2pc', 'saga'] as const) {
    it(`${mode}: commits a transfer and aborts one without funds, money conserved`, async () => {
      const [a, b] = [unique('alice'), unique('bob')];
      expect((await call('POST', '/v1/accounts', { bank: 'bank-a', id: a, balance: 1_000 })).status).toBe(201);
      expect((await call('POST', '/v1/accounts', { bank: 'bank-b', id: b, balance: 0 })).status).toBe(201);
      const ok = await call('POST', '/v1/transfers', { from: { bank: 'bank-a', id: a }, to: { bank: 'bank-b', id: b }, amount: 300, mode });
      expect(ok.status).toBe(202);
      const done = await until('the transfer to finish', async () => {
        const view = await call('GET', `/v1/transfers/${ok.body.transferId}`);
        return view.body.status !== 'PENDING' && view.body;
      });
      expect(done).toMatchObject({ status: 'COMMITTED' });
      const tooMuch = await call('POST', '/v1/transfers', {
        from: { bank: 'bank-a', id: a },
        to: { bank: 'bank-b', id: b },
        amount: 5_000,
        mode,
      });
      const refused = await until('the refused transfer to finish', async () => {
        const view = await call('GET', `/v1/transfers/${tooMuch.body.transferId}`);
        return view.body.status !== 'PENDING' && view.body;
      });
      expect(refused).toMatchObject({ status: 'ABORTED' });
      expect(String(refused.reason)).toContain('insufficient funds');
      expect((await call('GET', `/v1/accounts/bank-a/${a}`)).body).toMatchObject({ balance: 700, held: 0 });
      expect((await call('GET', `/v1/accounts/bank-b/${b}`)).body).toMatchObject({ balance: 300, held: 0 });
      const tx = await call('GET', `/v1/transactions/${ok.body.transferId}`);
      expect(tx.body).toMatchObject({ decision: 'COMMIT', status: 'COMMITTED' });
    });
  }

  for (const mode of ['2pc', 'saga'] as const) {
    it(`${mode} on the express engine, "wait": true: the answer carries the final status (the deployed participant Lambdas invoked directly)`, async () => {
      const [a, b] = [unique('alice'), unique('bob')];
      expect((await call('POST', '/v1/accounts', { bank: 'bank-a', id: a, balance: 1_000 })).status).toBe(201);
      expect((await call('POST', '/v1/accounts', { bank: 'bank-b', id: b, balance: 0 })).status).toBe(201);
      const transfer = (amount: number) =>
        call('POST', '/v1/transfers', { from: { bank: 'bank-a', id: a }, to: { bank: 'bank-b', id: b }, amount, mode, wait: true });
      const ok = await transfer(300);
      expect(ok.status, JSON.stringify(ok.body)).toBe(202);
      expect(ok.body).toMatchObject({ status: 'COMMITTED', duplicate: false });
      const refused = await transfer(5_000);
      expect(refused.body).toMatchObject({ status: 'ABORTED' });
      expect((await call('GET', `/v1/transfers/${refused.body.transferId}`)).body.reason).toContain('insufficient funds');
      expect((await call('GET', `/v1/accounts/bank-a/${a}`)).body).toMatchObject({ balance: 700, held: 0 });
      expect((await call('GET', `/v1/accounts/bank-b/${b}`)).body).toMatchObject({ balance: 300, held: 0 });
      expect((await call('GET', `/v1/transactions/${ok.body.transferId}`)).body).toMatchObject({ engine: 'express', decision: 'COMMIT' });
    });
  }

  it('"wait": true on the standard engine is refused, naming the field', async () => {
    const reply = await call('POST', '/v1/transfers', {
      from: { bank: 'bank-a', id: 'a' },
      to: { bank: 'bank-b', id: 'b' },
      amount: 1,
      engine: 'standard',
      wait: true,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'ValidationError', field: 'wait' });
  });

  it('bad input gets the documented 4xx and writes nothing', async () => {
    const queue = unique('bad');
    const badJson = await call('POST', `/v1/queues/${queue}/messages`, '{"body": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error?.code).toBe('ValidationError');
    const noBody = await call('POST', `/v1/queues/${queue}/messages`, { groupId: 'g' });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error?.message).toContain('body');
    const outOfRange = await call('POST', `/v1/queues/${queue}/receive`, { max: 11 });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.error?.message).toContain('max');
    const oversize = await call('POST', `/v1/queues/${queue}/messages`, { body: 'x'.repeat(1_100_000) });
    expect(oversize.status).toBe(413);
    const badName = await call('POST', '/v1/queues/not%20ok/messages', { body: 'x' });
    expect(badName.status).toBe(400);
    expect((await call('GET', `/v1/transfers/${unique('nope')}`)).status).toBe(404);
    expect((await call('GET', `/v1/transactions/${unique('nope')}`)).status).toBe(404);
    expect((await call('GET', `/v1/accounts/bank-a/${unique('nope')}`)).status).toBe(404);
    const transferBad = await call('POST', '/v1/transfers', {
      from: { bank: 'bank-z', id: 'x' },
      to: { bank: 'bank-b', id: 'y' },
      amount: 1,
    });
    expect(transferBad.status).toBe(400);
    expect((await call('GET', `/v1/queues/${queue}/stats?consistency=strong`)).body).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('the example consumer Lambda drains account events enqueued through the outbox', async () => {
    const id = unique('carol');
    expect((await call('POST', '/v1/accounts', { bank: 'bank-a', id, balance: 5 })).status).toBe(201);
    await until(
      'the consumer to drain account-events',
      async () => {
        const stats = await call('GET', '/v1/queues/account-events/stats?consistency=strong');
        return stats.body.visible === 0 && stats.body.inFlight === 0 && stats.body.delayed === 0;
      },
      90_000,
    );
    // Drained by acks: nothing was given up on.
    expect((await call('GET', '/v1/queues/account-events/stats?consistency=strong')).body).toMatchObject({ deadLettered: 0 });
  });

  describe("the operators' routes", () => {
    it('bodies are JSON values: an object sent comes back as that object through receive, peek and the dead letters; a string stays a string', async () => {
      const queue = unique('json');
      expect((await call('PUT', `/v1/queues/${queue}`, { maxReceiveCount: 1 })).status).toBe(200);
      const order = { orderId: 42, lines: [{ sku: 'a', qty: 2 }], paid: true, note: null };
      const sent = await call('POST', `/v1/queues/${queue}/messages`, { body: order });
      expect(sent.status).toBe(201);
      await call('POST', `/v1/queues/${queue}/messages`, { body: '{"stays":"a string"}' });
      const peek = await call('GET', `/v1/queues/${queue}/messages?state=visible&consistency=strong`);
      expect((peek.body.messages as Array<{ body: unknown }>).map((m) => m.body)).toEqual(
        expect.arrayContaining([order, '{"stays":"a string"}']),
      );
      const received = (await call('POST', `/v1/queues/${queue}/receive`, { max: 10 })).body.messages as Array<{
        messageId: string;
        body: unknown;
        receipt: string;
      }>;
      expect(received.map((m) => m.body)).toEqual(expect.arrayContaining([order, '{"stays":"a string"}']));
      for (const m of received) await call('POST', `/v1/queues/${queue}/nack`, { receipt: m.receipt });
      const dead = await call('GET', `/v1/queues/${queue}/dead-letters/${sent.body.messageId}`);
      expect(dead.status).toBe(200);
      expect(dead.body).toMatchObject({ messageId: sent.body.messageId, body: order });
    });

    it('a JSON value sent over HTTP is consumed by the deployed consumer Lambda (the library consumer), nothing dead-lettered', async () => {
      const sent = await call('POST', '/v1/queues/account-events/messages', {
        body: { type: 'account-opened', bank: 'bank-a', id: unique('http'), balance: 1 },
      });
      expect(sent.status).toBe(201);
      await until(
        'the consumer to drain account-events',
        async () => {
          const stats = await call('GET', '/v1/queues/account-events/stats?consistency=strong');
          return stats.body.visible === 0 && stats.body.inFlight === 0 && stats.body.delayed === 0;
        },
        90_000,
      );
      expect((await call('GET', `/v1/queues/account-events/dead-letters/${sent.body.messageId}`)).status).toBe(404);
    });

    it('lists queues with config and stats, peeks an in-flight message (fence, lease expiry, no receipt), and gets, redrives and deletes one dead letter', async () => {
      const queue = unique('ops');
      expect((await call('PUT', `/v1/queues/${queue}`, { maxReceiveCount: 1 })).status).toBe(200);
      const a = (await call('POST', `/v1/queues/${queue}/messages`, { body: 'a' })).body.messageId as string;
      const b = (await call('POST', `/v1/queues/${queue}/messages`, { body: 'b' })).body.messageId as string;
      const listed = await until('the queue to be listed', async () => {
        let cursor: string | undefined;
        do {
          const page = await call('GET', `/v1/queues?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
          const found = (page.body.queues as Array<{ queue: string }>).find((q) => q.queue === queue);
          if (found) return found;
          cursor = page.body.nextCursor as string | undefined;
        } while (cursor);
        return undefined;
      });
      expect(listed).toMatchObject({ queue, config: { maxReceiveCount: 1, fifo: false } });
      const [leased] = (await call('POST', `/v1/queues/${queue}/receive`, { visibilityTimeoutSeconds: 60 })).body.messages as Array<{
        messageId: string;
        receipt: string;
        fence: number;
      }>;
      const peek = await call('GET', `/v1/queues/${queue}/messages?state=in-flight&consistency=strong`);
      expect(peek.body.messages).toEqual([
        expect.objectContaining({ messageId: leased?.messageId, state: 'in-flight', fence: leased?.fence, receiveCount: 1 }),
      ]);
      expect(JSON.stringify(peek.body)).not.toContain(leased?.receipt);
      await call('POST', `/v1/queues/${queue}/nack`, { receipt: leased?.receipt });
      const other = leased?.messageId === a ? b : a;
      const [second] = (await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages as Array<{ receipt: string }>;
      await call('POST', `/v1/queues/${queue}/nack`, { receipt: second?.receipt });
      expect((await call('GET', `/v1/queues/${queue}/dead-letters/${a}`)).body).toMatchObject({
        messageId: a,
        body: 'a',
        consistency: 'strong',
      });
      expect((await call('POST', `/v1/queues/${queue}/dead-letters/${a}/redrive`)).body).toEqual({ messageId: a, redriven: true });
      expect((await call('DELETE', `/v1/queues/${queue}/dead-letters/${b}`)).status).toBe(204);
      expect((await call('GET', `/v1/queues/${queue}/dead-letters/${b}`)).status).toBe(404);
      expect(other === a || other === b).toBe(true);
      expect(
        ((await call('POST', `/v1/queues/${queue}/receive`, {})).body.messages as Array<{ messageId: string }>).map((m) => m.messageId),
      ).toEqual([a]);
    });

    it("lists transactions by status, newest first, and draws a committed and an aborted 2PC transfer's timeline", async () => {
      const [a, b] = [unique('tl-alice'), unique('tl-bob')];
      await call('POST', '/v1/accounts', { bank: 'bank-a', id: a, balance: 100 });
      await call('POST', '/v1/accounts', { bank: 'bank-b', id: b, balance: 0 });
      const finish = async (amount: number) => {
        const started = await call('POST', '/v1/transfers', {
          from: { bank: 'bank-a', id: a },
          to: { bank: 'bank-b', id: b },
          amount,
          mode: '2pc',
        });
        const id = started.body.transferId as string;
        await until('the transfer to finish', async () => (await call('GET', `/v1/transfers/${id}`)).body.status !== 'PENDING');
        return id;
      };
      const committed = await finish(60);
      const aborted = await finish(500);
      const listed = await until('the committed transfer to be listed', async () => {
        const page = await call('GET', '/v1/transactions?status=COMMITTED&limit=100');
        const found = (page.body.transactions as Array<{ txId: string }>).find((t) => t.txId === committed);
        return found && page.body;
      });
      const times = (listed.transactions as Array<{ createdAt: string }>).map((t) => Date.parse(t.createdAt));
      expect([...times].sort((x, y) => y - x)).toEqual(times);
      expect(listed.consistency).toBe('eventual');
      const kinds = (events: Array<{ kind: string; participant?: string; outcome?: string }>) =>
        events.map((e) => [e.kind, e.participant ?? '', e.outcome ?? ''].join(':'));
      const ok = await call('GET', `/v1/transactions/${committed}/timeline`);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ txId: committed, status: 'COMMITTED', mode: '2pc', consistency: 'strong' });
      const okKinds = kinds(ok.body.events as never);
      expect(okKinds[0]).toBe('started::');
      expect(okKinds.at(-1)).toBe('completed::COMMITTED');
      expect(okKinds).toEqual(
        expect.arrayContaining(['vote:debit:YES', 'vote:credit:YES', 'decision::COMMIT', 'commit:debit:ok', 'commit:credit:ok']),
      );
      expect(okKinds.indexOf('decision::COMMIT')).toBeGreaterThan(okKinds.indexOf('vote:debit:YES'));
      const no = await call('GET', `/v1/transactions/${aborted}/timeline`);
      const noKinds = kinds(no.body.events as never);
      expect(noKinds).toEqual(expect.arrayContaining(['vote:debit:NO', 'decision::ABORT']));
      expect(noKinds.at(-1)).toBe('completed::ABORTED');
      // Only a STUCK transaction can be retried.
      const retry = await call('POST', `/v1/transactions/${committed}/retry`);
      expect(retry.status).toBe(409);
      expect((await call('POST', `/v1/transactions/${unique('nope')}/retry`)).status).toBe(404);
    });
  });
});
