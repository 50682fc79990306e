import { describe, expect, it } from 'vitest';
import type { AttrMap } from '../../../functions/core/cost.js';
import { applyUpdateExpression } from '../../../functions/core/update-image.js';

/**
 * applyUpdateExpression as a specification: the after-image UpdateItem would leave, for the
 * subset of UpdateExpression the cost meter models (update-image.ts's doc comment). Every case
 * compares the whole image.
 */
const before: AttrMap = { pk: { S: 'p' }, n: { N: '10' }, s: { S: 'old' }, tags: { SS: ['a', 'b'] }, nums: { NS: ['1', '2'] } };

describe('applyUpdateExpression: the image it starts from', () => {
  it('starts from an empty item when there is no image before, and never changes the image it was given', () => {
    expect(applyUpdateExpression(undefined, 'SET a = :a', {}, { ':a': { S: 'x' } })).toEqual({ a: { S: 'x' } });
    const copy = structuredClone(before);
    applyUpdateExpression(
      before,
      'SET n = :v REMOVE s ADD tags :t DELETE nums :d',
      {},
      {
        ':v': { N: '1' },
        ':t': { SS: ['c'] },
        ':d': { NS: ['1'] },
      },
    );
    expect(before).toEqual(copy);
  });

  it('returns the image unchanged for an expression with no clause, and without names or values given', () => {
    expect(applyUpdateExpression(before, '')).toEqual(before);
    expect(applyUpdateExpression(before, 'REMOVE s')).toEqual({ pk: before.pk, n: before.n, tags: before.tags, nums: before.nums });
  });
});

describe('applyUpdateExpression: SET', () => {
  it('sets attributes to values, to placeholders, and to other attributes', () => {
    expect(applyUpdateExpression(before, 'SET #a = :a, b = s, c = #n', { '#a': 'alias', '#n': 'n' }, { ':a': { BOOL: true } })).toEqual({
      ...before,
      alias: { BOOL: true },
      b: { S: 'old' },
      c: { N: '10' },
    });
  });

  it('leaves an attribute as it was when the path is nested, the placeholder or value is not given, or the source is missing', () => {
    expect(
      applyUpdateExpression(before, 'SET s.inner = :a, n[0] = :a, #missing = :a, pk = :missing, n = absent', {}, { ':a': { S: 'x' } }),
    ).toEqual(before);
  });

  it('adds and subtracts numbers, from values and from attributes', () => {
    expect(
      applyUpdateExpression(before, 'SET a = n + :two, b = n - :two, c = :two - n, d = :two + :two', {}, { ':two': { N: '2' } }),
    ).toEqual({ ...before, a: { N: '12' }, b: { N: '8' }, c: { N: '-8' }, d: { N: '4' } });
  });

  it('keeps the operand that is a number (or exists) when the other is not', () => {
    const values = { ':one': { N: '1' }, ':s': { S: 'x' } };
    expect(applyUpdateExpression(before, 'SET a = absent + :one, b = n - absent, c = s + :one, d = :one + s', {}, values)).toEqual({
      ...before,
      a: { N: '1' },
      b: { N: '10' },
      c: { S: 'old' },
      d: { N: '1' },
    });
    expect(applyUpdateExpression(before, 'SET a = absent + nothing', {}, values)).toEqual(before);
  });

  it('if_not_exists keeps an existing attribute and otherwise takes its operand, in any letter case and spacing', () => {
    const values = { ':zero': { N: '0' } };
    expect(
      applyUpdateExpression(
        before,
        'SET n = if_not_exists(n, :zero), m = IF_NOT_EXISTS (m, :zero), o = if_not_exists(s.x, :zero)',
        {},
        values,
      ),
    ).toEqual({ ...before, m: { N: '0' }, o: { N: '0' } });
    expect(applyUpdateExpression(before, 'SET n = if_not_exists(n)', {}, {})).toEqual(before);
    expect(applyUpdateExpression(before, 'SET m = if_not_exists()', {}, {})).toEqual(before);
  });

  it('adds to the result of if_not_exists (a counter that may not exist yet)', () => {
    const values = { ':zero': { N: '0' }, ':one': { N: '1' } };
    expect(applyUpdateExpression(before, 'SET n = if_not_exists(n, :zero) + :one, c = if_not_exists(c, :zero) + :one', {}, values)).toEqual(
      {
        ...before,
        n: { N: '11' },
        c: { N: '1' },
      },
    );
  });

  it('list_append joins two lists, a missing one counting as empty; commas inside its parentheses do not end the action', () => {
    const values = { ':more': { L: [{ S: 'b' }] }, ':x': { S: 'x' } };
    const image: AttrMap = { l: { L: [{ S: 'a' }] } };
    expect(applyUpdateExpression(image, 'SET l = list_append(l, :more), z = :x', {}, values)).toEqual({
      l: { L: [{ S: 'a' }, { S: 'b' }] },
      z: { S: 'x' },
    });
    expect(applyUpdateExpression(image, 'SET l = List_Append(:more, l)', {}, values)).toEqual({ l: { L: [{ S: 'b' }, { S: 'a' }] } });
    expect(applyUpdateExpression(image, 'SET k = list_append(absent, :more), j = list_append(:more, absent)', {}, values)).toEqual({
      ...image,
      k: { L: [{ S: 'b' }] },
      j: { L: [{ S: 'b' }] },
    });
  });

  it('throws on a function it does not model, naming it, and on an action without "="', () => {
    expect(() => applyUpdateExpression(before, 'SET v = size(s)')).toThrow(new Error('unsupported function in UpdateExpression: size'));
    expect(() => applyUpdateExpression(before, 'SET v :a')).toThrow(new Error("SET action without '=': v :a"));
  });
});

