/**
 * The API's environment, read once at cold start. A missing or malformed variable stops the
 * Lambda at init with a message naming it, instead of failing the first request that needs it.
 */
import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { parseInput } from './request';

const notSet = (issue: { input?: unknown }) => (issue.input === undefined ? 'is not set' : undefined);
const required = z.string({ error: (issue) => notSet(issue) ?? 'must be a string' }).min(1, 'is empty');

/** A variable holding JSON, validated by `schema` (its fields named as `VARIABLE.field`). */
const json = <S extends z.ZodType>(schema: S) =>
  required
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const bankEnv = z.object({ table: required, queueUrl: z.url({ error: notSet }) }, { error: notSet });

const envSchema = z.object({
  CONCORD_QUEUE_TABLE: required,
  /** Optional: without it, bodies over the DynamoDB item budget are refused (413). An empty value counts as unset. */
  CONCORD_CLAIM_CHECK_BUCKET: z
    .string()
    .optional()
    .transform((bucket) => bucket || undefined),
  CONCORD_COORDINATOR_TABLE: required,
  /** State machine ARNs by transaction type (transferDefinition(mode).name). */
  CONCORD_STATE_MACHINES: json(z.object({ 'transfer-2pc': required, 'transfer-saga': required })),
  CONCORD_BANKS: json(z.object({ 'bank-a': bankEnv, 'bank-b': bankEnv })),
  /** Optional: the queue that receives "account opened" events through the transactional outbox. */
  CONCORD_OUTBOX_QUEUE: z
    .string()
    .optional()
    .transform((queue) => queue || undefined),
});

export type ApiConfig = z.output<typeof envSchema>;

export function loadApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): ApiConfig {
  try {
    return parseInput(envSchema, env);
  } catch (error) {
    if (error instanceof ValidationError) throw new Error(`Concord API configuration: environment variable ${error.message}`);
    throw error;
  }
}
