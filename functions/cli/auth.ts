/**
 * How a request to a deployment's API proves who sends it, matching the API's authorizer
 * (cdk/constructs/concord-api.ts `ApiAuthorization`):
 *
 *   iam   SigV4 (service `execute-api`), credentials from the AWS SDK's default chain
 *         (environment, shared config/SSO profiles, web identity, container and instance roles)
 *   jwt   `Authorization: Bearer <token>`
 *   none  nothing: the local emulator's API has no authorizer
 *
 * Signing is @smithy/signature-v4, the signer the AWS SDK itself uses, so the canonical request
 * (double-encoded path, sorted query, signed host) is AWS's own and not a re-implementation.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { type RequestSigner, unsigned } from './client.js';
import { FailureKind, OperatorError } from './errors.js';

export type CredentialProvider = ReturnType<typeof fromNodeProviderChain>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

export const AuthMode = { Iam: 'iam', Jwt: 'jwt', None: 'none' } as const;
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

export function bearer(token: string): RequestSigner {
  return async (request) => ({ ...request.headers, authorization: `Bearer ${token}` });
}

/** `abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`. */
export function regionOfApiHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(hostname)?.[1];
}

export function sigV4(options: { readonly region: string; readonly credentials: CredentialProvider }): RequestSigner {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: async (): Promise<Credentials> => {
      try {
        return await options.credentials();
      } catch (error) {
        throw new OperatorError(
          FailureKind.Auth,
          `no AWS credentials to sign with (${(error as Error).message}): the API uses IAM authorization; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --auth jwt --token T`,
          { cause: error },
        );
      }
    },
    sha256: Hash.bind(null, 'sha256'),
  });
  return async (request) => {
    const { url } = request;
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: queryOf(url),
      headers: { ...request.headers, host: url.host },
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    // fetch sets Host itself; it refuses to be told.
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}

/** The query as the signer wants it: a key given twice keeps both values. */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

/** The AWS SDK's default credential chain (environment, profiles and SSO, web identity, container and instance roles). */
export function defaultCredentials(profile?: string): CredentialProvider {
  return fromNodeProviderChain(profile ? { profile } : {});
}

export interface AuthChoice {
  readonly mode: AuthMode;
  readonly signer: RequestSigner;
  /** Why this mode, for --verbose. */
  readonly reason: string;
}

/** The mode chooseAuth picks (below), without building a signer. */
export function authModeFor(options: {
  readonly url: URL;
  readonly mode?: AuthMode | undefined;
  readonly token?: string | undefined;
}): AuthMode {
  return options.mode ?? (options.token ? AuthMode.Jwt : regionOfApiHost(options.url.hostname) ? AuthMode.Iam : AuthMode.None);
}

/**
 * The signer for a deployment. An explicit `--auth` wins; otherwise a token means JWT, an
 * `execute-api.<region>.amazonaws.com` host means IAM (the example stack's default authorizer),
 * and anything else (the local emulator, a custom domain without --auth) is sent unsigned.
 */
export function chooseAuth(options: {
  readonly url: URL;
  readonly mode?: AuthMode | undefined;
  readonly token?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}): AuthChoice {
  const hostRegion = regionOfApiHost(options.url.hostname);
  const mode = authModeFor(options);
  const reason = options.mode ? '--auth' : options.token ? 'a token was given' : hostRegion ? 'an execute-api host' : 'not an AWS host';
  if (mode === AuthMode.Jwt) {
    if (!options.token) throw new OperatorError(FailureKind.Usage, '--auth jwt needs a token: pass --token T or set CONCORD_API_TOKEN');
    return { mode, signer: bearer(options.token), reason };
  }
  if (mode === AuthMode.Iam) {
    const region = options.region ?? hostRegion;
    if (!region) {
      throw new OperatorError(
        FailureKind.Usage,
        `--auth iam needs a region to sign for: ${options.url.host} does not name one; pass --region or set AWS_REGION`,
      );
    }
    return { mode, signer: sigV4({ region, credentials: defaultCredentials(options.profile) }), reason };
  }
  return { mode, signer: unsigned, reason };
}
