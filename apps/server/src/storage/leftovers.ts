import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@chorus/db';

/** The data directory's scratch space: engines' per-job folders (a prompt WAV is a person's voice). */
export const SCRATCH_DIR = 'scratch';

/** Names the database a data directory's files belong to (the same id is kept in the database). */
const STORAGE_ID_FILE = 'chorus-storage-id';
const STORAGE_ID_KEY = 'storage.id';

/**
 * True when this data directory's files were written for this database. A data directory
 * reused with another DATABASE_URL holds files this database has no rows for, and they are
 * not this database's to delete.
 */
async function storageBelongsToDb(db: Db, dataDir: string): Promise<boolean> {
  const file = path.join(dataDir, STORAGE_ID_FILE);
  const onDisk = await fs.readFile(file, 'utf8').then((s) => s.trim(), () => null);
  const inDb = (await db.setting.findUnique({ where: { key: STORAGE_ID_KEY } }))?.value ?? null;
  if (onDisk !== null && inDb !== null) return onDisk === inDb;
  if (onDisk !== null) return false; // files from another database, this one is new
  const id = inDb ?? randomUUID();
  if (inDb === null) await db.setting.create({ data: { key: STORAGE_ID_KEY, value: id } });
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, `${id}\n`);
  return true;
}

export interface LeftoversRemoved {
  /** False when the data directory belongs to another database: unreferenced files were kept. */
  ownFiles: boolean;
  /** Per-job scratch folders a killed run left behind. */
  scratch: number;
  /** Half-written files (`*.tmp`) from writes a kill interrupted. */
  partial: number;
  /** Uploads and outputs no database row refers to (a kill between the file and its row). */
  orphans: number;
}

/** Entries of a directory, or none when it does not exist yet. */
async function entries(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * What a kill -9 can leave in the data directory, removed at start-up, before the port opens
 * and the worker runs (the instance lock guarantees no other process is using these files):
 * scratch folders with copies of reference voices, `.tmp` files of interrupted atomic writes,
 * and stored files whose row was never inserted (only when the directory's storage id says
 * its files are this database's).
 */
export async function removeLeftovers(db: Db, dataDir: string): Promise<LeftoversRemoved> {
  const ownFiles = await storageBelongsToDb(db, dataDir);
  const removed: LeftoversRemoved = { ownFiles, scratch: 0, partial: 0, orphans: 0 };
  const scratch = path.join(dataDir, SCRATCH_DIR);
  for (const name of await entries(scratch)) {
    await fs.rm(path.join(scratch, name), { recursive: true, force: true });
    removed.scratch += 1;
  }

  const uploads = await db.upload.findMany({ select: { originalPath: true, pcmPath: true } });
  const outputs = await db.job.findMany({ where: { outputPath: { not: null } }, select: { outputPath: true } });
  const referenced = new Set<string>([...uploads.flatMap((u) => [u.originalPath, u.pcmPath]), ...outputs.map((j) => j.outputPath!)].map((p) => path.normalize(p)));
  for (const folder of ['uploads', 'outputs']) {
    for (const name of await entries(path.join(dataDir, folder))) {
      const relative = path.join(folder, name);
      if (referenced.has(relative)) continue;
      const stat = await fs.lstat(path.join(dataDir, relative));
      const partial = name.endsWith('.tmp');
      if (!stat.isFile() || (!partial && !ownFiles)) continue;
      await fs.rm(path.join(dataDir, relative), { force: true });
      if (partial) removed.partial += 1;
      else removed.orphans += 1;
    }
  }
  return removed;
}
