import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url, utf8Length } from '../../../functions/core/encoding.js';

describe('base64url', () => {
  it('agrees with Node for any bytes and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = bytesToBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(base64UrlToBytes(text)).toEqual(bytes);
      }),
    );
  });

  it('rejects non-canonical or foreign text', () => {
    expect(base64UrlToBytes('a')).toBeUndefined();
    expect(base64UrlToBytes('ab+/')).toBeUndefined();
    expect(base64UrlToBytes('AB')).toBeUndefined(); // stray low bits: canonical form is 'AA'
    expect(base64UrlToBytes('AA')).toEqual(new Uint8Array([0]));
  });
});

describe('utf8Length', () => {
  it('equals the UTF-8 byte length for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
  });
});
