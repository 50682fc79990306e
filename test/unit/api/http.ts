/** Request factories for driving the app in-process with `app.request`. */
import type { Hono } from 'hono';

export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies by path
  readonly body: any;
  readonly headers: Headers;
}

export interface CallOptions {
  /** Sent as JSON with Content-Type application/json. */
  readonly json?: unknown;
  /** Sent as is. */
  readonly raw?: NonNullable<RequestInit['body']>;
  readonly headers?: Record<string, string>;
}

export async function call(app: Hono, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.raw;
  // A streamed body needs duplex 'half' (fetch's rule); the cast covers lib typings that lack it.
  const streamed = body instanceof ReadableStream ? { duplex: 'half' } : {};
  const response = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}), ...streamed } as RequestInit);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test will say so
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
