/**
 * A route is declared once, as data: its path, the schemas of what it reads and returns, the
 * errors it can answer with, and a handler. The app registers the handler behind the validation
 * of those schemas (app.ts) and the OpenAPI document lists the same schemas (openapi.ts), so the
 * document cannot drift from what the app accepts.
 */
import type { z } from 'zod';
import type { ErrorCode } from './errors.js';

export type Method = 'get' | 'post' | 'put' | 'delete';
/** 204 answers with no body (its schema is `z.undefined()`). */
export type SuccessStatus = 200 | 201 | 202 | 204;
type Fields = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>;
type NoFields = z.ZodObject<Record<never, never>, z.core.$strict>;

export interface RouteInput<P extends Fields, Q extends Fields, H extends Fields, B extends z.ZodType> {
  readonly params: z.output<P>;
  readonly query: z.output<Q>;
  readonly headers: z.output<H>;
  readonly body: z.output<B>;
}

export interface Route<
  P extends Fields = NoFields,
  Q extends Fields = NoFields,
  H extends Fields = NoFields,
  B extends z.ZodType = z.ZodUndefined,
  R extends z.ZodType = z.ZodType,
> {
  readonly method: Method;
  /** OpenAPI path template: `/v1/queues/{queue}/messages`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: P;
  /** Without it the route takes no query parameters (an unknown one is a 400). */
  readonly query?: Q;
  /** Request headers the route reads, by their canonical names. */
  readonly headers?: H;
  /** A JSON body. Routes without one ignore any body sent. */
  readonly body?: B;
  readonly success: { readonly status: SuccessStatus; readonly description: string; readonly schema: R };
  /** Besides 400, 429, 500 and 503, which every route can answer with (and 413/415 with a body). */
  readonly errors: readonly ErrorCode[];
  /**
   * Rules the app enforces that JSON Schema cannot state (a cross-field rule, a token only the API
   * issues, the queue's own state), each answered 400 naming the field. The document lists them
   * in the operation's description and its 400 response; the contract test exempts them by name.
   */
  readonly rules?: readonly string[];
  handle(input: RouteInput<P, Q, H, B>): Promise<z.input<R>>;
}

/** A route with its types erased, as the app and the document handle them. */
export type AnyRoute = Route<Fields, Fields, Fields, z.ZodType, z.ZodType>;

/** Declares a route with its handler typed by its schemas. */
export function route<P extends Fields, Q extends Fields, H extends Fields, B extends z.ZodType, R extends z.ZodType>(
  definition: Route<P, Q, H, B, R>,
): AnyRoute {
  return definition as unknown as AnyRoute;
}

/** `/v1/queues/{queue}` -> `/v1/queues/:queue` (Hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}

/** Matches a concrete path against a template (for 405: the path exists under another method). */
export function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (/^\{[A-Za-z]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
