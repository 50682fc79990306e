import { describe, expect, it } from 'vitest';
import { itemSize, numberSize, readUnits, sqsBilledRequests, usdPerMillion, writeUnits } from '../../../functions/core/cost.js';
import { applyUpdateExpression } from '../../../functions/core/update-image.js';

describe('DynamoDB item size', () => {
  it('counts attribute names and values as AWS documents', () => {
    // name lengths 2+2+4 = 8; 'a#1' 3 bytes, 'x' 1 byte, 3 bytes binary; number 12345 -> 3 digits pairs + 1 = 4
    expect(itemSize({ pk: { S: 'a#1' }, sk: { S: 'x' }, data: { B: new Uint8Array(3) } })).toBe(8 + 3 + 1 + 3);
    expect(numberSize('12345')).toBe(4);
    expect(numberSize('1000000')).toBe(2); // trailing zeros trimmed
    expect(numberSize('-0.0015')).toBe(2);
    expect(itemSize({ ok: { BOOL: true }, n: { NULL: true } })).toBe(2 + 1 + 1 + 1);
    expect(itemSize({ l: { L: [{ S: 'ab' }, { N: '1' }] } })).toBe(1 + 3 + (2 + 1) + (2 + 1));
    expect(itemSize({ s: { S: 'é' } })).toBe(1 + 2);
  });
});

describe('capacity units', () => {
  it.each([
    [0, 1],
    [1, 1],
    [1024, 1],
    [1025, 2],
    [3 * 1024 + 1, 4],
  ])('a %i-byte write costs %i WRU', (bytes, units) => {
    expect(writeUnits(bytes)).toBe(units);
  });

  it('reads cost 1 RRU per 4 KB strongly, half eventually, with a minimum', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(0, false)).toBe(0.5);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(10_000, false)).toBe(1.5);
  });

  it('SQS bills each 64 KB chunk as a request', () => {
    expect(sqsBilledRequests(1)).toBe(1);
    expect(sqsBilledRequests(64 * 1024)).toBe(1);
    expect(sqsBilledRequests(64 * 1024 + 1)).toBe(2);
    expect(sqsBilledRequests(1024 * 1024)).toBe(16);
  });

  it('prices the reference design at ~$1.9 per million (DESIGN.md)', () => {
    expect(usdPerMillion({ writeUnits: 3, readUnits: 0, sqsRequests: 0, s3Puts: 0, s3Gets: 0 }, 1)).toBeCloseTo(1.875, 3);
    expect(usdPerMillion({ writeUnits: 0, readUnits: 0, sqsRequests: 3, s3Puts: 0, s3Gets: 0 }, 1)).toBeCloseTo(1.2, 3);
  });
});

describe('applyUpdateExpression', () => {
  const before = { pk: { S: 'p' }, sk: { S: 's' }, v: { N: '10' }, lt: { S: 'old' }, f: { N: '1' } };
  it('applies SET, ADD and REMOVE to a known image', () => {
    const after = applyUpdateExpression(
      before,
      'SET v = :v0, lt = :v1 ADD f :v2, rc :v3',
      {},
      {
        ':v0': { N: '99' },
        ':v1': { S: 'new-token' },
        ':v2': { N: '1' },
        ':v3': { N: '1' },
      },
    );
    expect(after).toEqual({ ...before, v: { N: '99' }, lt: { S: 'new-token' }, f: { N: '2' }, rc: { N: '1' } });
    expect(applyUpdateExpression(before, 'SET v = :a REMOVE lt', {}, { ':a': { N: '5' } })).toEqual({
      pk: before.pk,
      sk: before.sk,
      v: { N: '5' },
      f: before.f,
    });
  });

  it('handles placeholders, arithmetic, if_not_exists and list_append', () => {
    const after = applyUpdateExpression(
      { pk: { S: 'p' }, n: { N: '2' }, l: { L: [{ S: 'a' }] } },
      'SET #n = #n + :one, m = if_not_exists(m, :zero), l = list_append(l, :more)',
      { '#n': 'n' },
      { ':one': { N: '1' }, ':zero': { N: '0' }, ':more': { L: [{ S: 'b' }] } },
    );
    expect(after).toEqual({ pk: { S: 'p' }, n: { N: '3' }, m: { N: '0' }, l: { L: [{ S: 'a' }, { S: 'b' }] } });
  });

  it('fails loudly on syntax it does not model', () => {
    expect(() => applyUpdateExpression(before, 'SET v = size(lt)', {}, {})).toThrow(/unsupported function/);
  });
});
