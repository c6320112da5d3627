import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidObjectKeyError, ObjectNotFoundError, ObjectRangeError, readObject, type ObjectInfo, type ObjectStore } from '../src/index.ts';

export interface ContractTarget {
  store: ObjectStore;
  /** Everything the backing storage holds for this store, read around the store (files on disk, keys in the bucket). */
  raw(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const bytes = (n: number, seed = 1): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

/** A stream that sends `good` bytes in 64 KiB chunks and then fails, like a client that hangs up mid-upload. */
function failingStream(good: number, message: string): Readable {
  const data = bytes(good, 7);
  return Readable.from(
    (async function* () {
      for (let o = 0; o < data.length; o += 65536) yield data.subarray(o, o + 65536);
      throw new Error(message);
    })(),
  );
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

async function readRange(store: ObjectStore, key: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key, { start, end })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The ObjectStore contract, run against every implementation with the same assertions. */
export function describeObjectStoreContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const withStore = (fn: (t: ContractTarget) => Promise<void>) => async () => {
      const target = await open();
      try {
        await fn(target);
      } finally {
        await target.cleanup();
      }
    };

    it(
      'puts from a buffer and from a stream, gets the same bytes back, stats the size, overwrites whole',
      withStore(async ({ store }) => {
        const a = bytes(1000);
        expect(await store.put('uploads/abc.wav', a)).toEqual({ size: 1000 });
        expect((await readObject(store, 'uploads/abc.wav')).equals(a)).toBe(true);
        const stat = await store.stat('uploads/abc.wav');
        expect(stat?.size).toBe(1000);
        expect(stat?.key).toBe('uploads/abc.wav');

        const parts = [bytes(70_000, 2), bytes(3, 3), bytes(100_000, 4)];
        expect(await store.put('outputs/job_1.wav', Readable.from(parts))).toEqual({ size: 170_003 });
        expect((await readObject(store, 'outputs/job_1.wav')).equals(Buffer.concat(parts))).toBe(true);

        const b = bytes(10, 9);
        await store.put('uploads/abc.wav', b);
        expect((await readObject(store, 'uploads/abc.wav')).equals(b)).toBe(true);
        expect((await store.stat('uploads/abc.wav'))?.size).toBe(10);

        await store.put('uploads/empty.wav', new Uint8Array(0));
        expect((await readObject(store, 'uploads/empty.wav')).length).toBe(0);
      }),
    );

    it(
      'gets byte ranges: inclusive, an end past the object cut at its last byte, a start past it refused',
      withStore(async ({ store }) => {
        const data = bytes(5000);
        await store.put('outputs/job_r.wav', data);
        expect((await readRange(store, 'outputs/job_r.wav', 0, 11)).equals(data.subarray(0, 12))).toBe(true);
        expect((await readRange(store, 'outputs/job_r.wav', 4990, 4999)).equals(data.subarray(4990))).toBe(true);
        expect((await readRange(store, 'outputs/job_r.wav', 4995, 10_000)).equals(data.subarray(4995))).toBe(true);
        expect((await readRange(store, 'outputs/job_r.wav', 7, 7)).equals(data.subarray(7, 8))).toBe(true);
        await expect(store.get('outputs/job_r.wav', { start: 5000, end: 5010 })).rejects.toBeInstanceOf(ObjectRangeError);
        await expect(store.get('outputs/job_r.wav', { start: 9, end: 3 })).rejects.toBeInstanceOf(ObjectRangeError);
        await expect(store.get('outputs/job_r.wav', { start: -1, end: 3 })).rejects.toBeInstanceOf(ObjectRangeError);
      }),
    );

    it(
      'a missing object: get throws ObjectNotFoundError, stat is null, remove is fine; remove really removes',
      withStore(async ({ store, raw }) => {
        await expect(store.get('outputs/none.wav')).rejects.toBeInstanceOf(ObjectNotFoundError);
        await expect(store.get('outputs/none.wav', { start: 0, end: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect(await store.stat('outputs/none.wav')).toBeNull();
        await store.remove('outputs/none.wav');
        await store.put('outputs/gone.wav', bytes(5));
        await store.remove('outputs/gone.wav');
        expect(await store.stat('outputs/gone.wav')).toBeNull();
        await expect(store.get('outputs/gone.wav')).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect((await raw()).filter((k) => k.includes('gone'))).toEqual([]);
      }),
    );

    it(
      'lists by prefix with sizes, and nothing outside the prefix',
      withStore(async ({ store }) => {
        await store.put('uploads/aa.wav', bytes(3));
        await store.put('uploads/aa.pcm.wav', bytes(4));
        await store.put('uploadsx/zz.wav', bytes(5));
        await store.put('outputs/job_a.wav', bytes(6));
        await store.put('chorus-storage-id', Buffer.from('id\n'));
        expect((await collect(store.list('uploads/'))).map((o) => [o.key, o.size])).toEqual([
          ['uploads/aa.pcm.wav', 4],
          ['uploads/aa.wav', 3],
        ]);
        expect((await collect(store.list('outputs/'))).map((o) => o.key)).toEqual(['outputs/job_a.wav']);
        expect((await collect(store.list('uploads/aa.p'))).map((o) => o.key)).toEqual(['uploads/aa.pcm.wav']);
        expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['chorus-storage-id', 'outputs/job_a.wav', 'uploads/aa.pcm.wav', 'uploads/aa.wav', 'uploadsx/zz.wav']);
        expect(await collect(store.list('nothing/'))).toEqual([]);
        for (const info of await collect(store.list(''))) expect(info.modifiedAt.getTime()).toBeGreaterThan(Date.UTC(2020, 0, 1));
      }),
    );

    it(
      'a put whose stream fails leaves nothing visible: no new object, and an existing one unchanged',
      withStore(async ({ store, raw }) => {
        await expect(store.put('uploads/new.wav', failingStream(200_000, 'client hung up'))).rejects.toThrow('client hung up');
        expect(await store.stat('uploads/new.wav')).toBeNull();
        expect(await collect(store.list('uploads/'))).toEqual([]);

        const old = bytes(1234);
        await store.put('uploads/old.wav', old);
        await expect(store.put('uploads/old.wav', failingStream(100_000, 'client hung up again'))).rejects.toThrow('client hung up again');
        expect((await readObject(store, 'uploads/old.wav')).equals(old)).toBe(true);
        expect(await raw()).toEqual(['uploads/old.wav']);
      }),
    );

    it(
      'a stream larger than one upload part that fails midway leaves nothing visible; one that ends is whole',
      withStore(async ({ store, raw }) => {
        await expect(store.put('outputs/big.wav', failingStream(9 * 1024 * 1024 + 5, 'engine died'))).rejects.toThrow('engine died');
        expect(await store.stat('outputs/big.wav')).toBeNull();
        expect(await raw()).toEqual([]);
        const big = bytes(9 * 1024 * 1024 + 17, 5);
        const chunks: Buffer[] = [];
        for (let o = 0; o < big.length; o += 1 << 20) chunks.push(big.subarray(o, o + (1 << 20)));
        expect(await store.put('outputs/big.wav', Readable.from(chunks))).toEqual({ size: big.length });
        expect((await readObject(store, 'outputs/big.wav')).equals(big)).toBe(true);
        expect((await readRange(store, 'outputs/big.wav', 8 * 1024 * 1024 - 3, 8 * 1024 * 1024 + 3)).equals(big.subarray(8 * 1024 * 1024 - 3, 8 * 1024 * 1024 + 4))).toBe(true);
      }),
    );

    it(
      'refuses keys that could leave the store or be mistaken for something else, before touching storage',
      withStore(async ({ store, raw }) => {
        const bad = ['../x', 'uploads/../../x', 'uploads/..', './x', '/etc/passwd', 'a//b', 'a/', '', 'with space.wav', 'ümlaut.wav', '.hidden', 'uploads/x.wav.tmp', 'a\\b', 'a%2Fb', 'nul\0byte', '-rf', 'x'.repeat(513)];
        for (const key of bad) {
          await expect(store.put(key, bytes(1)), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.stat(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.remove(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
        }
        for (const prefix of ['../', 'uploads/../', '/abs', 'a b']) {
          await expect(collect(store.list(prefix)), prefix).rejects.toBeInstanceOf(InvalidObjectKeyError);
        }
        expect(await raw()).toEqual([]);
        // The rule's allowed characters do work.
        await store.put('A-z_0.9/x.Y-z_1', bytes(2));
        expect((await store.stat('A-z_0.9/x.Y-z_1'))?.size).toBe(2);
      }),
    );
  });
}
