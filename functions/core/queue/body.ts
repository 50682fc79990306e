/**
 * Where a message body is stored. Every stored kilobyte costs three write units over a message's
 * life (put, lease update, ack delete all bill the whole item), so bodies are compressed when that
 * pays, and bodies still over the item budget go to S3 as a claim check.
 *
 * Crossover, at on-demand prices: 1 KB kept in DynamoDB costs 3 WRU = $1.875 per million messages;
 * an S3 claim check costs PUT ($5/M) + GET ($0.4/M) + DELETE (free) = $5.4/M. S3 becomes cheaper
 * above ~4 KB stored, at the price of two to three extra requests of latency. The default budget
 * (8 KiB) stays on DynamoDB a little past the crossover; set `offloadAboveBytes` to taste.
 */
export interface BodyStoragePolicy {
  /** Bodies at least this long (UTF-8 bytes) are tried compressed. */
  readonly compressFromBytes: number;
  /** Compression is kept only if it shrinks the body to at most this fraction. */
  readonly keepCompressedBelowRatio: number;
  /** Stored bodies (after compression) larger than this go to S3. Must stay well under 400 KB. */
  readonly offloadAboveBytes: number;
}

export const DEFAULT_BODY_POLICY: BodyStoragePolicy = {
  compressFromBytes: 512,
  keepCompressedBelowRatio: 0.9,
  offloadAboveBytes: 8 * 1024,
};

/** Hard ceiling for `offloadAboveBytes`: leaves room for keys and lease attributes in a 400 KB item. */
export const MAX_INLINE_BODY_BYTES = 350 * 1024;

export const BodyEncoding = {
  /** UTF-8 text in a string attribute. */
  Inline: 'inline',
  /** deflate-raw bytes in a binary attribute. */
  InlineDeflate: 'inline-deflate',
  /** An S3 object holds the UTF-8 text. */
  S3: 's3',
  /** An S3 object holds deflate-raw bytes. */
  S3Deflate: 's3-deflate',
} as const;
export type BodyEncoding = (typeof BodyEncoding)[keyof typeof BodyEncoding];

export function shouldTryCompression(rawBytes: number, policy: BodyStoragePolicy = DEFAULT_BODY_POLICY): boolean {
  return rawBytes >= policy.compressFromBytes;
}

/** Chooses the encoding from the raw size and, if compression was tried, the compressed size. */
export function chooseBodyEncoding(
  rawBytes: number,
  compressedBytes: number | undefined,
  policy: BodyStoragePolicy = DEFAULT_BODY_POLICY,
): { readonly encoding: BodyEncoding; readonly storedBytes: number } {
  const compress = compressedBytes !== undefined && compressedBytes <= rawBytes * policy.keepCompressedBelowRatio;
  const storedBytes = compress ? compressedBytes : rawBytes;
  const offload = storedBytes > Math.min(policy.offloadAboveBytes, MAX_INLINE_BODY_BYTES);
  if (offload) return { encoding: compress ? BodyEncoding.S3Deflate : BodyEncoding.S3, storedBytes };
  return { encoding: compress ? BodyEncoding.InlineDeflate : BodyEncoding.Inline, storedBytes };
}
