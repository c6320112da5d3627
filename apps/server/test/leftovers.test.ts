import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { LocalDirectoryStore, openObjectStore, storageConfigFromEnv, type ObjectStore } from '@chorus/storage';
import { startS3StandIn } from '@chorus/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeLeftovers } from '../src/storage/leftovers.ts';

/** The embedded default: the data directory is the store, under the instance lock (no grace). */
const sweepDataDir = (db: Db, dataDir: string) => removeLeftovers(db, dataDir, new LocalDirectoryStore(dataDir), { graceMs: 0 });

/**
 * The databases of replicas starting at the same moment: each one's read of the storage id
 * answers only once all have read it, so all see "none yet" before any inserts one.
 */
function meetingAtStorageIdRead(dbs: Db[]): Db[] {
  const met: (() => void)[] = [];
  const meet = (): Promise<void> =>
    new Promise((resolve) => {
      met.push(resolve);
      if (met.length === dbs.length) for (const go of met) go();
    });
  return dbs.map(
    (d) =>
      new Proxy(d, {
        get: (target, prop) =>
          prop !== 'setting'
            ? Reflect.get(target, prop)
            : new Proxy(target.setting, {
                get: (setting, method) =>
                  method !== 'findUnique' || met.length >= dbs.length
                    ? Reflect.get(setting, method)
                    : async (args: Parameters<Db['setting']['findUnique']>[0]) => {
                        const row = await setting.findUnique(args);
                        await meet();
                        return row;
                      },
              }),
      }),
  );
}

/** What a kill -9 leaves behind, on a real SQLite file and a real data directory. */
describe('start-up removes what an interrupted run left in the data directory', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-leftovers-'));
  let db: Db;
  let other: Db;

  beforeAll(async () => {
    await migrateDatabase(`file:${path.join(root, 'a.db')}`);
    await migrateDatabase(`file:${path.join(root, 'b.db')}`);
    db = await openDb(`file:${path.join(root, 'a.db')}`);
    other = await openDb(`file:${path.join(root, 'b.db')}`);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await other?.$disconnect();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const write = (dataDir: string, relative: string, text = 'x'): void => {
    fs.mkdirSync(path.dirname(path.join(dataDir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dataDir, relative), text);
  };
  const exists = (dataDir: string, relative: string): boolean => fs.existsSync(path.join(dataDir, relative));

  it('scratch folders (copies of voices), .tmp files and files without a row go; referenced files stay', async () => {
    const dataDir = path.join(root, 'data-a');
    // First start on this data directory: nothing to clean, and it is claimed for this database.
    expect(await sweepDataDir(db, dataDir)).toEqual({ ownFiles: true, scratch: 0, partial: 0, orphans: 0 });

    await db.upload.create({
      data: { id: 'upl_kept', sha256: 'aa', format: 'wav', sampleRate: 24000, channels: 1, durationMs: 3000, sizeBytes: 1, originalPath: 'uploads/aa.wav', pcmPath: 'uploads/aa.pcm.wav' },
    });
    await db.job.create({ data: { id: 'job_kept', mode: 'pretrained', text: 't', seed: 1, engineId: 'builtin', engineVersion: '1', status: 'succeeded', outputPath: 'outputs/job_kept.wav' } });
    for (const kept of ['uploads/aa.wav', 'uploads/aa.pcm.wav', 'outputs/job_kept.wav']) write(dataDir, kept);
    write(dataDir, 'scratch/command-abc123/prompt.wav', 'a person’s voice');
    write(dataDir, 'scratch/command-def456/output.wav');
    write(dataDir, 'uploads/bb.wav.5f0c.tmp');
    write(dataDir, 'outputs/job_x.wav.77aa.tmp');
    write(dataDir, 'uploads/cc.flac'); // written, then killed before its row
    write(dataDir, 'outputs/job_gone.wav');

    expect(await sweepDataDir(db, dataDir)).toEqual({ ownFiles: true, scratch: 2, partial: 2, orphans: 2 });
    expect(fs.readdirSync(path.join(dataDir, 'scratch'))).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'uploads')).sort()).toEqual(['aa.pcm.wav', 'aa.wav']);
    expect(fs.readdirSync(path.join(dataDir, 'outputs'))).toEqual(['job_kept.wav']);
    // A second start finds nothing more.
    expect(await sweepDataDir(db, dataDir)).toEqual({ ownFiles: true, scratch: 0, partial: 0, orphans: 0 });
  });

  it('a data directory used with another database keeps the files this one does not know (but not .tmp or scratch)', async () => {
    const dataDir = path.join(root, 'data-a');
    write(dataDir, 'uploads/dd.wav');
    write(dataDir, 'uploads/ee.wav.1234.tmp');
    write(dataDir, 'scratch/command-zzz/prompt.wav');
    // b.db has no rows at all: without the storage id every file would look like an orphan.
    expect(await sweepDataDir(other, dataDir)).toEqual({ ownFiles: false, scratch: 1, partial: 1, orphans: 0 });
    for (const kept of ['uploads/aa.wav', 'uploads/aa.pcm.wav', 'outputs/job_kept.wav', 'uploads/dd.wav']) expect(exists(dataDir, kept), kept).toBe(true);
    expect(exists(dataDir, 'uploads/ee.wav.1234.tmp')).toBe(false);
  });

  it('servers starting at once on a fresh database and one shared store all claim it, under one storage id', async () => {
    await migrateDatabase(`file:${path.join(root, 'fresh.db')}`);
    const fresh = [await openDb(`file:${path.join(root, 'fresh.db')}`), await openDb(`file:${path.join(root, 'fresh.db')}`)];
    try {
      const shared = new LocalDirectoryStore(path.join(root, 'shared-media'));
      // Both read "no id yet" before either inserts it (the race a second replica's start used to lose with a unique violation).
      const swept = await Promise.all(meetingAtStorageIdRead(fresh).map((d, i) => removeLeftovers(d, path.join(root, `replica-${i}`), shared, { graceMs: 3600_000 })));
      expect(swept.map((r) => r.ownFiles)).toEqual([true, true]);
      const id = (await fresh[0]!.setting.findUniqueOrThrow({ where: { key: 'storage.id' } })).value;
      expect(fs.readFileSync(path.join(root, 'shared-media', 'chorus-storage-id'), 'utf8').trim()).toBe(id);
      // And a later start still knows the store as this database's.
      expect((await removeLeftovers(fresh[1]!, path.join(root, 'replica-1'), shared, { graceMs: 3600_000 })).ownFiles).toBe(true);
    } finally {
      for (const d of fresh) await d.$disconnect();
    }
  });
});

