/**
 * The HTTP API (DESIGN.md "HTTP API (v1)") as a Hono app, the same on API Gateway + Lambda
 * (lambda.ts) and as a local process (server.ts). Each route is parse -> call -> map: its input is
 * validated here against the schemas it declares (route.ts), the library does the work, and any
 * error leaves as `{"error":{"code","message"}}` with its status (errors.ts).
 */
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { quote } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { bankRoutes } from './bank-routes.js';
import { mountConsole } from './console-route.js';
import { ErrorCode, httpError, toHttpError } from './errors.js';
import { ORIGINAL_METHOD_HEADER } from './methods.js';
import { type OpenApiDocument, openApiDocument } from './openapi.js';
import type { ApiDeps, ApiLogger } from './ports.js';
import { queueRoutes } from './queue-routes.js';
import { readJsonBody } from './request.js';
import { type AnyRoute, honoPath, pathPattern, route } from './route.js';
import { openApiResponse } from './schemas.js';
import { transactionRoutes } from './transaction-routes.js';

export type { ApiDeps, ApiLogger, BankDeps } from './ports.js';

/** Routes that take no path or query parameters still validate them: an unknown one is a 400. */
const noFields = z.object({}).strict();

const consoleLogger: ApiLogger = { error: (message, error) => console.error(message, error) };

export function createApp(deps: ApiDeps): Hono {
  const logger = deps.logger ?? consoleLogger;
  let document: OpenApiDocument | undefined;
  const routes: AnyRoute[] = [
    ...queueRoutes(deps),
    ...bankRoutes(deps),
    ...transactionRoutes(deps),
    route({
      method: 'get',
      path: '/v1/openapi.json',
      operationId: 'openApiDocument',
      summary: 'This document (static: it takes no `consistency`).',
      tag: 'meta',
      success: { status: 200, description: 'The OpenAPI 3.1 document.', schema: openApiResponse },
      errors: [],
      // Built on first request, not at cold start.
      handle: async () => (document ??= openApiDocument(routes)),
    }),
  ];

  const app = new Hono();
  for (const r of routes) app.on(r.method.toUpperCase(), honoPath(r.path), (c) => serve(r, c));
  if (deps.consoleAssets) mountConsole(app, deps.consoleAssets);

  const patterns = routes.map((r) => ({
    pattern: pathPattern(r.path),
    method: r.method.toUpperCase(),
    literals: r.path.split('/').filter((segment) => !segment.startsWith('{')).length,
  }));
  /** The methods of the most specific templates a path matches (`/dead-letters/redrive` over `/dead-letters/{messageId}`). */
  const allowedOn = (path: string): string[] => {
    const matching = patterns.filter((p) => p.pattern.test(path));
    const most = Math.max(0, ...matching.map((p) => p.literals));
    return [...new Set(matching.filter((p) => p.literals === most).map((p) => p.method))];
  };
  app.notFound((c) => {
    const method = c.req.header(ORIGINAL_METHOD_HEADER) ?? c.req.method;
    const allowed = allowedOn(c.req.path);
    if (allowed.length === 0) return reply(c, httpError(ErrorCode.NotFound, `no route ${method} ${quote(c.req.path, 200)}`));
    c.header('Allow', allowed.join(', '));
    return reply(
      c,
      httpError(ErrorCode.MethodNotAllowed, `${method} is not allowed on ${quote(c.req.path, 200)}; use ${allowed.join(' or ')}`),
    );
  });

  app.onError((error, c) => {
    const errorId = deps.newId();
    const failure = toHttpError(error, errorId);
    if (failure.internal) {
      logger.error(`internal error ${errorId} on ${c.req.method} ${c.req.path}`, error instanceof Error ? error : new Error(String(error)));
    }
    if (failure.retryAfterSeconds !== undefined) c.header('Retry-After', String(failure.retryAfterSeconds));
    return reply(c, failure);
  });

  return app;
}

/** Parse (path, query, headers, then the body) -> call -> map. Nothing runs before all of it passed. */
async function serve(r: AnyRoute, c: Context): Promise<Response> {
  try {
    return await parseCallMap(r, c);
  } catch (error) {
    // Hono hands only Errors to onError; anything else thrown would escape as a crash.
    throw error instanceof Error ? error : new Error(String(error));
  }
}

async function parseCallMap(r: AnyRoute, c: Context): Promise<Response> {
  const params = parseInput(r.params ?? noFields, c.req.param() as Record<string, string>);
  const query = parseInput(r.query ?? noFields, c.req.query());
  const headers = r.headers ? parseInput(r.headers, pickHeaders(c.req.raw.headers, Object.keys(r.headers.shape))) : {};
  const body = r.body ? parseInput(r.body, await readJsonBody(c.req.raw)) : undefined;
  const result = await r.handle({ params, query, headers, body });
  if (r.success.status === 204) return c.body(null, 204);
  return c.json(result, r.success.status);
}

function pickHeaders(headers: Headers, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) picked[name] = value;
  }
  return picked;
}

function reply(c: Context, failure: { status: number; body: unknown }): Response {
  return c.json(failure.body, failure.status as ContentfulStatusCode);
}
