/**
 * Just enough JSON Schema (2020-12) to check the OpenAPI document against the app: a validator for
 * the keywords zod's toJSONSchema emits, which refuses any keyword it does not know (so a schema it
 * cannot judge fails the test instead of passing it), and a generator of valid instances.
 */
export type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['description', 'default', 'format', 'title', 'examples']);
const ASSERTIONS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'anyOf',
]);

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;

/** The first reason `value` does not match `schema`, or undefined when it matches. */
export function violation(schema: Schema, value: unknown, at = '$'): string | undefined {
  for (const key of Object.keys(schema)) {
    if (!ANNOTATIONS.has(key) && !ASSERTIONS.has(key)) throw new Error(`json-schema.ts does not know the keyword ${key} (at ${at})`);
  }
  if (schema.anyOf) {
    const branches = schema.anyOf as Schema[];
    if (branches.every((branch) => violation(branch, value, at) !== undefined)) return `${at}: matches no anyOf branch`;
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const actual = typeOf(value);
    if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer')))
      return `${at}: expected ${types.join('|')}, got ${actual}`;
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) return `${at}: not one of the enum`;
  if ('const' in schema && schema.const !== value) return `${at}: not the const`;
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) return `${at}: below minimum`;
    if (typeof schema.maximum === 'number' && value > schema.maximum) return `${at}: above maximum`;
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) return `${at}: not above exclusiveMinimum`;
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) return `${at}: not below exclusiveMaximum`;
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) return `${at}: shorter than minLength`;
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) return `${at}: longer than maxLength`;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) return `${at}: does not match the pattern`;
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries()) {
      const problem = violation(schema.items as Schema, item, `${at}[${i}]`);
      if (problem) return problem;
    }
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) if (!(name in object)) return `${at}.${name}: required`;
    for (const [name, property] of Object.entries(object)) {
      const propertySchema = properties[name];
      if (propertySchema) {
        const problem = violation(propertySchema, property, `${at}.${name}`);
        if (problem) return problem;
      } else if (schema.additionalProperties === false) return `${at}.${name}: additional property`;
    }
  }
  return undefined;
}

/** Strings tried, in order, for a string schema with a pattern. */
const STRING_CANDIDATES = ['acct-1', 'A', 'x_Y-9', 'order-42', 'z'.repeat(64), 'b'.repeat(80)];

export type Variant = 'minimal' | 'full';

/** A value valid against `schema`: only required properties (`minimal`) or all of them (`full`), numbers at the bounds. */
export function sample(schema: Schema, variant: Variant): unknown {
  if (schema.anyOf) return sample((schema.anyOf as Schema[])[0] as Schema, variant);
  if ('const' in schema) return schema.const;
  if (schema.enum) {
    const options = schema.enum as unknown[];
    return variant === 'minimal' ? options[0] : options[options.length - 1];
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined);
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const entries = Object.entries(properties).filter(([name]) => variant === 'full' || required.has(name));
      return Object.fromEntries(entries.map(([name, property]) => [name, sample(property, variant)]));
    }
    case 'array':
      return variant === 'minimal' ? [] : [sample(schema.items as Schema, variant)];
    case 'integer':
    case 'number': {
      const low =
        typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 0;
      const high = typeof schema.maximum === 'number' && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : low + 100;
      return variant === 'minimal' ? low : high;
    }
    case 'boolean':
      return variant === 'full';
    case 'string': {
      const fits = (s: string) => violation(schema, s) === undefined;
      const found = STRING_CANDIDATES.find(fits) ?? 'x'.repeat(typeof schema.minLength === 'number' ? schema.minLength : 1);
      if (!fits(found)) throw new Error(`no sample string for ${JSON.stringify(schema)}`);
      return found;
    }
    case 'null':
      return null;
    default:
      return {};
  }
}

/** Values that break or probe each property of an object schema, one property at a time. */
export function mutations(schema: Schema, base: Record<string, unknown>): Array<{ label: string; value: Record<string, unknown> }> {
  const probes: unknown[] = [null, 'text', 'has space', '', 12.5, -1, 0, 1, 1e9, true, {}, [], 'x'.repeat(200)];
  const out: Array<{ label: string; value: Record<string, unknown> }> = [{ label: 'unknown field', value: { ...base, unknownField: 1 } }];
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const { [name]: _left, ...without } = base;
    out.push({ label: `${name} left out`, value: without });
    for (const probe of probes) out.push({ label: `${name} = ${JSON.stringify(probe)}`, value: { ...base, [name]: probe } });
    if (typeOf(base[name]) === 'object') {
      for (const m of mutations(property, base[name] as Record<string, unknown>)) {
        out.push({ label: `${name}.${m.label}`, value: { ...base, [name]: m.value } });
      }
    }
  }
  return out;
}
