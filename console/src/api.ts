/**
 * The console's one way to the HTTP API: same origin (the API serves the console at /console/, and
 * `concord console` serves it beside its signing proxy), JSON in and out, the API's error shape
 * turned into an ApiError. With a JWT-authorized API the operator pastes a token; it is kept in
 * sessionStorage (this tab only) and sent as a bearer token. Nothing else is sent.
 */
export type { Consistency } from '../../functions/cli/client.js';

import type { Consistency } from '../../functions/cli/client.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'concord.console.token';

export function bearerToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setBearerToken(token: string): void {
  if (token.trim()) sessionStorage.setItem(TOKEN_KEY, token.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The API's root: the console lives at <root>/console/. */
export function apiRoot(): string {
  return location.pathname.replace(/\/console(\/.*)?$/, '');
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = bearerToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${apiRoot()}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const hint =
      response.status === 403 || response.status === 401
        ? ' (an IAM-authorized API needs `concord console --api URL`, which signs for you; a JWT one needs a token above)'
        : '';
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP ${response.status}`,
      `${error?.message ?? (text.slice(0, 200) || response.statusText)}${hint}`,
    );
  }
  return json as T;
}

export const enc = encodeURIComponent;

// The shapes of docs/operators-api.md: the CLI's typed client declares them once (types only;
// nothing of the CLI is bundled).
export type {
  DeadLetter,
  MessageState,
  PeekedMessage,
  QueueConfig,
  QueueStats,
  QueueSummary,
  Timeline,
  TimelineEvent,
  TransactionSummary,
  TxStatus,
} from '../../functions/cli/client.js';
export interface Page {
  nextCursor?: string;
  consistency: Consistency;
}
