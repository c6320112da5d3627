import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@chorus/db';
import { ObjectNotFoundError, readObject, type ObjectStore } from '@chorus/storage';

/** The data directory's scratch space: engines' per-job folders (a prompt WAV is a person's voice). */
export const SCRATCH_DIR = 'scratch';

/** Names the database a store's objects belong to (the same id is kept in the database). */
export const STORAGE_ID_KEY = 'chorus-storage-id';
const STORAGE_ID_SETTING = 'storage.id';

/** Where uploads and outputs live in the store; the sweep looks nowhere else. */
const SWEPT_PREFIXES = ['uploads/', 'outputs/'];

/**
 * In a store several servers write, an object younger than this may be waiting for its row
 * (another server is between its put and its insert), so the sweep keeps it.
 */
export const SHARED_STORE_GRACE_MS = 60 * 60_000;

/**
 * True when this store's objects were written for this database. A data directory or bucket
 * reused with another DATABASE_URL holds objects this database has no rows for, and they are
 * not this database's to delete.
 */
async function storageBelongsToDb(db: Db, store: ObjectStore): Promise<boolean> {
  const stored = await readObject(store, STORAGE_ID_KEY).then(
    (b) => b.toString('utf8').trim(),
    (err: unknown) => (err instanceof ObjectNotFoundError ? null : Promise.reject(err)),
  );
  const inDb = (await db.setting.findUnique({ where: { key: STORAGE_ID_SETTING } }))?.value ?? null;
  if (stored !== null && inDb !== null) return stored === inDb;
  if (stored !== null) return false; // objects from another database, this one is new
  const id = inDb ?? (await claimStorageId(db));
  await store.put(STORAGE_ID_KEY, Buffer.from(`${id}\n`));
  return true;
}

/** A new storage id for this database; servers starting at once on a fresh one all get the id whose insert won. */
async function claimStorageId(db: Db): Promise<string> {
  try {
    return (await db.setting.create({ data: { key: STORAGE_ID_SETTING, value: randomUUID() } })).value;
  } catch (err) {
    // P2002: another server inserted it between our read and our insert.
    if ((err as { code?: unknown }).code !== 'P2002') throw err;
    return (await db.setting.findUniqueOrThrow({ where: { key: STORAGE_ID_SETTING } })).value;
  }
}

export interface LeftoversRemoved {
  /** False when the store belongs to another database: unreferenced objects were kept. */
  ownFiles: boolean;
  /** Per-job scratch folders a killed run left behind. */
  scratch: number;
  /** What interrupted puts left (`.tmp` files, unfinished multipart uploads); null when the store cannot list them. */
  partial: number | null;
  /** Uploads and outputs no database row refers to (a kill between the object and its row). */
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
 * What a kill -9 can leave, removed at start-up, before the port opens and the worker runs:
 * scratch folders in the data directory with copies of reference voices (the instance lock
 * guarantees no other process uses them), half-written objects, and objects whose row was
 * never inserted (only when the store's storage id says its objects are this database's).
 * Objects changed within `graceMs` are kept: in a shared store another server may be about to
 * insert their rows.
 */
export async function removeLeftovers(db: Db, dataDir: string, store: ObjectStore, opts: { graceMs: number; now?: number }): Promise<LeftoversRemoved> {
  // No grace (the data directory under its instance lock): everything there now is from an earlier run.
  const cutoff = opts.graceMs > 0 ? new Date((opts.now ?? Date.now()) - opts.graceMs) : new Date(8.64e15);
  const ownFiles = await storageBelongsToDb(db, store);
  const removed: LeftoversRemoved = { ownFiles, scratch: 0, partial: 0, orphans: 0 };
  const scratch = path.join(dataDir, SCRATCH_DIR);
  for (const name of await entries(scratch)) {
    await fs.rm(path.join(scratch, name), { recursive: true, force: true });
    removed.scratch += 1;
  }
  removed.partial = await store.removeInterruptedPuts(cutoff);
  if (!ownFiles) return removed;

  const uploads = await db.upload.findMany({ select: { originalPath: true, pcmPath: true } });
  const outputs = await db.job.findMany({ where: { outputPath: { not: null } }, select: { outputPath: true } });
  const referenced = new Set<string>([...uploads.flatMap((u) => [u.originalPath, u.pcmPath]), ...outputs.map((j) => j.outputPath!)].map((p) => path.posix.normalize(p)));
  for (const prefix of SWEPT_PREFIXES) {
    for await (const object of store.list(prefix)) {
      if (referenced.has(object.key) || object.modifiedAt >= cutoff) continue;
      await store.remove(object.key);
      removed.orphans += 1;
    }
  }
  return removed;
}
