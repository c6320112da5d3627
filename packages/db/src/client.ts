import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/prisma/client.ts';
import { databaseProvider, resolveDatabaseUrl, sqliteFilePath, type DatabaseProvider } from './database-url.ts';
import { serializedSqlite } from './serialized-sqlite-adapter.ts';

/**
 * The Chorus database client. Its type is the SQLite client's; the PostgreSQL client is
 * generated from the same models (prisma/postgres is rendered from prisma/schema.prisma), so
 * both have the same model API and the code above packages/db does not care which it holds.
 */
export type Db = PrismaClient;

/** Which database a client talks to (for the few places that write raw SQL); extended clients too. */
export function providerOf(db: Db): DatabaseProvider {
  // Prisma's own record of the schema's provider, kept on every client and its $extends copies.
  const provider = (db as unknown as { _activeProvider?: string })._activeProvider;
  return provider === 'postgresql' ? 'postgresql' : 'sqlite';
}

/** Open the Chorus database through a driver adapter (no Rust engine): SQLite file or PostgreSQL. */
export async function openDb(rawUrl?: string): Promise<Db> {
  const url = resolveDatabaseUrl(rawUrl);
  return databaseProvider(url) === 'postgresql' ? openPostgres(url) : openSqlite(url);
}

async function openSqlite(url: string): Promise<Db> {
  fs.mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
  // One connection: statements outside a transaction wait for it (serialized-sqlite-adapter.ts).
  const db = new PrismaClient({ adapter: serializedSqlite(new PrismaBetterSQLite3({ url })) });
  // WAL lets the history page read while the worker writes events; busy_timeout rides out
  // brief write contention instead of failing with SQLITE_BUSY.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 5000');
  await db.$executeRawUnsafe(`PRAGMA synchronous = ${sqliteSynchronous()}`);
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return db;
}

/**
 * WAL with synchronous=NORMAL (the default here) skips the fsync per commit: a killed
 * process loses nothing committed and the file never corrupts, but a power cut or OS crash
 * may lose the last commits. CHORUS_SQLITE_SYNCHRONOUS=full fsyncs every commit (about
 * 0.16 ms each on this machine, on the event path's critical path).
 */
export function sqliteSynchronous(raw = process.env.CHORUS_SQLITE_SYNCHRONOUS): 'NORMAL' | 'FULL' {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'normal') return 'NORMAL';
  if (value === 'full') return 'FULL';
  throw new Error(`CHORUS_SQLITE_SYNCHRONOUS must be "normal" (the default) or "full", got "${raw}".`);
}

async function openPostgres(url: string): Promise<Db> {
  // Loaded only when asked for, so the embedded default never opens pg.
  const [{ PrismaPg }, { PrismaClient: PostgresClient }] = await Promise.all([import('@prisma/adapter-pg'), import('./generated/postgres/client.ts')]);
  const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) });
  // Same models, same delegates (one model definition); only the provider tag in the types differs.
  return client as unknown as Db;
}
