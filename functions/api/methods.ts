/**
 * Methods a fetch `Request` cannot carry (the Fetch standard forbids them): the local server and
 * the Lambda entry point pass such a request in as `X-<method>` with the original in a header, so
 * that it gets the app's 405 (with `Allow`) instead of a crash while building the Request.
 */
export const FORBIDDEN_FETCH_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);
export const ORIGINAL_METHOD_HEADER = 'x-concord-original-method';

/** The method to build the Request with; sets the original-method header when it had to change it. */
export function passableMethod(method: string, setHeader: (name: string, value: string) => void): string {
  const upper = method.toUpperCase();
  if (!FORBIDDEN_FETCH_METHODS.has(upper)) return method;
  setHeader(ORIGINAL_METHOD_HEADER, upper);
  return `X-${upper}`;
}
