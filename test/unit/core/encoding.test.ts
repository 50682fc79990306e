import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url, utf8Bytes, utf8Length, utf8Text } from '../../../functions/core/encoding.js';

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

/** RFC 4648 §10's test vectors, in the URL-safe alphabet without padding (§5). */
const rfc4648: [string, string][] = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

describe('base64url by the RFC', () => {
  it.each(rfc4648)('encodes %j as %j and decodes it back', (text, encoded) => {
    const bytes = new TextEncoder().encode(text);
    expect(bytesToBase64Url(bytes)).toBe(encoded);
    expect(base64UrlToBytes(encoded)).toEqual(bytes);
  });

  it('uses - and _ for 62 and 63, never + or /', () => {
    expect(bytesToBase64Url(new Uint8Array([0xfb, 0xef, 0xff]))).toBe('--__');
    expect(base64UrlToBytes('--__')).toEqual(new Uint8Array([0xfb, 0xef, 0xff]));
    expect(bytesToBase64Url(new Uint8Array([0xff, 0xff]))).toBe('__8');
    expect(base64UrlToBytes('__8')).toEqual(new Uint8Array([0xff, 0xff]));
  });

  it('maps every character of the alphabet to its value', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bytes = new Uint8Array(Buffer.from(alphabet, 'base64url'));
    expect(bytes.length).toBe(48);
    expect(bytesToBase64Url(bytes)).toBe(alphabet);
    expect(base64UrlToBytes(alphabet)).toEqual(bytes);
  });

  it.each([
    ['a single character', 'Z'],
    ['one character past a whole group', 'Zm9vY'],
    ['padding', 'Zg=='],
    ['padding after a whole group', 'Zm9v='],
    ['the standard alphabet’s +', 'Zm+v'],
    ['the standard alphabet’s /', '/m9v'],
    ['a space', 'Zm9 '],
    ['a foreign character in a later group', 'Zm9vY.Fy'],
    ['a foreign character at the end', 'Zm9vYm*'],
    ['stray low bits after one byte', 'Zh'],
    ['stray low bits after two bytes', 'Zm9'],
  ])('refuses %s (%j)', (_, text) => {
    expect(base64UrlToBytes(text)).toBeUndefined();
  });
});

describe('utf8Bytes and utf8Text', () => {
  it('encode and decode UTF-8, four bytes for a character outside the BMP', () => {
    expect([...utf8Bytes('aé€😀')]).toEqual([0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
    expect(utf8Text(utf8Bytes('aé€😀'))).toBe('aé€😀');
    expect(utf8Text(new Uint8Array())).toBe('');
  });

  it.each([
    ['a byte no UTF-8 sequence starts with', [0xff]],
    ['a continuation byte alone', [0x80]],
    ['an overlong encoding', [0xc0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('utf8Text throws on %s, instead of replacing it', (_, bytes) => {
    expect(() => utf8Text(Uint8Array.from(bytes))).toThrow(TypeError);
  });
});

describe('utf8Length at each boundary of the encoding', () => {
  it.each<[string, string, number]>([
    ['the empty string', '', 0],
    ['U+0000', '\u0000', 1],
    ['U+007F, the last one-byte character', '\u007f', 1],
    ['U+0080, the first two-byte character', '\u0080', 2],
    ['U+07FF, the last two-byte character', '\u07ff', 2],
    ['U+0800, the first three-byte character', '\u0800', 3],
    ['U+D7FF, the last before the surrogates', '\ud7ff', 3],
    ['the first surrogate pair (U+10000)', '\ud800\udc00', 4],
    ['the last surrogate pair (U+10FFFF)', '\udbff\udfff', 4],
    ['a high surrogate at the end (replaced: three bytes)', 'a\ud800', 4],
    ['a high surrogate before a non-surrogate', '\udbffa', 4],
    ['a high surrogate before another high surrogate and its low one', '\ud800\ud800\udc00', 7],
    ['a high surrogate before U+E000, past the low surrogates', '\ud800\ue000', 6],
    ['a high surrogate before U+DBFF', '\ud800\udbff', 6],
    ['a lone low surrogate', '\udc00', 3],
    ['a low surrogate after a low surrogate', '\udc00\udc00', 6],
    ['a low surrogate after U+D7FF, just below the high surrogates', '\ud7ff\udc00', 6],
    ['a low surrogate after U+E000, just above the surrogates', '\ue000\udc00', 6],
    ['a low surrogate after a two-byte character', '\u0080\udc00', 5],
    ['a low surrogate after a one-byte character', 'a\udfff', 4],
    ['a low surrogate before a high one (not a pair)', '\udfff\ud800', 6],
    ['U+E000, the first after the surrogates', '\ue000', 3],
    ['U+FFFF', '\uffff', 3],
    ['a mixed string', 'aé€😀', 10],
  ])('%s', (_, text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
    expect(Buffer.byteLength(text, 'utf8')).toBe(bytes);
  });
});
