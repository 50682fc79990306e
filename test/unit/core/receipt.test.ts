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