describe('applyUpdateExpression: REMOVE, ADD, DELETE and clauses together', () => {
  it('REMOVE deletes top-level attributes by name or placeholder and leaves nested paths and unknown placeholders alone', () => {
    expect(applyUpdateExpression(before, 'REMOVE s, #t, n.x, nums[0], #unknown', { '#t': 'tags' })).toEqual({
      pk: before.pk,
      n: before.n,
      nums: before.nums,
    });
  });

  it('ADD adds to numbers (a missing one counting as 0) and joins sets without duplicates', () => {
    const b1 = new Uint8Array([1]);
    const b2 = new Uint8Array([2]);
    expect(
      applyUpdateExpression(
        { ...before, bin: { BS: [b1] } },
        'ADD n :five, #c :five, tags :tags, nums :nums, fresh :tags, freshNums :nums, bin :bin, freshBin :bin',
        { '#c': 'count' },
        { ':five': { N: '5' }, ':tags': { SS: ['b', 'c'] }, ':nums': { NS: ['2', '3'] }, ':bin': { BS: [b2] } },
      ),
    ).toEqual({
      ...before,
      n: { N: '15' },
      count: { N: '5' },
      tags: { SS: ['a', 'b', 'c'] },
      nums: { NS: ['1', '2', '3'] },
      fresh: { SS: ['b', 'c'] },
      freshNums: { NS: ['2', '3'] },
      bin: { BS: [b1, b2] },
      freshBin: { BS: [b2] },
    });
  });

  it('ADD skips an action whose path is nested or whose value is missing, and throws on a value that is not a number or set', () => {
    expect(applyUpdateExpression(before, 'ADD n.x :five, n :missing, n', {}, { ':five': { N: '5' } })).toEqual(before);
    expect(() => applyUpdateExpression(before, 'ADD s :s', {}, { ':s': { S: 'x' } })).toThrow(
      new Error('ADD supports numbers and sets only'),
    );
  });

  it('DELETE removes elements from string and number sets', () => {
    expect(
      applyUpdateExpression(
        before,
        'DELETE tags :tags, #nums :nums',
        { '#nums': 'nums' },
        { ':tags': { SS: ['a', 'z'] }, ':nums': { NS: ['2'] } },
      ),
    ).toEqual({ ...before, tags: { SS: ['b'] }, nums: { NS: ['1'] } });
  });

  it('DELETE leaves an attribute as it was when it is not a set of the operand type, and skips a missing value', () => {
    expect(
      applyUpdateExpression(
        before,
        'DELETE tags :nums, nums :tags, s :tags, n :missing',
        {},
        { ':tags': { SS: ['a'] }, ':nums': { NS: ['1'] } },
      ),
    ).toEqual(before);
  });

  it('DELETE from an attribute that does not exist leaves it absent, and a set emptied by DELETE is removed (DynamoDB has no empty sets)', () => {
    expect(
      applyUpdateExpression(
        before,
        'DELETE absent :tags, tags :tags, nums :nums',
        {},
        { ':tags': { SS: ['a', 'b'] }, ':nums': { NS: ['1', '2'] } },
      ),
    ).toStrictEqual({
      pk: before.pk,
      n: before.n,
      s: before.s,
    });
  });

  it('a keyword inside a placeholder name starts no clause', () => {
    expect(
      applyUpdateExpression(
        before,
        'SET #set = :add, #remove = :delete ADD n :set',
        { '#set': 'set', '#remove': 'remove' },
        {
          ':add': { S: 'a' },
          ':delete': { S: 'd' },
          ':set': { N: '1' },
        },
      ),
    ).toEqual({ ...before, set: { S: 'a' }, remove: { S: 'd' }, n: { N: '11' } });
  });

  it('applies several clauses in any order and letter case, with free spacing', () => {
    expect(
      applyUpdateExpression(
        before,
        'remove   s   add n   :one   SET a = :one ,  b = pk   delete tags :t',
        {},
        { ':one': { N: '1' }, ':t': { SS: ['a'] } },
      ),
    ).toEqual({ pk: before.pk, n: { N: '11' }, tags: { SS: ['b'] }, nums: before.nums, a: { N: '1' }, b: before.pk });
  });
});
