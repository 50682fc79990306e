/**
 * The edge: everything a request carries (path, query, headers, JSON body) is validated here, once,
 * against the zod schemas the OpenAPI document is generated from. Nothing is written before this
 * has passed.
 */
import { PayloadTooLargeError, quote, ValidationError } from '../core/errors.js';
import { UnsupportedMediaTypeError } from './errors.js';

/** DESIGN.md: a request body over 1 MiB is refused (API Gateway's own limit is 10 MB, Lambda's 6 MB). */
export const MAX_REQUEST_BODY_BYTES = 1_048_576;

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