/**
 * The same rules on object storage, against a local S3-compatible server (a stand-in for real
 * S3; see @chorus/storage/testing): the storage id is an object, and objects changed within
 * the grace period are kept, since another server sharing the bucket may be about to insert their rows.
 */
describe('start-up sweep of an S3 store', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-leftovers-s3-'));
  let s3: Awaited<ReturnType<typeof startS3StandIn>>;
  let db: Db;
  let other: Db;
  let store: ObjectStore;
  const HOUR = 3600_000;

  beforeAll(async () => {
    s3 = await startS3StandIn();
    await migrateDatabase(`file:${path.join(root, 'c.db')}`);
    await migrateDatabase(`file:${path.join(root, 'd.db')}`);
    db = await openDb(`file:${path.join(root, 'c.db')}`);
    other = await openDb(`file:${path.join(root, 'd.db')}`);
    store = await openObjectStore(storageConfigFromEnv(s3.env('sweep'), path.join(root, 'data')));
  });
  afterAll(async () => {
    await store?.close();
    await db?.$disconnect();
    await other?.$disconnect();
    await s3?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('claims the bucket prefix with a chorus-storage-id object, keeps recent orphans, removes old ones, never referenced ones', async () => {
    const dataDir = path.join(root, 'data');
    expect(await removeLeftovers(db, dataDir, store, { graceMs: HOUR })).toEqual({ ownFiles: true, scratch: 0, partial: null, orphans: 0 });
    const id = (await db.setting.findUnique({ where: { key: 'storage.id' } }))?.value;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await s3.keys()).toEqual(['sweep/chorus-storage-id']);

    await db.upload.create({
      data: { id: 'upl_kept', sha256: 'aa', format: 'wav', sampleRate: 24000, channels: 1, durationMs: 3000, sizeBytes: 1, originalPath: 'uploads/aa.wav', pcmPath: 'uploads/aa.pcm.wav' },
    });
    await db.job.create({ data: { id: 'job_kept', mode: 'pretrained', text: 't', seed: 1, engineId: 'builtin', engineVersion: '1', status: 'succeeded', outputPath: 'outputs/job_kept.wav' } });
    for (const key of ['uploads/aa.wav', 'uploads/aa.pcm.wav', 'outputs/job_kept.wav', 'uploads/cc.flac', 'outputs/job_gone.wav']) await store.put(key, Buffer.from('x'));

    // Just written: perhaps another server's, whose row is not committed yet.
    expect(await removeLeftovers(db, dataDir, store, { graceMs: HOUR })).toEqual({ ownFiles: true, scratch: 0, partial: null, orphans: 0 });
    expect(await s3.keys()).toHaveLength(6);
    // Two hours on, the same objects without rows are debris.
    expect(await removeLeftovers(db, dataDir, store, { graceMs: HOUR, now: Date.now() + 2 * HOUR })).toEqual({ ownFiles: true, scratch: 0, partial: null, orphans: 2 });
    expect(await s3.keys()).toEqual(['sweep/chorus-storage-id', 'sweep/outputs/job_kept.wav', 'sweep/uploads/aa.pcm.wav', 'sweep/uploads/aa.wav']);
  });

  it('a bucket prefix used with another database keeps the objects this one does not know', async () => {
    await store.put('uploads/dd.wav', Buffer.from('someone else’s voice'));
    expect(await removeLeftovers(other, path.join(root, 'data'), store, { graceMs: HOUR, now: Date.now() + 2 * HOUR })).toEqual({ ownFiles: false, scratch: 0, partial: null, orphans: 0 });
    expect(await s3.keys()).toContain('sweep/uploads/dd.wav');
  });
});
