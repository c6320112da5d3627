import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeLeftovers } from '../src/storage/leftovers.ts';

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
    expect(await removeLeftovers(db, dataDir)).toEqual({ ownFiles: true, scratch: 0, partial: 0, orphans: 0 });

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

    expect(await removeLeftovers(db, dataDir)).toEqual({ ownFiles: true, scratch: 2, partial: 2, orphans: 2 });
    expect(fs.readdirSync(path.join(dataDir, 'scratch'))).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'uploads')).sort()).toEqual(['aa.pcm.wav', 'aa.wav']);
    expect(fs.readdirSync(path.join(dataDir, 'outputs'))).toEqual(['job_kept.wav']);
    // A second start finds nothing more.
    expect(await removeLeftovers(db, dataDir)).toEqual({ ownFiles: true, scratch: 0, partial: 0, orphans: 0 });
  });

  it('a data directory used with another database keeps the files this one does not know (but not .tmp or scratch)', async () => {
    const dataDir = path.join(root, 'data-a');
    write(dataDir, 'uploads/dd.wav');
    write(dataDir, 'uploads/ee.wav.1234.tmp');
    write(dataDir, 'scratch/command-zzz/prompt.wav');
    // b.db has no rows at all: without the storage id every file would look like an orphan.
    expect(await removeLeftovers(other, dataDir)).toEqual({ ownFiles: false, scratch: 1, partial: 1, orphans: 0 });
    for (const kept of ['uploads/aa.wav', 'uploads/aa.pcm.wav', 'outputs/job_kept.wav', 'uploads/dd.wav']) expect(exists(dataDir, kept), kept).toBe(true);
    expect(exists(dataDir, 'uploads/ee.wav.1234.tmp')).toBe(false);
  });
});
