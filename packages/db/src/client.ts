import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/prisma/client.ts';
import { resolveDatabaseUrl, sqliteFilePath } from './database-url.ts';
import { serializedSqlite } from './serialized-sqlite-adapter.ts';

export type Db = PrismaClient;

/** Open the Chorus database through the better-sqlite3 driver adapter (no Rust engine). */
export async function openDb(rawUrl?: string): Promise<Db> {
  const url = resolveDatabaseUrl(rawUrl);
  fs.mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
  // One connection: statements outside a transaction wait for it (serialized-sqlite-adapter.ts).
  const db = new PrismaClient({ adapter: serializedSqlite(new PrismaBetterSQLite3({ url })) });
  // WAL lets the history page read while the worker writes events; busy_timeout rides out
  // brief write contention instead of failing with SQLITE_BUSY.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 5000');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return db;
}
