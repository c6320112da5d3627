import { Readable, Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertKeyPrefix, assertObjectKey } from './object-key.ts';
import { assertRange, ObjectNotFoundError, ObjectRangeError, StorageError, type ByteRange, type ObjectBody, type ObjectInfo, type ObjectStore } from './object-store.ts';
import type { S3StorageConfig } from './storage-config.ts';

/** Streams are sent in parts of this size (S3's minimum is 5 MiB); one part or less is a single PutObject. */
const PART_BYTES = 8 * 1024 * 1024;

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (err: unknown): string => (err as { name?: unknown }).name?.toString() ?? '';
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Objects in an S3 bucket (AWS or an S3-compatible server) under an optional key prefix.
 * PutObject and CompleteMultipartUpload are atomic in S3, so a reader never sees part of an
 * object; a failed stream put aborts its multipart upload.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly shared = true;
  private readonly client: S3Client;
  private readonly bucket: string;
  /** '' or 'some/prefix/' */
  private readonly keyPrefix: string;

  constructor(config: S3StorageConfig) {
    this.bucket = config.bucket;
    this.keyPrefix = config.prefix === '' ? '' : `${config.prefix}/`;
    this.location = `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''} (${config.region})`;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      // Without them the SDK's own chain looks (AWS_PROFILE, SSO, the instance's role).
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // Many S3-compatible servers refuse the SDK's default streamed trailing checksums; SigV4 still signs the payload.
      ...(config.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    });
  }

  private objectKey(key: string): string {
    assertObjectKey(key);
    return this.keyPrefix + key;
  }

  private failure(action: string, err: unknown): StorageError {
    return new StorageError(`${this.location}: ${action} failed: ${messageOf(err)}`, { cause: err });
  }

  /** At start: the bucket exists and these credentials may use it, with a message an operator can act on. */
  async verify(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = statusOf(err);
      const hint =
        status === 404
          ? 'the bucket does not exist (create it first; Chorus does not create buckets)'
          : status === 403 || status === 401
            ? 'access denied: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the bucket policy'
            : status === 301 || status === 400
              ? 'the bucket is in another region, or the endpoint is wrong: check CHORUS_S3_REGION and CHORUS_S3_ENDPOINT'
              : nameOf(err) === 'CredentialsProviderError'
                ? 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE'
                : `cannot reach it (${messageOf(err)})`;
      throw new StorageError(`Object storage ${this.location}: ${hint}.`, { cause: err });
    }
  }

  async put(key: string, body: ObjectBody): Promise<{ size: number }> {
    const Key = this.objectKey(key);
    if (body instanceof Uint8Array) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.byteLength }));
      } catch (err) {
        throw this.failure(`storing "${key}"`, err);
      }
      return { size: body.byteLength };
    }
    // Unknown length: lib-storage buffers up to one part, then switches to a multipart upload.
    let size = 0;
    let sourceError: unknown = null;
    body.once('error', (err) => (sourceError ??= err));
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          done(null, chunk);
        },
      }),
    );
    body.once('error', (err) => counted.destroy(err));
    try {
      await new Upload({ client: this.client, params: { Bucket: this.bucket, Key, Body: counted }, partSize: PART_BYTES, queueSize: 1, leavePartsOnError: false }).done();
    } catch (err) {
      body.unpipe(counted);
      // The body's own failure is the cause worth reporting, not a consequence such as a refused abort.
      throw sourceError ?? this.failure(`storing "${key}"`, err);
    }
    if (sourceError) throw sourceError;
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.objectKey(key);
    if (range) assertRange(key, range);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      if (!(answer.Body instanceof Readable)) throw new Error('the response has no readable body');
      return answer.Body;
    } catch (err) {
      if (nameOf(err) === 'NoSuchKey' || statusOf(err) === 404) throw new ObjectNotFoundError(key);
      if (range && (nameOf(err) === 'InvalidRange' || statusOf(err) === 416)) throw new ObjectRangeError(key, range);
      throw this.failure(`reading "${key}"`, err);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const Key = this.objectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (nameOf(err) === 'NotFound' || statusOf(err) === 404) return null;
      throw this.failure(`looking up "${key}"`, err);
    }
  }

  async remove(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw this.failure(`deleting "${key}"`, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.keyPrefix + prefix })) {
        for (const object of page.Contents ?? []) {
          if (!object.Key?.startsWith(this.keyPrefix)) continue;
          yield { key: object.Key.slice(this.keyPrefix.length), size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
        }
      }
    } catch (err) {
      throw this.failure(`listing "${prefix}"`, err);
    }
  }

  async removeInterruptedPuts(before: Date): Promise<number | null> {
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.keyPrefix, KeyMarker, UploadIdMarker }));
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= before) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
          removed += 1;
        }
        if (!page.IsTruncated) return removed;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (err) {
      if (nameOf(err) === 'NotImplemented' || statusOf(err) === 501) return null;
      throw this.failure('listing unfinished multipart uploads', err);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
