/**
 * Q3 for a write that carries no idempotency token. The SDK retries an attempt whose response was
 * lost (a reset connection, a timeout, a 5xx), although that attempt may have applied. For most of
 * the queue's writes a retry is safe: they are conditional on a lease token, or TransactWriteItems
 * with a ClientRequestToken. A plain send is not: between the attempt that applied and its retry
 * a consumer can lease and ack the new message, and the retried put stores it again (Q1).
 *
 * `withoutBlindRetries(command)` lets the SDK retry only attempts known not to have applied: the
 * service answered with a 4xx (throttling included), or the connection was never made. Any other
 * failure ends the call with WriteOutcomeUnknown, and the caller settles the outcome itself.
 */

/**
 * The attempt may or may not have applied; `failure` is what ended it. (Not `cause`: the SDK's
 * retry classifier looks into `cause`, and would retry a transient one.)
 */
export class WriteOutcomeUnknown extends Error {
  override readonly name = 'WriteOutcomeUnknown';
  constructor(readonly failure: unknown) {
    super(`the write may or may not have applied: ${(failure as Error)?.message ?? String(failure)}`);
  }
}

/** Connection errors raised before a request was sent. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function neverApplied(error: unknown): boolean {
  const e = error as { $metadata?: { httpStatusCode?: number }; code?: unknown } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  // A 4xx is the service refusing the request (validation, condition, throttling): nothing applied.
  if (status !== undefined && status >= 400 && status < 500) return true;
  return typeof e?.code === 'string' && NEVER_SENT.has(e.code);
}

type Next = (args: unknown) => Promise<unknown>;
interface CommandLike {
  readonly middlewareStack: { addRelativeTo(middleware: never, options: never): void };
}

export const UNRETRIED_WRITE_MIDDLEWARE = 'concordUnretriedWrite';

/**
 * Marks `command` so that an attempt that may have applied is never retried by the SDK. Send it
 * with an options argument, `client.send(withoutBlindRetries(command), {})`: a client built with
 * `cacheMiddleware: true` would otherwise reuse the handler it resolved for the first command of
 * this class, without this middleware.
 */
export function withoutBlindRetries<C extends CommandLike>(command: C): C {
  const middleware =
    (next: Next) =>
    async (args: unknown): Promise<unknown> => {
      try {
        return await next(args);
      } catch (error) {
        if (neverApplied(error)) throw error;
        // Not an error the SDK retries: the retry loop ends here.
        throw new WriteOutcomeUnknown(error);
      }
    };
  (command.middlewareStack.addRelativeTo as (m: unknown, o: unknown) => void).call(command.middlewareStack, middleware, {
    name: UNRETRIED_WRITE_MIDDLEWARE,
    relation: 'after',
    toMiddleware: 'retryMiddleware',
  });
  return command;
}
