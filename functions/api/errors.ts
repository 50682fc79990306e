/**
 * How every failure leaves the API: `{"error":{"code","message"}}` with the status DESIGN.md gives
 * it. Domain errors carry their own `code` (core/errors.ts); AWS throttling and server faults are
 * recognised by name; anything else is a bug and becomes a 500 that says nothing about internals.
 */
import { z } from 'zod';
import { ConcordError, ThrottledError, ValidationError } from '../core/errors.js';

export const ErrorCode = {
  Validation: 'ValidationError',
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  Conflict: 'Conflict',
  LeaseLost: 'LeaseLost',
  PayloadTooLarge: 'PayloadTooLarge',
  UnsupportedMediaType: 'UnsupportedMediaType',
  Throttled: 'Throttled',
  Unavailable: 'Unavailable',
  Internal: 'InternalError',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The status of each code; also the error responses the OpenAPI document lists. */
export const ErrorStatus = {
  [ErrorCode.Validation]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.LeaseLost]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.Throttled]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.Unavailable]: 503,
} as const satisfies Record<ErrorCode, number>;
export type ErrorStatus = (typeof ErrorStatus)[ErrorCode];

export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
        message: z.string(),
        /** For ValidationError: the offending field, dotted (`from.bank`), `(body)` for the body as a whole. */
        field: z.string().optional(),
      })
      .strict(),
  })
  .strict();
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A request body declared as anything but JSON. */
export class UnsupportedMediaTypeError extends ConcordError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = ErrorCode.UnsupportedMediaType;
}

/** What a failure becomes on the wire. `internal` errors are logged, never shown. */
export interface HttpError {
  readonly status: ErrorStatus;
  readonly body: ErrorBody;
  readonly retryAfterSeconds?: number;
  readonly internal: boolean;
}

/**
 * AWS error names that mean "slow down". DynamoDB: ProvisionedThroughputExceededException,
 * RequestLimitExceeded, ThrottlingException; Step Functions and SQS: ThrottlingException,
 * RequestThrottled; S3: SlowDown. The SDK also marks them `$retryable.throttling` after its own
 * retries ran out.
 */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);

interface AwsErrorShape {
  readonly name?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: { readonly throttling?: unknown };
}

export function isThrottling(error: unknown): boolean {
  const e = error as AwsErrorShape | undefined;
  return (typeof e?.name === 'string' && THROTTLING_ERRORS.has(e.name)) || e?.$retryable?.throttling === true;
}

/** An AWS service's own fault (5xx) that outlived the SDK's retries: not our bug, and worth a retry. */
function isServiceFault(error: unknown): boolean {
  return (error as AwsErrorShape | undefined)?.$fault === 'server';
}

/** The codes a domain error (ConcordError) may carry; any other code is a bug, a 500. */
const DOMAIN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.Validation,
  ErrorCode.NotFound,
  ErrorCode.Conflict,
  ErrorCode.LeaseLost,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
  ErrorCode.Throttled,
  ErrorCode.Unavailable,
]);

export function httpError(code: ErrorCode, message: string, field?: string): HttpError {
  return {
    status: ErrorStatus[code],
    body: { error: { code, message, ...(field !== undefined ? { field } : {}) } },
    internal: code === ErrorCode.Internal,
  };
}

/** @param errorId quoted in a 500's message so that an operator can find the logged details. */
export function toHttpError(error: unknown, errorId: string): HttpError {
  if (error instanceof ConcordError && DOMAIN_CODES.has(error.code)) {
    const failure = httpError(error.code as ErrorCode, error.message, error instanceof ValidationError ? error.field : undefined);
    // A passing condition (throttling, contention, a fault): say when to come back.
    if (!error.retryable) return failure;
    return { ...failure, retryAfterSeconds: error instanceof ThrottledError ? error.retryAfterSeconds : 1 };
  }
  if (isThrottling(error)) return { ...httpError(ErrorCode.Throttled, 'too many requests; retry with backoff'), retryAfterSeconds: 1 };
  if (isServiceFault(error)) {
    return { ...httpError(ErrorCode.Unavailable, 'a backing service is unavailable; retry with backoff'), retryAfterSeconds: 1 };
  }
  return httpError(ErrorCode.Internal, `internal error (reference ${errorId})`);
}
