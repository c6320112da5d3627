import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { shownDatabaseUrl } from './database-url.ts';

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'prisma', 'postgres', 'migrations');
/** Any constant: servers starting together take turns (pg_advisory_lock) instead of racing. */
const MIGRATION_LOCK_KEY = 0x43686f72; // "Chor"

export interface AppliedMigration {
  name: string;
  checksum: string;
}

/** The committed PostgreSQL migrations, oldest first, with their SQL. */
export function postgresMigrations(dir = migrationsDir): { name: string; sql: string; checksum: string }[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Apply the committed PostgreSQL migrations that this database has not seen, one transaction
 * per migration, recorded in "_chorus_migrations". Prisma's own `migrate deploy` cannot run
 * here: through the driver adapter its WASM schema engine fails on Postgres's `name` type
 * (prisma/orm#27403), and the native engine would have to be downloaded.
 */
export async function migratePostgres(url: string, dir = migrationsDir): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`Cannot connect to PostgreSQL at ${shownDatabaseUrl(url)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS "_chorus_migrations" (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Map((await client.query<AppliedMigration>('SELECT name, checksum FROM "_chorus_migrations"')).rows.map((r) => [r.name, r.checksum]));
    for (const migration of postgresMigrations(dir)) {
      const seen = done.get(migration.name);
      if (seen !== undefined) {
        if (seen !== migration.checksum) {
          throw new Error(`PostgreSQL migration ${migration.name} was changed after it was applied to this database (checksum differs); add a new migration instead of editing an applied one.`);
        }
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO "_chorus_migrations" (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`PostgreSQL migration ${migration.name} failed and was rolled back: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
  return applied;
}
