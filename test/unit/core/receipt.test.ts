import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import { decodeReceipt, encodeReceipt, LEASE_TOKEN_BYTES, newLeaseToken, type Receipt } from '../../../functions/core/queue/receipt.js';

const receiptArb: fc.Arbitrary<Receipt> = fc.record({
  queue: fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/),
  messageId: fc.string({ minLength: 1, maxLength: 40 }),
  shard: fc.integer({ min: 0, max: 255 }),
  leaseKey: fc.string({ minLength: 1, maxLength: 200 }),
  seq: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  token: fc.uint8Array({ minLength: LEASE_TOKEN_BYTES, maxLength: LEASE_TOKEN_BYTES }).map(newLeaseToken),
  fence: fc.integer({ min: 1, max: 2 ** 50 }),
  leaseUntil: fc.integer({ min: 0, max: 2 ** 50 }),
  lastInGroup: fc.boolean(),
  receiveCount: fc.integer({ min: 1, max: 1_000 }),
  offloaded: fc.boolean(),
});

describe('receipts', () => {
  it('round-trip exactly', () => {
    fc.assert(
      fc.property(receiptArb, (r) => {
        expect(decodeReceipt(encodeReceipt(r))).toEqual(r);
      }),
    );
  });

  it('carry 128 random bits: distinct bytes make distinct tokens', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (a, b) => {
        fc.pre(Buffer.compare(a, b) !== 0);
        expect(newLeaseToken(a)).not.toBe(newLeaseToken(b));
      }),
    );
    expect(() => newLeaseToken(new Uint8Array(8))).toThrow(RangeError);
  });

  it('reject anything else with a ValidationError naming the field', () => {
    fc.assert(
      fc.property(fc.string(), (garbage) => {
        fc.pre(!garbage.startsWith('c1.'));
        expect(() => decodeReceipt(garbage)).toThrow(ValidationError);
      }),
    );
    for (const bad of [undefined, 42, 'c1.', 'c1.!!!', `c1.${Buffer.from('[1,2]').toString('base64url')}`]) {
      try {
        decodeReceipt(bad);
        expect.unreachable(`accepted ${String(bad)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).field).toBe('receipt');
      }
    }
  });

  it('reject keys no DynamoDB item can have (a forged receipt must not reach the table as a bad request)', () => {
    const forged = (messageId: string, leaseKey: string) =>
      `c1.${Buffer.from(JSON.stringify(['q', messageId, 0, leaseKey, null, Buffer.alloc(16).toString('base64url'), 1, 1, 0, 1])).toString('base64url')}`;
    expect(() => decodeReceipt(forged('m', 'k'.repeat(1025)))).toThrow(/bad key/);
    expect(() => decodeReceipt(forged('m', 'é'.repeat(513)))).toThrow(/bad key/); // 1,026 bytes
    expect(() => decodeReceipt(forged('m'.repeat(129), 'k'))).toThrow(/bad message id/);
    expect(decodeReceipt(forged('m'.repeat(128), 'k'.repeat(1024)))).toMatchObject({ messageId: 'm'.repeat(128) });
  });

  it('reject a receipt whose token is shorter than 128 bits', () => {
    const short = JSON.stringify(['q', 'm', 0, 'k', null, Buffer.alloc(8).toString('base64url'), 1, 1, 0, 1]);
    expect(() => decodeReceipt(`c1.${Buffer.from(short).toString('base64url')}`)).toThrow(/bad token/);
  });
});

/** A receipt's wire form: the prefix, then base64url of the JSON array of its ten fields. */
const wire = (fields: unknown) => `c1.${Buffer.from(JSON.stringify(fields)).toString('base64url')}`;
const token = Buffer.alloc(LEASE_TOKEN_BYTES, 7).toString('base64url');
/** queue, messageId, shard, leaseKey, seq, token, fence, leaseUntil, flags, receiveCount */
const validFields = ['orders', 'm-1', 3, 'k-1', null, token, 2, 1_700_000_000_000, 0, 1];
const withField = (index: number, value: unknown) => validFields.map((v, i) => (i === index ? value : v));
const decoded: Receipt = {
  queue: 'orders',
  messageId: 'm-1',
  shard: 3,
  leaseKey: 'k-1',
  seq: undefined,
  token,
  fence: 2,
  leaseUntil: 1_700_000_000_000,
  lastInGroup: false,
  receiveCount: 1,
  offloaded: false,
};
const rejection = (text: unknown, field?: string) => {
  try {
    decodeReceipt(text, field);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return { field: (error as ValidationError).field, message: (error as ValidationError).message };
  }
  throw new Error(`accepted ${String(text)}`);
};

describe('newLeaseToken', () => {
  it('is the base64url of exactly 16 random bytes', () => {
    expect(LEASE_TOKEN_BYTES).toBe(16);
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(newLeaseToken(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
  });

  it.each([0, 15, 17])('refuses %i bytes with a RangeError saying how many it needs', (length) => {
    expect(() => newLeaseToken(new Uint8Array(length))).toThrow(new RangeError(`a lease token needs 16 random bytes, got ${length}`));
  });
});

describe('encodeReceipt', () => {
  it('writes the prefix c1. and the ten fields as a base64url JSON array, seq null when absent', () => {
    expect(encodeReceipt(decoded)).toBe(wire(validFields));
    expect(encodeReceipt({ ...decoded, seq: 0 })).toBe(wire(withField(4, 0)));
    expect(encodeReceipt({ ...decoded, seq: 41 })).toBe(wire(withField(4, 41)));
  });

  it.each([
    [false, false, 0],
    [true, false, 1],
    [false, true, 2],
    [true, true, 3],
  ])('packs lastInGroup=%s and offloaded=%s into the flags %i, and reads them back', (lastInGroup, offloaded, flags) => {
    expect(encodeReceipt({ ...decoded, lastInGroup, offloaded })).toBe(wire(withField(8, flags)));
    expect(decodeReceipt(wire(withField(8, flags)))).toEqual({ ...decoded, lastInGroup, offloaded });
  });
});

describe('decodeReceipt', () => {
  it('reads every field of a receipt it issued', () => {
    expect(decodeReceipt(wire(validFields))).toEqual(decoded);
    expect(decodeReceipt(wire(withField(4, 7)))).toEqual({ ...decoded, seq: 7 });
  });

  it.each<[string, unknown, string]>([
    ['a number', 42, 'expected a string'],
    ['undefined', undefined, 'expected a string'],
    ['another prefix', `c2.${wire(validFields).slice(3)}`, 'expected the prefix "c1."'],
    ['no prefix', wire(validFields).slice(3), 'expected the prefix "c1."'],
    ['text that is not base64url', 'c1.ab+/', 'bad base64url'],
    ['bytes that are not UTF-8', `c1.${Buffer.from([0xff, 0xfe]).toString('base64url')}`, 'bad payload'],
    ['text that is not JSON', `c1.${Buffer.from('not json').toString('base64url')}`, 'bad payload'],
    ['a JSON object', wire({ 0: 'orders' }), 'bad payload'],
    ['a JSON object with a length of ten', wire({ length: 10 }), 'bad payload'],
    ['a JSON string of ten characters', wire('0123456789'), 'bad payload'],
    ['JSON null', wire(null), 'bad payload'],
    ['nine fields', wire(validFields.slice(0, 9)), 'bad payload'],
    ['eleven fields', wire([...validFields, 0]), 'bad payload'],
  ])('rejects %s, naming the field receipt', (_, text, why) => {
    expect(rejection(text)).toEqual({ field: 'receipt', message: `receipt: not a Concord receipt (${why})` });
  });

  it('names the field it was given', () => {
    expect(rejection('x', 'receipts[2]')).toEqual({
      field: 'receipts[2]',
      message: 'receipts[2]: not a Concord receipt (expected the prefix "c1.")',
    });
  });

  const badFields: [string, number, unknown[], string][] = [
    ['queue', 0, [7, '', 'a b', 'q'.repeat(81), null], 'bad queue'],
    ['messageId', 1, [7, '', 'm'.repeat(129), 'é'.repeat(65), null], 'bad message id'],
    ['shard', 2, [-1, 1.5, '0', 256, null, Number.MAX_SAFE_INTEGER + 1], 'bad shard'],
    ['leaseKey', 3, [7, '', 'k'.repeat(1025), null], 'bad key'],
    ['seq', 4, [-1, 1.5, '1', Number.MAX_SAFE_INTEGER + 1], 'bad sequence'],
    ['token', 5, [7, null, Buffer.alloc(15).toString('base64url'), Buffer.alloc(17).toString('base64url'), '!'.repeat(22)], 'bad token'],
    ['fence', 6, [0, -1, 1.5, '2', null, Number.MAX_SAFE_INTEGER + 1], 'bad fence'],
    ['leaseUntil', 7, [-1, 1.5, '1', null], 'bad expiry'],
    ['flags', 8, [-1, 4, 1.5, '0', null], 'bad flags'],
    ['receiveCount', 9, [0, -1, 1.5, '1', null], 'bad receive count'],
  ];
  for (const [name, index, values, why] of badFields) {
    it(`rejects a bad ${name} with “${why}”: ${values.map((v) => JSON.stringify(v)?.slice(0, 12)).join(', ')}`, () => {
      for (const value of values) {
        expect(rejection(wire(withField(index, value)))).toEqual({ field: 'receipt', message: `receipt: not a Concord receipt (${why})` });
      }
    });
  }

  it('accepts each field at its bounds', () => {
    const at = (index: number, value: unknown) => decodeReceipt(wire(withField(index, value)));
    expect(at(0, 'q'.repeat(80)).queue).toBe('q'.repeat(80));
    expect(at(0, 'a-Z_9').queue).toBe('a-Z_9');
    expect(at(1, 'é'.repeat(64)).messageId).toBe('é'.repeat(64)); // 128 bytes
    expect(at(1, 'm').messageId).toBe('m');
    expect(at(2, 0).shard).toBe(0);
    expect(at(2, 255).shard).toBe(255);
    expect(at(3, 'k').leaseKey).toBe('k');
    expect(at(4, 0).seq).toBe(0);
    expect(at(4, Number.MAX_SAFE_INTEGER).seq).toBe(Number.MAX_SAFE_INTEGER);
    expect(at(6, 1).fence).toBe(1);
    expect(at(6, Number.MAX_SAFE_INTEGER).fence).toBe(Number.MAX_SAFE_INTEGER);
    expect(at(7, 0).leaseUntil).toBe(0);
    expect(at(9, 1).receiveCount).toBe(1);
    expect(at(9, 1_000_000).receiveCount).toBe(1_000_000);
  });
});
