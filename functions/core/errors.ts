/**
 * The error vocabulary shared by every Concord module. Each error has a stable `code` that the
 * HTTP layer maps to a status (see DESIGN.md) and a `retryable` flag: terminal errors describe the
 * caller's input or a lost race, retryable ones a passing condition of the infrastructure (the
 * same call may succeed later). The error that led to one is kept as `cause`.
 */
export interface ConcordErrorOptions {
  readonly cause?: unknown;
}

export abstract class ConcordError extends Error {
  abstract readonly code: string;
  /** True when repeating the same call later may succeed (throttling, contention, a passing fault). */
  readonly retryable: boolean = false;

  constructor(message: string, options: ConcordErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Bad input. `field` names the offending field with a JSON-path-like dotted name. */
export class ValidationError extends ConcordError {
  override readonly name = 'ValidationError';
  readonly code = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
    options?: ConcordErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

export class NotFoundError extends ConcordError {
  override readonly name = 'NotFoundError';
  readonly code = 'NotFound';
}

/** A state conflict the caller can resolve (e.g. changing an immutable queue setting). */
export class ConflictError extends ConcordError {
  override readonly name = 'ConflictError';
  readonly code = 'Conflict';
}

export class PayloadTooLargeError extends ConcordError {
  override readonly name = 'PayloadTooLargeError';
  readonly code = 'PayloadTooLarge';
}

/**
 * The backing service asked us to slow down and kept doing so after every retry Concord made
 * (HTTP 429 with Retry-After). Nothing was written.
 */
export class ThrottledError extends ConcordError {
  override readonly name = 'ThrottledError';
  readonly code = 'Throttled';
  override readonly retryable = true;
  constructor(
    message: string,
    /** How long a caller should wait before trying again. */
    readonly retryAfterSeconds = 1,
    options?: ConcordErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Concurrent writers kept winning the same item (a FIFO group's tail, a transaction record) past
 * every retry (HTTP 503 with Retry-After). Nothing of this call was applied; repeat it later.
 */
export class ContentionError extends ConcordError {
  override readonly name = 'ContentionError';
  readonly code = 'Unavailable';
  override readonly retryable = true;
}

/** Quote a user-supplied value in an error message without letting it flood the log. */
export function quote(value: unknown, max = 60): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
