/**
 * The edge: everything a request carries (path, query, headers, JSON body) is validated here, once,
 * against the zod schemas the OpenAPI document is generated from. Nothing is written before this
 * has passed.
 */
import type { z } from 'zod';
import { PayloadTooLargeError, quote, ValidationError } from '../core/errors';
import { UnsupportedMediaTypeError } from './errors';

/** DESIGN.md: a request body over 1 MiB is refused (API Gateway's own limit is 10 MB, Lambda's 6 MB). */
export const MAX_REQUEST_BODY_BYTES = 1_048_576;

/**
 * Parses `value` with `schema` or throws a ValidationError naming the first offending field,
 * dotted and prefixed with `prefix`, and quoting the value it found there.
 *
 * core/queue/config.ts's parseOrThrow does the same for the library; this one also names an
 * unknown field itself (zod reports it at its parent) and quotes the bad value.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ValidationError(prefix || '(body)', 'invalid');
  const path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    path.push(key);
    message = 'unknown field';
  } else {
    const found = valueAt(value, issue.path);
    if (found !== undefined) message += `, got ${quote(found)}`;
  }
  const field = [prefix, ...path].filter(Boolean).join('.') || '(body)';
  throw new ValidationError(field, message);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Reads a JSON body: refuses it (413) before reading when Content-Length says it is too large, and
 * while reading when it turns out larger than declared or no length was declared; then (415) when
 * it is not declared as JSON; then (400, field `(body)`) when it is not JSON. An empty body is `{}`,
 * so a route whose fields are all optional can be called without one.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const bytes = await readBounded(request, MAX_REQUEST_BODY_BYTES);
  if (bytes.length === 0) return {};
  const contentType = request.headers.get('content-type');
  if (!isJsonMediaType(contentType)) {
    throw new UnsupportedMediaTypeError(
      `the request body must be sent as application/json, got Content-Type ${contentType === null ? '(none)' : quote(contentType)}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('(body)', 'not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError('(body)', `not valid JSON (${(error as Error).message})`);
  }
}

/** `application/json` or any `+json` type, with or without parameters (`; charset=utf-8`). */
export function isJsonMediaType(contentType: string | null): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

async function readBounded(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`the request body is ${declared} bytes; the limit is ${limit} (1 MiB)`);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError(`the request body is over the limit of ${limit} bytes (1 MiB)`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * zod types a left-out optional field as `field?: T | undefined`; the library's option bags are
 * declared under exactOptionalPropertyTypes as `field?: T`. This drops the undefined ones.
 */
export type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };
export function withoutUndefined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}
