/**
 * A small evaluator of the DynamoDB expression subset Concord's renderers write
 * (adapters/dynamodb/expressions.ts): conditions made of attribute_exists / attribute_not_exists,
 * comparisons (= <> < <= > >=) between an attribute and a placeholder, AND and parentheses; and
 * updates made of SET a = :v, ... and REMOVE a, .... It follows DynamoDB's documented rules: a
 * comparison with a missing attribute is false, numbers compare as numbers, strings as strings.
 * Unit tests use it to check a rendered expression against the core's guardHolds / applyEffect
 * without an emulator (test/integration/guards.test.ts checks DynamoDB itself).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Values = Record<string, AttributeValue> | undefined;

const TOKEN = /\s*(attribute_not_exists|attribute_exists|AND|<=|>=|<>|[()<>=,]|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match) {
      if (expression.slice(at).trim() === '') break;
      throw new Error(`cannot read ${JSON.stringify(expression.slice(at))}`);
    }
    tokens.push(match[1] as string);
  }
  return tokens;
}

function scalar(value: AttributeValue | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  if (value.N !== undefined) return Number(value.N);
  if (value.S !== undefined) return value.S;
  throw new Error(`unsupported attribute value ${JSON.stringify(value)}`);
}

/** Whether `condition` holds for `item` (undefined: no item at the key). */
export function conditionHolds(condition: string, values: Values, item: Item | undefined): boolean {
  const tokens = tokenize(condition);
  let i = 0;
  const next = () => {
    const token = tokens[i++];
    if (token === undefined) throw new Error(`unexpected end of ${condition}`);
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new Error(`expected ${token}, got ${got} in ${condition}`);
  };
  const operand = (token: string) => (token.startsWith(':') ? values?.[token] : item?.[token]);
  const term = (): boolean => {
    const token = next();
    if (token === '(') {
      const inner = conjunction();
      expect(')');
      return inner;
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      expect('(');
      const name = next();
      expect(')');
      const exists = item?.[name] !== undefined;
      return token === 'attribute_exists' ? exists : !exists;
    }
    if (token.startsWith(':') && values?.[token] === undefined) throw new Error(`no value for ${token}`);
    const left = scalar(operand(token));
    const op = next();
    const rightToken = next();
    if (rightToken.startsWith(':') && values?.[rightToken] === undefined) throw new Error(`no value for ${rightToken}`);
    const right = scalar(operand(rightToken));
    if (left === undefined || right === undefined || typeof left !== typeof right) return false;
    switch (op) {
      case '=':
        return left === right;
      case '<>':
        return left !== right;
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      case '>':
        return left > right;
      case '>=':
        return left >= right;
      default:
        throw new Error(`unknown operator ${op} in ${condition}`);
    }
  };
  const conjunction = (): boolean => {
    let holds = term();
    while (tokens[i] === 'AND') {
      i++;
      // Evaluate every term (no short circuit), so that a malformed one always throws.
      holds = term() && holds;
    }
    return holds;
  };
  const result = conjunction();
  if (i !== tokens.length) throw new Error(`unread input in ${condition}: ${tokens.slice(i).join(' ')}`);
  return result;
}

/** The item after `update` (SET a = :v, ... REMOVE b, ...). */
export function applyUpdate(update: string, values: Values, item: Item | undefined): Item {
  const next: Item = { ...item };
  const clauses = update
    .trim()
    .split(/\s*\b(SET|REMOVE)\b\s*/)
    .filter(Boolean);
  if (clauses.length === 0 || clauses.length % 2 !== 0) throw new Error(`cannot read update ${JSON.stringify(update)}`);
  for (let c = 0; c < clauses.length; c += 2) {
    const [action, body] = [clauses[c], clauses[c + 1] as string];
    for (const part of body.split(',').map((p) => p.trim())) {
      if (action === 'SET') {
        const [name, placeholder] = part.split(/\s*=\s*/) as [string, string];
        const value = values?.[placeholder];
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value === undefined) throw new Error(`cannot read SET ${part}`);
        next[name] = value;
      } else if (action === 'REMOVE' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
        delete next[part];
      } else {
        throw new Error(`cannot read ${action} ${part}`);
      }
    }
  }
  return next;
}
