import { describe, expect, it } from 'vitest';
import {
  expressGbSeconds,
  itemSize,
  lambdaGbSeconds,
  numberSize,
  PRICES,
  readUnits,
  sqsBilledRequests,
  type UsageTotals,
  usd,
  usdPerMillion,
  valueSize,
  writeUnits,
} from '../../../functions/core/cost.js';
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

describe('the size of a number (one byte per two significant digits, plus one)', () => {
  it.each([
    ['0', 2],
    ['7', 2],
    ['12', 2],
    ['123', 3],
    ['1234', 3],
    ['105', 3],
    ['1005', 3],
    ['12300', 3],
    ['-12', 2],
    ['+12', 2],
    ['-123', 3],
    ['0.0015', 2],
    ['1.2345', 4],
    ['1.5e10', 2],
    ['12345E-3', 4],
    ['-12345678', 5],
  ])('%s takes %i bytes', (text, bytes) => {
    expect(numberSize(text)).toBe(bytes);
  });
});

describe('the size of each attribute type', () => {
  const b = (n: number) => new Uint8Array(n);
  it.each([
    ['an empty string', { S: '' }, 0],
    ['a string (UTF-8 bytes)', { S: 'aé' }, 3],
    ['a number', { N: '123' }, 3],
    ['an empty binary', { B: b(0) }, 0],
    ['a binary', { B: b(5) }, 5],
    ['a string set', { SS: ['ab', 'é'] }, 4],
    ['a number set', { NS: ['1', '123'] }, 5],
    ['a binary set', { BS: [b(2), b(3)] }, 5],
    ['an empty list', { L: [] }, 3],
    ['a list', { L: [{ S: 'ab' }, { NULL: true }] }, 3 + (2 + 1) + (1 + 1)],
    ['an empty map', { M: {} }, 3],
    ['a map (names, values, one byte each)', { M: { k: { S: 'v' }, é: { N: '1' } } }, 3 + (1 + 1 + 1) + (2 + 2 + 1)],
    ['a nested list in a map', { M: { l: { L: [{ BOOL: false }] } } }, 3 + (1 + (3 + 1 + 1) + 1)],
    ['NULL', { NULL: true }, 1],
    ['BOOL', { BOOL: false }, 1],
  ])('%s', (_, value, bytes) => {
    expect(valueSize(value)).toBe(bytes);
  });

  it('an item is the sum of its names (UTF-8) and values; an empty item is 0 bytes', () => {
    expect(itemSize({})).toBe(0);
    expect(itemSize({ é: { S: '' }, n: { N: '12' } })).toBe(2 + 0 + 1 + 2);
  });
});

describe('request units at their boundaries', () => {
  it('reads: 4 KB per unit, rounded up, halved when eventually consistent', () => {
    expect([1, 4096, 4097, 8192, 8193].map((bytes) => readUnits(bytes, true))).toEqual([1, 1, 2, 2, 3]);
    expect([1, 4096, 4097, 8192, 8193].map((bytes) => readUnits(bytes, false))).toEqual([0.5, 0.5, 1, 1, 1.5]);
  });

  it('writes and SQS requests: at least one, even for nothing', () => {
    expect(writeUnits(2048)).toBe(2);
    expect(writeUnits(2049)).toBe(3);
    expect(sqsBilledRequests(0)).toBe(1);
    expect(sqsBilledRequests(128 * 1024)).toBe(2);
  });
});

describe('GB-seconds', () => {
  it('Express: duration rounded up to 100 ms (100 at least), memory to 64 MB (64 MB unless given, and at least)', () => {
    expect(expressGbSeconds(0)).toBe((100 / 1000) * (64 / 1024));
    expect(expressGbSeconds(100)).toBe((100 / 1000) * (64 / 1024));
    expect(expressGbSeconds(101)).toBe((200 / 1000) * (64 / 1024));
    expect(expressGbSeconds(250, 1)).toBe((300 / 1000) * (64 / 1024));
    expect(expressGbSeconds(1000, 64)).toBe(1 * (64 / 1024));
    expect(expressGbSeconds(1000, 65)).toBe(1 * (128 / 1024));
    expect(expressGbSeconds(2000, 1024)).toBe(2);
  });

  it('Lambda: duration rounded up to the millisecond (1 at least), times the memory', () => {
    expect(lambdaGbSeconds(0, 1024)).toBe(0.001);
    expect(lambdaGbSeconds(0.2, 1024)).toBe(0.001);
    expect(lambdaGbSeconds(1.2, 512)).toBe(0.001);
    expect(lambdaGbSeconds(1000, 128)).toBe(0.125);
    expect(lambdaGbSeconds(3000, 2048)).toBe(6);
  });
});

describe('usd: each unit of usage at its price', () => {
  const none: UsageTotals = { writeUnits: 0, readUnits: 0, sqsRequests: 0, s3Puts: 0, s3Gets: 0 };
  it('costs nothing for no usage; the optional totals count as 0 when left out', () => {
    expect(usd(none)).toBe(0);
    expect(usdPerMillion(none, 0)).toBe(0);
    expect(usdPerMillion({ ...none, writeUnits: 3 }, 0)).toBe(0);
  });

  it.each([
    ['writeUnits', PRICES.dynamoWriteUnit],
    ['readUnits', PRICES.dynamoReadUnit],
    ['sqsRequests', PRICES.sqsStandardRequest],
    ['sqsFifoRequests', PRICES.sqsFifoRequest],
    ['s3Puts', PRICES.s3PutRequest],
    ['s3Gets', PRICES.s3GetRequest],
    ['stateTransitions', PRICES.stepFunctionsTransition],
    ['lambdaInvocations', PRICES.lambdaRequest],
    ['lambdaGbSeconds', PRICES.lambdaArmGbSecond],
    ['expressRequests', PRICES.stepFunctionsExpressRequest],
    ['expressGbSeconds', PRICES.stepFunctionsExpressGbSecond],
  ] as const)('%s is billed at its price', (field, price) => {
    expect(usd({ ...none, [field]: 3 })).toBeCloseTo(3 * price, 15);
  });

  it('adds up every kind of usage', () => {
    const all: UsageTotals = {
      writeUnits: 1,
      readUnits: 2,
      sqsRequests: 3,
      sqsFifoRequests: 4,
      s3Puts: 5,
      s3Gets: 6,
      stateTransitions: 7,
      lambdaInvocations: 8,
      lambdaGbSeconds: 9,
      expressRequests: 10,
      expressGbSeconds: 11,
    };
    const p = PRICES;
    const expected =
      p.dynamoWriteUnit +
      2 * p.dynamoReadUnit +
      3 * p.sqsStandardRequest +
      4 * p.sqsFifoRequest +
      5 * p.s3PutRequest +
      6 * p.s3GetRequest +
      7 * p.stepFunctionsTransition +
      8 * p.lambdaRequest +
      9 * p.lambdaArmGbSecond +
      10 * p.stepFunctionsExpressRequest +
      11 * p.stepFunctionsExpressGbSecond;
    expect(usd(all)).toBeCloseTo(expected, 15);
  });

  it('per million: the cost of the totals over the count, times a million', () => {
    expect(usdPerMillion({ ...none, writeUnits: 6, stateTransitions: 2 }, 2)).toBeCloseTo(
      ((6 * PRICES.dynamoWriteUnit + 2 * PRICES.stepFunctionsTransition) / 2) * 1e6,
      12,
    );
  });
});
