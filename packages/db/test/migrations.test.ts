// Migrations for both databases come from one model definition (prisma/schema.prisma): the
// committed migrations must build exactly the schema Prisma derives from the current model.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateDatabase, migratePostgres, openDb } from '../src/index.ts';
import { sqliteMigrationChecksums, sqliteMigrationsUpToDate } from '../src/migrate.ts';
import { copyMigratedSqlite, createTestPostgresDatabase, type TestPostgresDatabase } from '../src/testing/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-db-test-'));
const prisma = path.join(root, 'node_modules', '.bin', 'prisma');

/** The DDL Prisma derives from a schema file, from nothing. */
function fromEmpty(config: string, schema: string): string {
  return execFileSync(prisma, ['migrate', 'diff', '--config', config, '--from-empty', '--to-schema-datamodel', schema, '--script'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: `file:${path.join(tmp, 'cli.db')}`, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  }).replace(/DEFAULT (\[\]|\{\})/g, "DEFAULT '$1'");
}

const dropped: TestPostgresDatabase[] = [];
afterAll(async () => {
  await Promise.all(dropped.map((d) => d.drop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function postgresShape(url: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const columns = await c.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_chorus_migrations' ORDER BY table_name, column_name`,
    );
    const indexes = await c.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_chorus_migrations' ORDER BY indexname`);
    const constraints = await c.query(
      `SELECT conrelid::regclass::text AS tbl, conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_chorus_migrations' ORDER BY 1, 2`,
    );
    return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
  } finally {
    await c.end();
  }
}

function sqliteShape(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    return tables.map((t) => ({
      table: t,
      columns: db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY name`).all(t),
      indexes: (db.prepare(`SELECT name, "unique" FROM pragma_index_list(?) ORDER BY name`).all(t) as { name: string; unique: number }[]).map((i) => ({
        ...i,
        columns: db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(i.name),
      })),
      foreignKeys: db.prepare(`SELECT "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY "from"`).all(t),
    }));
  } finally {
    db.close();
  }
}

describe('PostgreSQL migrations', () => {
  it('build the same schema as the current model', async () => {
    const migrated = await createTestPostgresDatabase();
    const direct = await createTestPostgresDatabase({ migrate: false });
    dropped.push(migrated, direct);
    const c = new pg.Client({ connectionString: direct.url });
    await c.connect();
    await c.query(fromEmpty('prisma.postgres.config.ts', path.join(root, 'prisma', 'postgres', 'schema.prisma')));
    await c.end();
    expect(await postgresShape(migrated.url)).toEqual(await postgresShape(direct.url));
  });

  it('apply once: a second run applies nothing, and two servers starting together both succeed', async () => {
    const db = await createTestPostgresDatabase({ migrate: false });
    dropped.push(db);
    const [a, b] = await Promise.all([migratePostgres(db.url), migratePostgres(db.url)]);
    expect([...a, ...b].sort()).toEqual(fs.readdirSync(path.join(root, 'prisma', 'postgres', 'migrations')).sort());
    expect(await migratePostgres(db.url)).toEqual([]);
  });

  it('refuse a migration edited after it was applied, and roll back a failing one', async () => {
    const db = await createTestPostgresDatabase();
    dropped.push(db);
    const dir = path.join(tmp, 'edited');
    fs.cpSync(path.join(root, 'prisma', 'postgres', 'migrations'), dir, { recursive: true });
    const first = fs.readdirSync(dir).sort()[0]!;
    fs.appendFileSync(path.join(dir, first, 'migration.sql'), '\n-- edited\n');
    await expect(migratePostgres(db.url, dir)).rejects.toThrow(/changed after it was applied/);
    const broken = path.join(tmp, 'broken');
    fs.cpSync(path.join(root, 'prisma', 'postgres', 'migrations'), broken, { recursive: true });
    fs.mkdirSync(path.join(broken, '99990101000000_broken'));
    fs.writeFileSync(path.join(broken, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE "Half" (id INT);\nSELECT no_such_function();');
    await expect(migratePostgres(db.url, broken)).rejects.toThrow(/99990101000000_broken failed and was rolled back/);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    expect((await c.query(`SELECT to_regclass('public."Half"') AS t`)).rows[0].t).toBeNull();
    await c.end();
  });

  it('hold seeds over the whole 0–4294967295 range and JSON natively', async () => {
    const pgdb = await createTestPostgresDatabase();
    dropped.push(pgdb);
    const db = await openDb(pgdb.url);
    try {
      for (const seed of [0, 2147483647, 2147483648, 4294967295]) {
        await db.job.create({ data: { id: `j${seed}`, mode: 'pretrained', text: 't', seed, engineId: 'e', engineVersion: 'v', status: 'queued' } });
      }
      expect((await db.job.findMany({ orderBy: { seed: 'asc' } })).map((j) => j.seed)).toEqual([0, 2147483647, 2147483648, 4294967295]);
      await db.jobEvent.create({ data: { jobId: 'j0', seq: 1, type: 'log', payload: { type: 'log', message: 'hi' } } });
      const c = new pg.Client({ connectionString: pgdb.url });
      await c.connect();
      const row = (await c.query(`SELECT pg_typeof(payload)::text AS t, payload->>'message' AS m FROM "JobEvent"`)).rows[0];
      await c.end();
      expect(row).toEqual({ t: 'jsonb', m: 'hi' });
    } finally {
      await db.$disconnect();
    }
  });
});

describe('SQLite migrations', () => {
  it('build the same schema as the current model', async () => {
    const migrated = path.join(tmp, 'migrated.db');
    await migrateDatabase(`file:${migrated}`);
    const direct = path.join(tmp, 'direct.db');
    const d = new Database(direct);
    d.exec(fromEmpty('prisma.config.ts', path.join(root, 'prisma', 'schema.prisma')));
    d.close();
    expect(sqliteShape(migrated)).toEqual(sqliteShape(direct));
  });

  it('hold the seed range too', async () => {
    const url = `file:${path.join(tmp, 'seeds.db')}`;
    await migrateDatabase(url);
    const db = await openDb(url);
    try {
      await db.job.create({ data: { id: 'j', mode: 'pretrained', text: 't', seed: 4294967295, engineId: 'e', engineVersion: 'v', status: 'queued' } });
      expect((await db.job.findUniqueOrThrow({ where: { id: 'j' } })).seed).toBe(4294967295);
    } finally {
      await db.$disconnect();
    }
  });

  it('skip the CLI only for a file that records every committed migration, finished, with its checksum', async () => {
    const file = path.join(tmp, 'up-to-date.db');
    expect(sqliteMigrationsUpToDate(file)).toBe(false);
    await migrateDatabase(`file:${file}`);
    expect(sqliteMigrationsUpToDate(file)).toBe(true);
    const names = [...sqliteMigrationChecksums().keys()];
    expect(names).toEqual(fs.readdirSync(path.join(root, 'prisma', 'migrations')).filter((n) => n !== 'migration_lock.toml').sort());
    /** A copy of the migrated file with one change to Prisma's bookkeeping. */
    const altered = (name: string, sql: string): string => {
      const copy = path.join(tmp, `${name}.db`);
      fs.copyFileSync(file, copy);
      const db = new Database(copy);
      db.prepare(sql).run(names.at(-1));
      db.close();
      return copy;
    };
    expect(sqliteMigrationsUpToDate(altered('missing', 'DELETE FROM _prisma_migrations WHERE migration_name = ?'))).toBe(false);
    expect(sqliteMigrationsUpToDate(altered('edited', "UPDATE _prisma_migrations SET checksum = 'x' WHERE migration_name = ?"))).toBe(false);
    expect(sqliteMigrationsUpToDate(altered('failed', 'UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = ?'))).toBe(false);
    expect(sqliteMigrationsUpToDate(altered('unknown', "UPDATE _prisma_migrations SET migration_name = migration_name || '_gone' WHERE migration_name = ?"))).toBe(false);
    // A failed migration is not skipped: the CLI reports it.
    await expect(migrateDatabase(`file:${path.join(tmp, 'failed.db')}`)).rejects.toThrow(/Database migration failed/);
    const garbage = path.join(tmp, 'garbage.db');
    fs.writeFileSync(garbage, 'not a database');
    expect(sqliteMigrationsUpToDate(garbage)).toBe(false);
  });

  it('copy a migrated database for tests that is the same schema and up to date', async () => {
    const copy = path.join(tmp, 'copies', 'copy.db');
    await copyMigratedSqlite(copy);
    expect(sqliteMigrationsUpToDate(copy)).toBe(true);
    expect(sqliteShape(copy)).toEqual(sqliteShape(path.join(tmp, 'up-to-date.db')));
  });
});
