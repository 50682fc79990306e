/**
 * What can go wrong talking to a Concord deployment, as the operator's tools see it: each failure
 * has a `kind` that says whose move it is (fix the command, fix the URL, fix the credentials, wait
 * for the deployment), and the exit code a script can branch on follows from the kind alone.
 */

/** The kinds, each a different next step for the operator. */
export const FailureKind = {
  /** The command line itself is wrong: an unknown option, a missing argument, a bad value. */
  Usage: 'usage',
  /** `--api` / CONCORD_API_URL is not an http(s) URL. */
  BadUrl: 'bad-url',
  /** The API answered 400/413/415: the input was refused, naming the field. */
  BadInput: 'bad-input',
  /** 404: the queue, dead letter or transaction does not exist. */
  NotFound: 'not-found',
  /** 409: the thing exists but its state does not allow the action (e.g. retrying a transaction that is not STUCK). */
  Conflict: 'conflict',
  /** 401/403, or no credentials to sign with. */
  Auth: 'auth',
  /** Nothing answered at the URL (refused, DNS, timeout, TLS). */
  Unreachable: 'unreachable',
  /** 5xx, 429, or an answer that is not the Concord API's JSON. */
  Server: 'server',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/**
 * Exit codes scripts can rely on (documented in the README, "Operators' CLI"). A code names a
 * kind of failure, never a command: `concord tx retry` and `concord dlq show` both exit 2 for
 * "no such thing".
 */
export const ExitCode = {
  Ok: 0,
  /** Usage or bad input: the command line, the URL, or a 400 from the API. */
  Usage: 1,
  NotFound: 2,
  /** The API failed or could not be reached: worth retrying later. */
  Unavailable: 3,
  Auth: 4,
  /** The state does not allow it (409). */
  Conflict: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodeOf: Record<FailureKind, ExitCode> = {
  [FailureKind.Usage]: ExitCode.Usage,
  [FailureKind.BadUrl]: ExitCode.Usage,
  [FailureKind.BadInput]: ExitCode.Usage,
  [FailureKind.NotFound]: ExitCode.NotFound,
  [FailureKind.Conflict]: ExitCode.Conflict,
  [FailureKind.Auth]: ExitCode.Auth,
  [FailureKind.Unreachable]: ExitCode.Unavailable,
  [FailureKind.Server]: ExitCode.Unavailable,
};

/** A failure the operator's tools report as it is: the message says what was wrong and where. */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly details: {
      readonly status?: number;
      /** The API's error code (`NotFound`, `ValidationError`, ...). */
      readonly code?: string;
      /** The offending field, for a 400. */
      readonly field?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
  }

  get exitCode(): ExitCode {
    return exitCodeOf[this.kind];
  }
}

/** The kind of an HTTP error status. */
export function failureKindOfStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return FailureKind.Auth;
  if (status === 404) return FailureKind.NotFound;
  if (status === 409) return FailureKind.Conflict;
  if (status >= 400 && status < 500 && status !== 429 && status !== 408) return FailureKind.BadInput;
  return FailureKind.Server;
}
