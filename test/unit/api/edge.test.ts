import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import { errorBodySchema } from '../../../functions/api/errors.js';
import { isJsonMediaType, MAX_REQUEST_BODY_BYTES } from '../../../functions/api/request.js';
import { ContentionError, PayloadTooLargeError, ThrottledError } from '../../../functions/core/errors.js';
import { SendOutcomeUnknown } from '../../../functions/core/queue/errors.js';
import { fakeWorld } from './fakes.js';
import { call } from './http.js';

function given() {
  const world = fakeWorld();
  return { ...world, app: createApp(world.deps) };
}

/** A send whose JSON is exactly `size` bytes long. */
function sendOfSize(size: number): string {
  const envelope = JSON.stringify({ body: '' });
  return JSON.stringify({ body: 'x'.repeat(size - envelope.length) });
}

/** A body stream with no declared length, as a chunked request arrives. */
function streamOf(text: string, chunkBytes = 64 * 1024): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

describe('HTTP API: the edge', () => {
  describe('every error is {"error":{"code","message"}} JSON', () => {
    it.each([
      ['an unknown route', 'GET', '/v1/nothing-here', 404, 'NotFound'],
      ['an unknown version', 'GET', '/v2/queues/q/stats', 404, 'NotFound'],
      ['the root', 'GET', '/', 404, 'NotFound'],
      ['a trailing slash', 'GET', '/v1/queues/q/stats/', 404, 'NotFound'],
      ['a wrong method', 'DELETE', '/v1/queues/q/messages', 405, 'MethodNotAllowed'],
      ['GET on a POST route', 'GET', '/v1/transfers', 405, 'MethodNotAllowed'],
      ['POST on a GET route', 'POST', '/v1/transfers/t1', 405, 'MethodNotAllowed'],
    ])('%s -> %i %s', async (_, method, path, status, code) => {
      const { app } = given();
      const reply = await call(app, method, path);
      expect(reply.status).toBe(status);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(errorBodySchema.parse(reply.body).error.code).toBe(code);
    });

    it('names the allowed methods on a 405', async () => {
      const { app } = given();
      const reply = await call(app, 'PATCH', '/v1/queues/orders');
      expect(reply.headers.get('allow')).toBe('PUT');
      expect(reply.body.error.message).toContain('PUT');
    });
  });

  describe('request bodies', () => {
    it('answers 400 naming (body) for invalid JSON, writing nothing', async () => {
      const { app, writes } = given();
      const reply = await call(app, 'POST', '/v1/queues/q/messages', {
        raw: '{"body": "x",',
        headers: { 'content-type': 'application/json' },
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'ValidationError', field: '(body)' });
      expect(reply.body.error.message).toMatch(/^\(body\): not valid JSON/);
      expect(writes()).toBe(0);
    });

    it.each([['"just a string"'], ['null'], ['42'], ['[]']])('answers 400 naming (body) for the JSON %s', async (raw) => {
      const { app } = given();
      const reply = await call(app, 'POST', '/v1/transfers', { raw, headers: { 'content-type': 'application/json' } });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('(body)');
    });

    it('answers 400 naming (body) for bytes that are not UTF-8', async () => {
      const { app } = given();
      const reply = await call(app, 'POST', '/v1/queues/q/messages', {
        raw: new Uint8Array([0x7b, 0xff, 0x7d]),
        headers: { 'content-type': 'application/json' },
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('(body)');
    });

    it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x']])(
      'answers 415 for a body sent as %s, writing nothing',
      async (contentType) => {
        const { app, writes } = given();
        const reply = await call(app, 'POST', '/v1/queues/q/messages', { raw: '{"body":"x"}', headers: { 'content-type': contentType } });
        expect(reply.status).toBe(415);
        expect(reply.body.error.code).toBe('UnsupportedMediaType');
        expect(reply.body.error.message).toContain(contentType.split(';')[0]);
        expect(writes()).toBe(0);
      },
    );

    it('answers 415 for a body without a Content-Type', async () => {
      const { app } = given();
      const reply = await call(app, 'POST', '/v1/queues/q/messages', { raw: new Blob(['{"body":"x"}']) });
      expect(reply.status).toBe(415);
    });

    it('accepts application/json with parameters and +json types', () => {
      expect(isJsonMediaType('application/json; charset=utf-8')).toBe(true);
      expect(isJsonMediaType('Application/JSON')).toBe(true);
      expect(isJsonMediaType('application/merge-patch+json')).toBe(true);
      expect(isJsonMediaType('text/json')).toBe(false);
      expect(isJsonMediaType(null)).toBe(false);
    });

    it('accepts a body of exactly 1 MiB', async () => {
      const { app } = given();
      const raw = sendOfSize(MAX_REQUEST_BODY_BYTES);
      expect(raw.length).toBe(MAX_REQUEST_BODY_BYTES);
      const reply = await call(app, 'POST', '/v1/queues/q/messages', { raw, headers: { 'content-type': 'application/json' } });
      expect(reply.status).toBe(201);
    });

    it('answers 413 for a body over 1 MiB by its Content-Length, writing nothing', async () => {
      const { app, writes } = given();
      const raw = sendOfSize(MAX_REQUEST_BODY_BYTES + 1);
      const reply = await call(app, 'POST', '/v1/queues/q/messages', {
        raw,
        headers: { 'content-type': 'application/json', 'content-length': String(raw.length) },
      });
      expect(reply.status).toBe(413);
      expect(reply.body.error.code).toBe('PayloadTooLarge');
      expect(writes()).toBe(0);
    });

    it('answers 413 for a body over 1 MiB sent without a length (counted while read), writing nothing', async () => {
      const { app, writes } = given();
      const reply = await call(app, 'POST', '/v1/queues/q/messages', {
        raw: streamOf(sendOfSize(MAX_REQUEST_BODY_BYTES + 1)),
        headers: { 'content-type': 'application/json' },
      });
      expect(reply.status).toBe(413);
      expect(writes()).toBe(0);
    });

    it('answers 413 for a body larger than its Content-Length claims', async () => {
      const { app, writes } = given();
      const reply = await call(app, 'POST', '/v1/accounts', {
        raw: streamOf(`{"bank":"bank-a","id":"a","balance":1,"pad":"${'x'.repeat(MAX_REQUEST_BODY_BYTES)}"}`),
        headers: { 'content-type': 'application/json', 'content-length': '10' },
      });
      expect(reply.status).toBe(413);
      expect(writes()).toBe(0);
    });

    it("answers 413 when the queue cannot store a message body (the library's PayloadTooLargeError)", async () => {
      const { app, queues } = given();
      queues.of('q').fault = new PayloadTooLargeError('no claim-check bucket');
      const reply = await call(app, 'POST', '/v1/queues/q/messages', { json: { body: 'x' } });
      expect(reply.status).toBe(413);
      expect(reply.body.error).toEqual({ code: 'PayloadTooLarge', message: 'no claim-check bucket' });
    });
  });

  describe('query parameters', () => {
    it.each([
      ['/v1/queues/q/stats?consistency=linearizable'],
      ['/v1/accounts/bank-a/alice?consistency=STRONG'],
      ['/v1/transfers/t1?consistency='],
      ['/v1/transactions/t1?consistency=1'],
    ])('answers 400 naming consistency for %s', async (path) => {
      const { app } = given();
      const reply = await call(app, 'GET', path);
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe('consistency');
    });

    it('answers 400 naming an unknown query parameter, on GET and POST routes alike', async () => {
      const { app, writes } = given();
      expect((await call(app, 'GET', '/v1/queues/q/stats?verbose=1')).body.error.field).toBe('verbose');
      const post = await call(app, 'POST', '/v1/queues/q/messages?dryRun=true', { json: { body: 'x' } });
      expect(post.body.error.field).toBe('dryRun');
      expect(writes()).toBe(0);
    });
  });

  describe('failures of the services behind the API', () => {
    it.each([['ThrottlingException'], ['ProvisionedThroughputExceededException'], ['RequestLimitExceeded']])(
      'answers 429 with Retry-After to AWS %s',
      async (name) => {
        const { app, queues } = given();
        queues.fault = Object.assign(new Error('Rate exceeded'), { name, $fault: 'client' });
        const reply = await call(app, 'GET', '/v1/queues/q/stats');
        expect(reply.status).toBe(429);
        expect(reply.headers.get('retry-after')).toBe('1');
        expect(reply.body.error.code).toBe('Throttled');
      },
    );

    it('answers 429 to an error the SDK marked as throttling', async () => {
      const { app, coordinator } = given();
      coordinator.fault = Object.assign(new Error('slow down'), { name: 'SomethingNew', $retryable: { throttling: true } });
      expect((await call(app, 'GET', '/v1/transactions/t1')).status).toBe(429);
    });

    it('answers 503 to an AWS server fault, without its details', async () => {
      const { app, bankA } = given();
      bankA.bank.fault = Object.assign(new Error('We encountered an internal error in table arn:aws:dynamodb:eu-west-1:123:table/bank-a'), {
        name: 'InternalServerError',
        $fault: 'server',
      });
      const reply = await call(app, 'GET', '/v1/accounts/bank-a/alice');
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('Unavailable');
      expect(JSON.stringify(reply.body)).not.toContain('arn:');
    });

    it('answers 503 to a send whose outcome is unknown, saying how to resend safely', async () => {
      const { app, queues } = given();
      queues.of('q').fault = new SendOutcomeUnknown('m-1', 'socket hang up');
      const reply = await call(app, 'POST', '/v1/queues/q/messages', { json: { body: 'x' } });
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('Unavailable');
      expect(reply.body.error.message).toMatch(/message m-1 may or may not have been stored .*Idempotency-Key/);
    });

    it("answers the library's retryable errors with Retry-After: contention 503, exhausted throttling 429, never a 500", async () => {
      const { app, queues, logger } = given();
      queues.of('q').fault = new ContentionError(
        'an append to FIFO group "g" lost to concurrent transactions 12 times; nothing was applied',
      );
      const contended = await call(app, 'POST', '/v1/queues/q/messages', { json: { body: 'x' } });
      expect([contended.status, contended.headers.get('retry-after'), contended.body.error.code]).toEqual([503, '1', 'Unavailable']);
      queues.of('q').fault = new ThrottledError('DynamoDB left the message unprocessed 8 times (throttled); it was not stored', 3);
      const throttled = await call(app, 'POST', '/v1/queues/q/messages', { json: { body: 'x' } });
      expect([throttled.status, throttled.headers.get('retry-after'), throttled.body.error.code]).toEqual([429, '3', 'Throttled']);
      expect(logger.errors).toEqual([]);
    });

    it('answers 500 to a bug without leaking internals, and logs it under the reference it quotes', async () => {
      const { app, coordinator, logger } = given();
      coordinator.fault = new TypeError(
        "Cannot read properties of undefined (reading 'S') at viewOf (/var/task/index.js:1:2) table tx-secret",
      );
      const reply = await call(app, 'GET', '/v1/transfers/t1');
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({
        error: { code: 'InternalError', message: expect.stringMatching(/^internal error \(reference id-\d+\)$/) },
      });
      expect(JSON.stringify(reply.body)).not.toMatch(/secret|viewOf|TypeError|\/var\/task/);
      const reference = /reference (id-\d+)/.exec(reply.body.error.message)?.[1];
      expect(logger.errors).toHaveLength(1);
      expect(logger.errors[0]?.message).toContain(String(reference));
      expect(logger.errors[0]?.error).toBe(coordinator.fault);
    });

    it('answers 500 for a thrown non-Error, logging it', async () => {
      const { app, queues, logger } = given();
      queues.fault = 'a string';
      expect((await call(app, 'POST', '/v1/queues/q/receive')).status).toBe(500);
      expect(logger.errors[0]?.error.message).toBe('a string');
    });

    it('does not log client errors', async () => {
      const { app, logger } = given();
      await call(app, 'GET', '/v1/transfers/missing');
      await call(app, 'POST', '/v1/transfers', { json: {} });
      expect(logger.errors).toEqual([]);
    });
  });
});
