import { describe, expect, it } from 'vitest';
import { BodyEncoding, chooseBodyEncoding, DEFAULT_BODY_POLICY, shouldTryCompression } from '../../../functions/core/queue/body.js';

describe('chooseBodyEncoding', () => {
  it.each([
    ['small, not tried', 100, undefined, BodyEncoding.Inline],
    ['compresses well', 1_024, 400, BodyEncoding.InlineDeflate],
    ['compression saves under 10%', 1_024, 1_000, BodyEncoding.Inline],
    ['large but compresses under the budget', 64 * 1024, 6_000, BodyEncoding.InlineDeflate],
    ['large and compressed still over the budget', 64 * 1024, 20_000, BodyEncoding.S3Deflate],
    ['large and incompressible', 64 * 1024, 64 * 1024 + 10, BodyEncoding.S3],
  ])('%s', (_, raw, compressed, expected) => {
    expect(chooseBodyEncoding(raw, compressed).encoding).toBe(expected);
  });

  it('tries compression from the threshold on', () => {
    expect(shouldTryCompression(DEFAULT_BODY_POLICY.compressFromBytes - 1)).toBe(false);
    expect(shouldTryCompression(DEFAULT_BODY_POLICY.compressFromBytes)).toBe(true);
  });

  it('never keeps more than ~350 KB inline, whatever the policy says', () => {
    expect(chooseBodyEncoding(390_000, undefined, { ...DEFAULT_BODY_POLICY, offloadAboveBytes: 1e9 }).encoding).toBe(BodyEncoding.S3);
  });
});
