/**
 * One way to turn a zod failure into a ValidationError, for the library's inputs, the HTTP edge
 * and the environment alike: the first offending field, dotted and prefixed, with the rule it broke
 * and the value found there.
 */
import type { z } from 'zod';
import { quote, ValidationError } from './errors.js';

/**
 * Parses `value` with `schema` or throws a ValidationError naming the first offending field,
 * dotted and prefixed with `prefix`, and quoting the value it found there. An unknown field is
 * named itself (zod reports it at its parent).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ValidationError(prefix || '(body)', 'invalid');
  const path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0] ?? '');
    message = 'unknown field';
  } else {
    const found = valueAt(value, issue.path);
    if (found !== undefined) message += `, got ${quote(found)}`;
  }
  throw new ValidationError([prefix, ...path].filter(Boolean).join('.') || '(body)', message);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * zod types a left-out optional field as `field?: T | undefined`; the library's option bags are
 * declared under exactOptionalPropertyTypes as `field?: T`. This drops the undefined ones.
 */
export type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };
export function withoutUndefined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}
