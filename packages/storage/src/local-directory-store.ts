import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assertKeyPrefix, assertObjectKey, isObjectKey, PARTIAL_SUFFIX } from './object-key.ts';
import { assertRange, ObjectNotFoundError, ObjectRangeError, type ByteRange, type ObjectBody, type ObjectInfo, type ObjectStore } from './object-store.ts';

const MISSING = new Set(['ENOENT', 'ENOTDIR']);
const isMissing = (err: unknown): boolean => MISSING.has((err as NodeJS.ErrnoException).code ?? '');

/**
 * Objects as files under one directory (the data directory by default): a key is a relative
 * path. A put writes `<key>.<uuid>.tmp` next to the target, syncs it and renames it into
 * place, so a reader never sees half a file and a kill leaves only `.tmp` debris.
 */
export class LocalDirectoryStore implements ObjectStore {
  readonly location: string;
  readonly root: string;

  constructor(
    root: string,
    readonly shared = false,
  ) {
    this.root = path.resolve(root);
    this.location = `directory ${this.root}`;
  }

  private fileOf(key: string): string {
    assertObjectKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: ObjectBody): Promise<{ size: number }> {
    const target = this.fileOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}${PARTIAL_SUFFIX}`;
    let handle: FileHandle | null = null;
    try {
      handle = await fs.open(temp, 'wx');
      let size = 0;
      if (body instanceof Uint8Array) {
        await handle.writeFile(body);
        size = body.byteLength;
      } else {
        // Awaiting each write is the back-pressure; a stream error ends the loop with it.
        for await (const chunk of body) {
          const bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
          await handle.write(bytes);
          size += bytes.byteLength;
        }
      }
      await handle.sync();
      await handle.close();
      handle = null;
      await fs.rename(temp, target);
      return { size };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.fileOf(key);
    if (range) assertRange(key, range);
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ObjectNotFoundError(key);
      if (!range) return handle.createReadStream({ autoClose: true });
      if (range.start >= stat.size) throw new ObjectRangeError(key, range);
      return handle.createReadStream({ start: range.start, end: Math.min(range.end, stat.size - 1), autoClose: true });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const stat = await fs.stat(this.fileOf(key));
      return stat.isFile() ? { key, size: stat.size, modifiedAt: stat.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.fileOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash === -1 ? '' : prefix.slice(0, slash), (key) => key.startsWith(prefix), (dirKey) => `${dirKey}/`.startsWith(prefix) || prefix.startsWith(`${dirKey}/`));
  }

  async removeInterruptedPuts(before: Date): Promise<number> {
    let removed = 0;
    for await (const file of this.files('')) {
      if (!file.key.endsWith(PARTIAL_SUFFIX)) continue;
      const stat = await fs.lstat(file.path).catch(() => null);
      if (!stat || stat.mtime >= before) continue;
      await fs.rm(file.path, { force: true });
      removed += 1;
    }
    return removed;
  }

  async close(): Promise<void> {}

  private async *walk(dirKey: string, wanted: (key: string) => boolean, descend: (dirKey: string) => boolean): AsyncIterable<ObjectInfo> {
    for await (const file of this.files(dirKey, descend)) {
      if (!isObjectKey(file.key) || !wanted(file.key)) continue;
      const stat = await fs.stat(file.path).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
      if (stat?.isFile()) yield { key: file.key, size: stat.size, modifiedAt: stat.mtime };
    }
  }

  /** Regular files under a folder (symbolic links are not followed), depth first. */
  private async *files(dirKey: string, descend: (dirKey: string) => boolean = () => true): AsyncIterable<{ key: string; path: string }> {
    const dir = dirKey === '' ? this.root : path.join(this.root, ...dirKey.split('/'));
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        if (descend(key)) yield* this.files(key, descend);
      } else if (entry.isFile()) {
        yield { key, path: path.join(dir, entry.name) };
      }
    }
  }
}
