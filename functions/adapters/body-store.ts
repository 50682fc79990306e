/**
 * Encodes message bodies for storage (core/queue/body.ts decides; this file does the I/O):
 * deflate-raw with node:zlib, and S3 claim checks for bodies over the item budget.
 *
 * Crash windows: an S3 object is written before the item that points to it and deleted after the
 * item is gone, so a crash leaves at worst an orphan object, never an item whose body is missing.
 * Objects never expire by themselves: a message may stay queued or dead-lettered for any time.
 * Orphans (a crash between the two writes, an outbox transaction that aborted, a duplicate send)
 * cost storage only; docs/queue.md says how to find them.
 */
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { utf8Length } from '../core/encoding.js';
import { PayloadTooLargeError } from '../core/errors.js';
import { murmur3 } from '../core/hashing.js';
import { BodyEncoding, type BodyStoragePolicy, chooseBodyEncoding, DEFAULT_BODY_POLICY, shouldTryCompression } from '../core/queue/body.js';
import { ContentType, QueueLimits } from '../core/queue/config.js';
import { Attr, type Item } from './dynamodb/queue/layout.js';

const deflateOnPool = promisify(deflateRaw);
const inflateOnPool = promisify(inflateRaw);

/**
 * Up to this many bytes in, zlib runs on the calling thread: handing a small buffer to libuv's
 * thread pool costs several times the work itself (measured with 1 KB JSON: deflate 118 µs of CPU
 * asynchronous against 25 µs synchronous, inflate 75 against 9). Larger buffers go to the pool, so
 * that a 1 MiB body does not hold up the event loop.
 */
const ZLIB_ON_CALLING_THREAD_BELOW_BYTES = 16 * 1024;

const deflate = async (bytes: Uint8Array): Promise<Buffer> =>
  bytes.length < ZLIB_ON_CALLING_THREAD_BELOW_BYTES ? deflateRawSync(bytes) : deflateOnPool(bytes);
const inflate = async (bytes: Uint8Array): Promise<Buffer> =>
  bytes.length < ZLIB_ON_CALLING_THREAD_BELOW_BYTES ? inflateRawSync(bytes) : inflateOnPool(bytes);

export interface ClaimCheckStore {
  readonly s3: S3Client;
  readonly bucket: string;
}

export interface EncodedBody {
  /** Attributes to store on the message item. */
  readonly attributes: Item;
  readonly encoding: BodyEncoding;
  /** The S3 key written, so a send that turns out to be a duplicate can delete it. */
  readonly objectKey?: string;
}

export class BodyStore {
  constructor(
    private readonly claimCheck: ClaimCheckStore | undefined,
    private readonly policy: BodyStoragePolicy = DEFAULT_BODY_POLICY,
  ) {}

  /** The size limit counts the stored text: for a JSON body, its JSON text. */
  async encode(
    message: { readonly body: string; readonly contentType?: ContentType | undefined },
    queue: string,
    messageId: string,
  ): Promise<EncodedBody> {
    const encoded = await this.encodeText(message.body, queue, messageId);
    if (message.contentType !== ContentType.Json) return encoded;
    return { ...encoded, attributes: { ...encoded.attributes, [Attr.contentType]: { S: ContentType.Json } } };
  }

  private async encodeText(body: string, queue: string, messageId: string): Promise<EncodedBody> {
    const rawBytes = utf8Length(body);
    if (rawBytes > QueueLimits.maxBodyBytes) {
      throw new PayloadTooLargeError(`body is ${rawBytes} bytes; the limit is ${QueueLimits.maxBodyBytes} (1 MiB)`);
    }
    const raw = Buffer.from(body, 'utf8');
    const compressed = shouldTryCompression(rawBytes, this.policy) ? await deflate(raw) : undefined;
    const { encoding } = chooseBodyEncoding(rawBytes, compressed?.length, this.policy);
    switch (encoding) {
      case BodyEncoding.Inline:
        return { encoding, attributes: { [Attr.bodyText]: { S: body } } };
      case BodyEncoding.InlineDeflate:
        return { encoding, attributes: { [Attr.bodyDeflated]: { B: compressed as Buffer } } };
      case BodyEncoding.S3:
      case BodyEncoding.S3Deflate: {
        if (!this.claimCheck) {
          throw new PayloadTooLargeError(
            `body needs ${(compressed ?? raw).length} bytes stored, over the ${this.policy.offloadAboveBytes}-byte item budget, and no claim-check bucket is configured`,
          );
        }
        const objectKey = claimCheckKey(queue, messageId);
        const deflated = encoding === BodyEncoding.S3Deflate;
        await this.claimCheck.s3.send(
          new PutObjectCommand({ Bucket: this.claimCheck.bucket, Key: objectKey, Body: deflated ? (compressed as Buffer) : raw }),
        );
        return {
          encoding,
          objectKey,
          attributes: { [Attr.bodyObject]: { S: objectKey }, ...(deflated ? { [Attr.bodyObjectDeflated]: { BOOL: true } } : {}) },
        };
      }
    }
  }

  async decode(item: Item): Promise<string> {
    const text = item[Attr.bodyText];
    if (text && 'S' in text && text.S !== undefined) return text.S;
    const deflated = item[Attr.bodyDeflated];
    if (deflated && 'B' in deflated && deflated.B) return (await inflate(deflated.B)).toString('utf8');
    const object = item[Attr.bodyObject];
    if (object && 'S' in object && object.S !== undefined) {
      if (!this.claimCheck) throw new Error(`message body is in S3 (${object.S}) but no claim-check bucket is configured`);
      const response = await this.claimCheck.s3.send(new GetObjectCommand({ Bucket: this.claimCheck.bucket, Key: object.S }));
      const bytes = await response.Body?.transformToByteArray();
      if (!bytes) throw new Error(`claim-check object ${object.S} has no body`);
      const isDeflated = item[Attr.bodyObjectDeflated]?.BOOL === true;
      return isDeflated ? (await inflate(bytes)).toString('utf8') : Buffer.from(bytes).toString('utf8');
    }
    return '';
  }

  /** Deletes a claim-check object. Call only after the item that points to it is gone. */
  async releaseKey(objectKey: string | undefined): Promise<void> {
    if (!objectKey || !this.claimCheck) return;
    await this.claimCheck.s3.send(new DeleteObjectCommand({ Bucket: this.claimCheck.bucket, Key: objectKey }));
  }
}

/** Every claim-check object's key starts with this (the construct's grants are scoped to it). */
export const CLAIM_CHECK_PREFIX = 'concord/';

/** A hashed prefix spreads claim checks over S3 partitions (3,500 PUT/s per prefix). */
export function claimCheckKey(queue: string, messageId: string): string {
  const prefix = (murmur3(messageId) & 0xff).toString(16).padStart(2, '0');
  return `${CLAIM_CHECK_PREFIX}${prefix}/${queue}/${messageId}`;
}
