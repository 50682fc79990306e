import type { AttrMap, AttrValue } from './cost.js';

/**
 * Applies a DynamoDB UpdateExpression to a known item image, as far as billing needs: UpdateItem is
 * billed on the larger of the item before and after the update, so the cost meter must know the
 * after-image without asking the table for it.
 *
 * Supported: SET with `path = operand`, `operand + operand`, `operand - operand`,
 * `if_not_exists(path, operand)` and `list_append(a, b)`; REMOVE; ADD (numbers and sets); DELETE
 * (sets). Paths are top-level attribute names or #placeholders; a nested path leaves that top-level
 * attribute as it was (its size then is an estimate). Unknown syntax throws, so a gap is seen.
 */
export function applyUpdateExpression(
  before: AttrMap | undefined,
  expression: string,
  names: Readonly<Record<string, string>> = {},
  values: Readonly<Record<string, AttrValue>> = {},
): AttrMap {
  const item: Record<string, AttrValue> = { ...(before ?? {}) };
  for (const [keyword, body] of splitClauses(expression)) {
    for (const action of splitTopLevel(body, ',')) {
      const text = action.trim();
      if (keyword === 'SET') {
        const eq = text.indexOf('=');
        if (eq < 0) throw new Error(`SET action without '=': ${text}`);
        const path = resolvePath(text.slice(0, eq).trim(), names);
        const value = evaluate(text.slice(eq + 1).trim(), item, names, values);
        if (path !== undefined && value !== undefined) item[path] = value;
      } else if (keyword === 'REMOVE') {
        const path = resolvePath(text, names);
        if (path !== undefined) delete item[path];
      } else {
        const [pathText, operandText] = text.split(/\s+/, 2);
        const path = resolvePath(pathText ?? '', names);
        const operand = operandText ? values[operandText] : undefined;
        if (path === undefined || operand === undefined) continue;
        const next = keyword === 'ADD' ? add(item[path], operand) : removeFromSet(item[path], operand);
        if (next === undefined) delete item[path];
        else item[path] = next;
      }
    }
  }
  return item;
}

function splitClauses(expression: string): Array<[string, string]> {
  const clauses: Array<[string, string]> = [];
  // A keyword inside a placeholder (#set, :delete) starts no clause; as a plain name it is a
  // reserved word, which DynamoDB only accepts behind a placeholder.
  const re = /(?<![#:])\b(SET|REMOVE|ADD|DELETE)\b/gi;
  const marks: Array<{ keyword: string; start: number; end: number }> = [];
  for (let m = re.exec(expression); m; m = re.exec(expression)) {
    marks.push({ keyword: (m[1] as string).toUpperCase(), start: m.index, end: m.index + m[0].length });
  }
  marks.forEach((mark, i) => {
    clauses.push([mark.keyword, expression.slice(mark.end, marks[i + 1]?.start ?? expression.length)]);
  });
  return clauses;
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim().length > 0);
}

/** Top-level attribute name, or undefined for nested paths (a.b, a[0]). */
function resolvePath(text: string, names: Readonly<Record<string, string>>): string | undefined {
  const trimmed = text.trim();
  if (/[.[]/.test(trimmed)) return undefined;
  return trimmed.startsWith('#') ? names[trimmed] : trimmed;
}

function evaluate(
  text: string,
  item: AttrMap,
  names: Readonly<Record<string, string>>,
  values: Readonly<Record<string, AttrValue>>,
): AttrValue | undefined {
  const plusMinus = splitTopLevel(text, '+').length > 1 ? '+' : splitTopLevel(text, '-').length > 1 ? '-' : undefined;
  if (plusMinus) {
    const [left, right] = splitTopLevel(text, plusMinus).map((t) => evaluate(t.trim(), item, names, values));
    if (left?.N === undefined || right?.N === undefined) return left ?? right;
    const result = plusMinus === '+' ? Number(left.N) + Number(right.N) : Number(left.N) - Number(right.N);
    return { N: String(result) };
  }
  const call = /^(\w+)\s*\((.*)\)$/s.exec(text);
  if (call) {
    const fn = (call[1] as string).toLowerCase();
    const args = splitTopLevel(call[2] as string, ',').map((a) => a.trim());
    if (fn === 'if_not_exists') {
      const path = resolvePath(args[0] ?? '', names);
      const existing = path === undefined ? undefined : item[path];
      return existing ?? evaluate(args[1] ?? '', item, names, values);
    }
    if (fn === 'list_append') {
      const [a, b] = args.map((a) => evaluate(a, item, names, values));
      return { L: [...(a?.L ?? []), ...(b?.L ?? [])] };
    }
    throw new Error(`unsupported function in UpdateExpression: ${fn}`);
  }
  if (text.startsWith(':')) return values[text];
  const path = resolvePath(text, names);
  return path === undefined ? undefined : item[path];
}

function add(current: AttrValue | undefined, operand: AttrValue): AttrValue {
  if (operand.N !== undefined) return { N: String(Number(current?.N ?? '0') + Number(operand.N)) };
  if (operand.SS) return { SS: [...new Set([...(current?.SS ?? []), ...operand.SS])] };
  if (operand.NS) return { NS: [...new Set([...(current?.NS ?? []), ...operand.NS])] };
  if (operand.BS) return { BS: [...(current?.BS ?? []), ...operand.BS] };
  throw new Error('ADD supports numbers and sets only');
}

/**
 * DELETE from a set: a missing attribute stays missing, and a set left empty is removed
 * (DynamoDB has no empty sets). Any other pairing leaves the attribute as it was.
 */
function removeFromSet(current: AttrValue | undefined, operand: AttrValue): AttrValue | undefined {
  if (current?.SS && operand.SS)
    return nonEmptySet(
      'SS',
      current.SS.filter((s) => !operand.SS?.includes(s)),
    );
  if (current?.NS && operand.NS)
    return nonEmptySet(
      'NS',
      current.NS.filter((s) => !operand.NS?.includes(s)),
    );
  return current;
}

function nonEmptySet(type: 'SS' | 'NS', elements: string[]): AttrValue | undefined {
  return elements.length > 0 ? { [type]: elements } : undefined;
}
