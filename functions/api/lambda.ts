/**
 * The API on AWS: API Gateway HTTP API (payload format 2.0) -> this Lambda. Configuration and
 * clients are built once, at cold start, and shared by every invocation of the container.
 *
 * Give the function a timeout above the longest route: a receive long-polls up to 20 s and a
 * redrive of 1 000 at the default rate takes 20 s (API Gateway's own limit is 30 s).
 */
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { loadConsoleAssets } from '../console/assets.js';
import { createApp } from './app.js';
import { loadApiConfig } from './config.js';
import { buildApiDeps } from './deps.js';
import { passableMethod } from './methods.js';

const logger = new Logger({ serviceName: 'concord-api' });
// The build puts the console's files beside this bundle (dist/handlers/api/console/).
const consoleAssets = loadConsoleAssets(join(__dirname, 'console'));
const app = createApp({ ...buildApiDeps(loadApiConfig()), logger, ...(consoleAssets ? { consoleAssets } : {}) });

const serve = handle(app);

/** A method fetch refuses (TRACE, CONNECT, TRACK) reaches the app as `X-<method>` and gets its 405. */
export const handler: typeof serve = (event, context) => {
  // API Gateway HTTP API, payload format 2.0 (ConcordApi): the method is in requestContext.http.
  const v2 = event as unknown as APIGatewayProxyEventV2;
  const method = v2.requestContext?.http?.method;
  if (method) {
    v2.requestContext.http.method = passableMethod(method, (name, value) => {
      v2.headers = { ...v2.headers, [name]: value };
    });
  }
  return serve(event, context);
};
