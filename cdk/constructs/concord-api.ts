import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConcordFunction } from './function.js';

/** Who may call the API. */
export type ApiAuthorization =
  | { readonly kind: 'iam' }
  | { readonly kind: 'jwt'; readonly issuer: string; readonly audience: readonly string[] }
  /** No authorization: for the local emulator only. */
  | { readonly kind: 'none' };

export interface ConcordApiProps {
  /** Environment of the API function (tables, buckets, state machines). */
  readonly environment: Record<string, string>;
  /** @default { kind: 'iam' } (SigV4-signed requests) */
  readonly authorization?: ApiAuthorization;
  /** @default Duration.seconds(29), API Gateway's integration limit */
  readonly timeout?: Duration;
}

/** The routes of DESIGN.md's HTTP API v1, as API Gateway route keys. */
export const API_ROUTES = [
  'POST /v1/queues/{queue}/messages',
  'POST /v1/queues/{queue}/receive',
  'POST /v1/queues/{queue}/ack',
  'POST /v1/queues/{queue}/nack',
  'POST /v1/queues/{queue}/extend',
  'GET /v1/queues/{queue}/stats',
  'GET /v1/queues/{queue}/dead-letters',
  'POST /v1/queues/{queue}/dead-letters/redrive',
  'PUT /v1/queues/{queue}',
  'GET /v1/queues',
  'GET /v1/queues/{queue}/messages',
  'GET /v1/queues/{queue}/dead-letters/{messageId}',
  'DELETE /v1/queues/{queue}/dead-letters/{messageId}',
  'POST /v1/queues/{queue}/dead-letters/{messageId}/redrive',
  'GET /v1/transactions',
  'GET /v1/transactions/{id}/timeline',
  'POST /v1/transactions/{id}/retry',
  'POST /v1/accounts',
  'GET /v1/accounts/{bank}/{id}',
  'POST /v1/transfers',
  'GET /v1/transfers/{id}',
  'GET /v1/transactions/{id}',
  'GET /v1/openapi.json',
] as const;

/**
 * The operators' console (functions/api/console-route.ts): a page, its script and its style,
 * routed without the authorizer because a browser fetching a page can neither sign SigV4 nor attach
 * a bearer token. They hold no data; every call the page makes goes to /v1 and is authorized as
 * any other (for IAM, through `concord console --api URL`, which signs; for JWT, with the token).
 */
export const CONSOLE_ROUTES = ['GET /console', 'GET /console/{file+}'] as const;

/**
 * The HTTP API: API Gateway HTTP API (payload 2.0) in front of one Lambda running the Hono app
 * (functions/api). Every documented route is declared (per-route metrics and authorization);
 * `$default` sends anything else to the app too, so unknown paths get its JSON 404/405.
 */
export class ConcordApi extends Construct {
  public readonly function: ConcordFunction;
  public readonly httpApi: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: ConcordApiProps) {
    super(scope, id);
    this.function = new ConcordFunction(this, 'Handler', {
      handler: 'api',
      description: 'Concord HTTP API',
      timeout: props.timeout ?? Duration.seconds(29),
      memorySize: 512,
      environment: props.environment,
    });
    const authorization = props.authorization ?? { kind: 'iam' };
    const authorizer =
      authorization.kind === 'iam'
        ? new HttpIamAuthorizer()
        : authorization.kind === 'jwt'
          ? new HttpJwtAuthorizer('Jwt', authorization.issuer, { jwtAudience: [...authorization.audience] })
          : undefined;
    const integration = new HttpLambdaIntegration('App', this.function);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Concord HTTP API v1',
      defaultIntegration: integration,
      ...(authorizer ? { defaultAuthorizer: authorizer } : {}),
      createDefaultStage: false,
    });
    new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1_000 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    for (const route of API_ROUTES) {
      const [method, path] = route.split(' ') as [keyof typeof apigw.HttpMethod, string];
      this.httpApi.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration });
    }
    for (const route of CONSOLE_ROUTES) {
      const [, path] = route.split(' ') as [string, string];
      this.httpApi.addRoutes({ path, methods: [apigw.HttpMethod.GET], integration, authorizer: new apigw.HttpNoneAuthorizer() });
    }
    new CfnOutput(this, 'ApiId', { value: this.httpApi.apiId });
    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.apiEndpoint });
  }
}
