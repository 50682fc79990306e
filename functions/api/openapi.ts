/**
 * The OpenAPI 3.1 document, generated from the route declarations: the schemas listed here are the
 * objects the app validates with (request side: `io: 'input'`, so defaults show as defaults).
 */
import { z } from 'zod';
import { ErrorCode, ErrorStatus, errorBodySchema } from './errors.js';
import { MAX_REQUEST_BODY_BYTES } from './request.js';
import type { AnyRoute } from './route.js';

export type JsonSchema = Record<string, unknown>;

export type OpenApiDocument = {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly tags: ReadonlyArray<{ readonly name: string }>;
  readonly paths: Record<string, Record<string, JsonSchema>>;
  readonly components: { readonly schemas: Record<string, JsonSchema> };
};

/** Error responses every route can give, whatever it declares. */
const ALWAYS: readonly ErrorCode[] = [ErrorCode.Validation, ErrorCode.Throttled, ErrorCode.Internal, ErrorCode.Unavailable];
const WITH_BODY: readonly ErrorCode[] = [ErrorCode.PayloadTooLarge, ErrorCode.UnsupportedMediaType];

const ERROR_REF = { $ref: '#/components/schemas/Error' };

const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  [ErrorCode.Validation]: 'ValidationError: a path, query, header or body field is invalid; `field` names it',
  [ErrorCode.NotFound]: 'NotFound: no such id',
  [ErrorCode.MethodNotAllowed]:
    "MethodNotAllowed: the path, once decoded, is another route's (a path parameter holding `/`, `#` or `?`); `Allow` names its methods",
  [ErrorCode.Conflict]: 'Conflict: the request contradicts the current state (e.g. changing `fifo` of an existing queue)',
  [ErrorCode.LeaseLost]: 'LeaseLost: the receipt is not the current lease (expired, superseded, released, gone or forged)',
  [ErrorCode.PayloadTooLarge]: `PayloadTooLarge: the request body is over ${MAX_REQUEST_BODY_BYTES} bytes, or a message body over what the queue can store`,
  [ErrorCode.UnsupportedMediaType]: 'UnsupportedMediaType: a request body must be application/json',
  [ErrorCode.Throttled]: 'Throttled: AWS throttled a request; retry after `Retry-After` seconds with backoff',
  [ErrorCode.Internal]: 'InternalError: a bug; the message carries a reference to the logged details',
  [ErrorCode.Unavailable]:
    'Unavailable: an AWS service failed; retry after `Retry-After` seconds with backoff (a message send is safe to repeat only with an Idempotency-Key: the message says whether it may have been stored)',
};

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as JsonSchema;
  return rest;
}

export function openApiDocument(routes: readonly AnyRoute[]): OpenApiDocument {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const operations = paths[route.path] ?? {};
    operations[route.method] = operation(route);
    paths[route.path] = operations;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Concord',
      version: '1',
      description: [
        'A fenced DynamoDB queue and a 2PC/saga coordinator (DESIGN.md "HTTP API (v1)").',
        'Errors are `{"error":{"code","message"}}`; a ValidationError names the offending field.',
        `Request bodies are JSON (415 otherwise), at most ${MAX_REQUEST_BODY_BYTES} bytes (413).`,
        'A known path called with another method answers 405 with an `Allow` header.',
      ].join(' '),
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { schemas: { Error: jsonSchema(errorBodySchema, 'output') } },
  };
}

function operation(route: AnyRoute): JsonSchema {
  const parameters = [
    ...parametersOf('path', route.params),
    ...parametersOf('query', route.query),
    ...parametersOf('header', route.headers),
  ];
  // A path parameter that decodes to '/', '#' or '?' makes the path another route's (405, with Allow).
  const errors = new Set([
    ...ALWAYS,
    ...(route.body ? WITH_BODY : []),
    ...(route.params ? [ErrorCode.MethodNotAllowed] : []),
    ...route.errors,
  ]);
  const responses: Record<string, JsonSchema> = {
    [route.success.status]: {
      description: route.success.description,
      ...(route.success.status === 204 ? {} : { content: { 'application/json': { schema: jsonSchema(route.success.schema, 'output') } } }),
    },
  };
  const rules = route.rules ?? [];
  for (const status of [...new Set([...errors].map((code) => ErrorStatus[code]))].sort((a, b) => a - b)) {
    const codes = [...errors].filter((code) => ErrorStatus[code] === status);
    const described = codes.map((code) => ERROR_DESCRIPTIONS[code]).join('; or ');
    responses[status] = {
      description: status === 400 && rules.length > 0 ? `${described}; also when: ${rules.join('; ')}` : described,
      ...(status === 429 || status === 503 ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } } : {}),
      content: { 'application/json': { schema: ERROR_REF } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(rules.length > 0
      ? { description: `Rules beyond the schema (400, naming the field):\n${rules.map((rule) => `- ${rule}`).join('\n')}` }
      : {}),
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            // A body whose fields are all optional may be left out (read as `{}`).
            required: !route.body.safeParse({}).success,
            content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

function parametersOf(where: 'path' | 'query' | 'header', schema: z.ZodType | undefined): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}
