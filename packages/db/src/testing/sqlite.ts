import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, sqliteMigrationChecksums, sqliteMigrationsUpToDate } from '../migrate.ts';

/**
 * Put a migrated SQLite database at `file`: a copy of one that the real `prisma migrate deploy`
 * built once per set of committed migrations (cached in the temp dir, keyed by their
 * checksums). Test servers then find it up to date and skip the CLI (~1.5 s per start);
 * packages/db's own tests still migrate from nothing.
 */
export async function copyMigratedSqlite(file: string): Promise<void> {
  const key = createHash('sha256').update(JSON.stringify([...sqliteMigrationChecksums()])).digest('hex').slice(0, 16);
  const template = path.join(os.tmpdir(), `chorus-migrated-${key}.db`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (sqliteMigrationsUpToDate(template)) {
    try {
      fs.copyFileSync(template, file);
      return;
    } catch (err) {
      // Removed meanwhile (a temp-dir clean-up): build it again below.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const built = `${template}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await migrateDatabase(`file:${built}`);
  fs.copyFileSync(built, file);
  // Atomic: test files building it at the same time each rename a complete copy.
  fs.renameSync(built, template);
}
