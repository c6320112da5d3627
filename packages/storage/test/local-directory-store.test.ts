import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirectoryStore, type ObjectInfo } from '../src/index.ts';
import { describeObjectStoreContract } from './object-store-contract.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-store-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every file under a directory, as "/"-separated relative paths. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .sort();
}

async function keysOf(listing: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of listing) keys.push(info.key);
  return keys.sort();
}

let n = 0;
describeObjectStoreContract('local directory', async () => {
  const dir = path.join(root, `store-${++n}`);
  return { store: new LocalDirectoryStore(dir), raw: async () => filesUnder(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

describe('local directory store', () => {
  it('keeps objects as plain files at their key under the root (the data directory layout the database points at)', async () => {
    const dir = path.join(root, 'layout');
    const store = new LocalDirectoryStore(dir);
    await store.put('uploads/ab.wav', Buffer.from('voice'));
    expect(fs.readFileSync(path.join(dir, 'uploads', 'ab.wav'), 'utf8')).toBe('voice');
    fs.writeFileSync(path.join(dir, 'uploads', 'cd.wav'), 'written before the store existed');
    expect((await store.stat('uploads/cd.wav'))?.size).toBe(32);
    expect(store.location).toBe(`directory ${dir}`);
  });

  it('removes .tmp files of interrupted puts older than the cut-off, anywhere under the root, and nothing else', async () => {
    const dir = path.join(root, 'debris');
    const store = new LocalDirectoryStore(dir);
    await store.put('uploads/kept.wav', Buffer.from('k'));
    const debris = ['uploads/x.wav.5f0c.tmp', 'outputs/job_x.wav.77aa.tmp', 'chorus-storage-id.1234.tmp'];
    const old = new Date(Date.now() - 3600_000);
    for (const rel of debris) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), 'half');
      fs.utimesSync(path.join(dir, rel), old, old);
    }
    fs.writeFileSync(path.join(dir, 'uploads', 'recent.wav.9999.tmp'), 'another server is writing this');
    expect(await store.removeInterruptedPuts(new Date(Date.now() - 60_000))).toBe(3);
    expect(filesUnder(dir)).toEqual(['uploads/kept.wav', 'uploads/recent.wav.9999.tmp']);
    // .tmp files are never listed as objects.
    expect((await keysOf(store.list('uploads/')))).toEqual(['uploads/kept.wav']);
  });

  it('does not follow a symbolic link out of the root when listing', async () => {
    const dir = path.join(root, 'links');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(path.join(dir, 'uploads'), { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.wav'), 's');
    fs.symlinkSync(outside, path.join(dir, 'uploads', 'elsewhere'));
    fs.symlinkSync(path.join(outside, 'secret.wav'), path.join(dir, 'uploads', 'link.wav'));
    const store = new LocalDirectoryStore(dir);
    expect(await keysOf(store.list('uploads/'))).toEqual([]);
  });
});
