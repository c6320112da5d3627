import type { Readable } from 'node:stream';

/** An inclusive byte range, as in HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

/** A put's body: bytes in memory, or a stream of unknown length. */
export type ObjectBody = Uint8Array | Readable;

/**
 * Where uploads and job audio live, keyed by the relative paths the database stores
 * (`uploads/<sha256>.wav`, `outputs/<jobId>.wav`). Every method refuses a key that breaks
 * OBJECT_KEY_RULE with an InvalidObjectKeyError. Structurally a `StoredFiles` (packages/api).
 */
export interface ObjectStore {
  /** Names the store for logs: a directory, or `s3://bucket/prefix` and its endpoint; never a credential. */
  readonly location: string;
  /**
   * Several servers may write this store (S3, or a directory named by CHORUS_STORAGE_URL on a
   * shared volume), so the start-up sweep leaves recent objects alone: another server may be
   * about to insert their rows. The data directory's own store is covered by its instance lock.
   */
  readonly shared: boolean;
  /** Store an object atomically: readers see the old object or the whole new one, never part; a failed put leaves nothing. */
  put(key: string, body: ObjectBody): Promise<{ size: number }>;
  /**
   * The object's bytes, or those of `range` (an end past the object is cut at its last byte).
   * Throws ObjectNotFoundError when there is no such object and ObjectRangeError when the
   * range starts at or past its end; both before any byte is read.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size and modification time, or null when there is no such object. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Delete an object; one already gone is not an error. */
  remove(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (in no particular order). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Remove what interrupted puts left (a local store's `.tmp` files, S3's unfinished
   * multipart uploads) that began before `before`; the count, or null when this store
   * cannot list them (an S3-compatible server without ListMultipartUploads).
   */
  removeInterruptedPuts(before: Date): Promise<number | null>;
  /** Release connections; the store is not used afterwards. */
  close(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`No stored object "${key}".`);
  }
}

export class ObjectRangeError extends Error {
  override readonly name = 'ObjectRangeError';
  constructor(
    readonly key: string,
    readonly range: ByteRange,
  ) {
    super(`Bytes ${range.start}-${range.end} are not within stored object "${key}".`);
  }
}

/** The store could not be reached or refused a request; the message says which store and why. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
}

export function assertRange(key: string, range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new ObjectRangeError(key, range);
  }
}

/** A whole object in memory (prompts, the storage id): small objects only. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
