/**
 * The error vocabulary shared by every Concord module. Each error has a stable `code` that the
 * HTTP layer maps to a status (see DESIGN.md) and a `retryable` flag: terminal errors describe the
 * caller's input or a lost race, retryable ones a passing condition of the infrastructure.
 */
export abstract class ConcordError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean = false;
}

/** Bad input. `field` names the offending field with a JSON-path-like dotted name. */
export class ValidationError extends ConcordError {
  override readonly name = 'ValidationError';
  readonly code = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
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
