/**
 * The process environment, read once per cold start by every Lambda entry point. A missing or
 * malformed variable stops the Lambda at init with a message naming it (and the field inside a
 * JSON value), instead of failing the first request or message that needs it.
 */
import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';

const notSet = (issue: { input?: unknown }) => (issue.input === undefined ? 'is not set' : undefined);

/** A variable that must be set and non-empty. */
export const required = z.string({ error: (issue) => notSet(issue) ?? 'must be a string' }).min(1, 'is empty');

/** A variable that may be left out; an empty value counts as unset. */
export const optional = z
  .string()
  .optional()
  .transform((value) => value || undefined);

/** An optional whole number of seconds, at least 1. */
export const optionalSeconds = optional.pipe(
  z.coerce.number<string | undefined>().int('must be a whole number of seconds').min(1, 'must be at least 1').optional(),
);

/** A comma-separated list of at least one non-empty name. */
export const list = required
  .transform((text) => text.split(',').map((name) => name.trim()))
  .pipe(z.array(z.string().min(1, 'has an empty name')));

/** A variable holding JSON, validated by `schema` (its fields named as `VARIABLE.field`). */
export const json = <S extends z.ZodType>(schema: S) =>
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

/** Any missing field of a nested object is reported as "is not set". */
export const object = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { error: notSet });

export function readEnv<T extends z.ZodRawShape>(
  shape: T,
  env: Readonly<Record<string, string | undefined>> = process.env,
): z.output<z.ZodObject<T>> {
  try {
    return parseInput(z.object(shape), env);
  } catch (error) {
    if (error instanceof ValidationError) throw new Error(`environment variable ${error.message}`);
    throw error;
  }
}
