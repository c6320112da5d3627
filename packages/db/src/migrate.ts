import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { databaseProvider, resolveDatabaseUrl, sqliteFilePath } from './database-url.ts';
import { migratePostgres } from './postgres-migrate.ts';

const run = promisify(execFile);
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sqliteMigrationsDir = path.join(packageRoot, 'prisma', 'migrations');

interface PrismaMigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: string | null;
  rolled_back_at: string | null;
}

/** The committed SQLite migrations, oldest first: name → sha256 of its migration.sql. */
export function sqliteMigrationChecksums(dir = sqliteMigrationsDir): Map<string, string> {
  return new Map(
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
      .map((name) => [name, createHash('sha256').update(fs.readFileSync(path.join(dir, name, 'migration.sql'))).digest('hex')] as const),
  );
}

/**
 * True only when this SQLite file already records every committed migration as finished with
 * the same checksum (sha256 of migration.sql, as Prisma stores it), none failed and none
 * unknown: then `migrate deploy` would change nothing, and its CLI start (~1.5 s) is skipped.
 * Anything else, or any doubt, goes to the CLI, which applies or reports it.
 */
export function sqliteMigrationsUpToDate(file: string, dir = sqliteMigrationsDir): boolean {
  if (!fs.existsSync(file)) return false;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()) return false;
    const rows = db.prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations').all() as PrismaMigrationRow[];
    const local = sqliteMigrationChecksums(dir);
    if (rows.some((r) => !local.has(r.migration_name) || (r.finished_at === null && r.rolled_back_at === null))) return false;
    return [...local].every(([name, checksum]) => rows.some((r) => r.migration_name === name && r.checksum === checksum && r.finished_at !== null && r.rolled_back_at === null));
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * Apply committed migrations before the app touches the DB. SQLite: `prisma migrate deploy`
 * (Prisma's own bookkeeping; with the js engine and the adapter in prisma.config.ts it needs
 * no download; skipped when the file is already up to date). PostgreSQL: our runner over the
 * committed SQL (postgres-migrate.ts says why).
 */
export async function migrateDatabase(rawUrl?: string): Promise<void> {
  const url = resolveDatabaseUrl(rawUrl);
  if (databaseProvider(url) === 'postgresql') {
    await migratePostgres(url);
    return;
  }
  if (sqliteMigrationsUpToDate(sqliteFilePath(url))) return;
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  try {
    await run(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Database migration failed for ${url}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
