/** Base64url (RFC 4648 §5, no padding) for bytes and UTF-8 text, without Node's Buffer. */

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const lookup = new Map<string, number>([...alphabet].map((ch, i) => [ch, i]));

export function bytesToBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += alphabet[(triple >> 18) & 63];
    out += alphabet[(triple >> 12) & 63];
    if (b !== undefined) out += alphabet[(triple >> 6) & 63];
    if (c !== undefined) out += alphabet[triple & 63];
  }
  return out;
}

/** Returns undefined for anything that is not canonical base64url (so decode(encode(x)) is a bijection). */
export function base64UrlToBytes(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const chunk = text.slice(i, i + 4);
    let triple = 0;
    for (let j = 0; j < 4; j++) {
      const ch = chunk[j];
      const v = ch === undefined ? 0 : lookup.get(ch);
      if (v === undefined) return undefined;
      triple |= v << (18 - 6 * j);
    }
    out[o++] = (triple >> 16) & 255;
    if (chunk.length > 2) out[o++] = (triple >> 8) & 255;
    if (chunk.length > 3) out[o++] = triple & 255;
  }
  const bytes = out.subarray(0, o);
  // Reject non-canonical encodings (stray low bits in the last character).
  return bytesToBase64Url(bytes) === text ? bytes : undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Throws on invalid UTF-8. */
export function utf8Text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
