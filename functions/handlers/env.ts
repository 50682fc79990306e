/** Environment variables, read once per cold start, validated with the variable named on failure. */
import { z } from 'zod';

export function readEnv<T extends z.ZodRawShape>(shape: T): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(process.env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`environment variable ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** A JSON-valued environment variable. */
export const jsonEnv = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return schema.parse(JSON.parse(text)) as z.infer<T>;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not valid JSON of the expected shape (${(error as Error).message})` });
      return z.NEVER;
    }
  });
