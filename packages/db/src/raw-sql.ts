import type pg from 'pg';
import { providerOf, type Db } from './client.ts';

export { gatedSqliteOf, type GatedSqlite, type SqliteConnection, type SqliteStatement } from './serialized-sqlite-adapter.ts';
export type PostgresPool = pg.Pool;
export type PostgresPoolClient = pg.PoolClient;

/**
 * A pg Pool of its own to the database a PostgreSQL client talks to, for statements that
 * bypass Prisma (the event log's hot path). `url` wins; without it the connection settings
 * are those the client's @prisma/adapter-pg factory was built with.
 */
export async function openPostgresPool(db: Db, url?: string, max = 4): Promise<PostgresPool> {
  if (providerOf(db) !== 'postgresql') throw new Error('openPostgresPool needs a PostgreSQL client.');
  // @prisma/adapter-pg 6.19.3 keeps its pg PoolConfig in the factory's public `config` (Prisma keeps the factory in _engineConfig).
  const factory = (db as unknown as { _engineConfig?: { adapter?: { config?: pg.PoolConfig } } })._engineConfig?.adapter;
  const config: pg.PoolConfig | undefined = url ? { connectionString: url } : factory?.config;
  if (!config) throw new Error('openPostgresPool: no database URL given and none found on the Prisma client.');
  // Loaded only here, so the embedded default never opens pg.
  const { default: pgModule } = await import('pg');
  // allowExitOnIdle: an idle pool never keeps a process (or a test run) alive on its own.
  const pool = new pgModule.Pool({ ...config, max, allowExitOnIdle: true });
  // An idle client losing its server (restart, a dropped test database) must not crash the process;
  // the next query gets a fresh connection or a clear error.
  pool.on('error', () => undefined);
  return pool;
}
