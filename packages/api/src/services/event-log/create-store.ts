import { gatedSqliteOf, openPostgresPool, providerOf, type Db } from '@chorus/db';
import { PostgresEventLogStore } from './postgres-store.ts';
import { SqliteEventLogStore } from './sqlite-store.ts';
import type { EventLogStore } from './store.ts';

/**
 * The event log's store for a client from openDb: on SQLite, Prisma's own connection behind
 * its gate; on PostgreSQL, a small pg Pool of its own to `databaseUrl` (by default the
 * database the client was opened on). Close it (JobEventLog.close) before db.$disconnect().
 */
export function createEventLogStore(db: Db, databaseUrl?: string): EventLogStore {
  if (providerOf(db) === 'postgresql') return new LazyStore(openPostgresPool(db, databaseUrl).then((pool) => new PostgresEventLogStore(pool)));
  const sqlite = gatedSqliteOf(db);
  if (!sqlite) throw new Error('The event log needs a SQLite client opened by openDb (@chorus/db): it writes on that client\'s connection.');
  return new SqliteEventLogStore(sqlite);
}

/** A store whose driver loads asynchronously (pg is imported only when PostgreSQL is used). */
class LazyStore implements EventLogStore {
  constructor(private readonly store: Promise<EventLogStore>) {
    // A failure is reported by the first call that needs the store.
    store.catch(() => undefined);
  }

  async appendBatch(...args: Parameters<EventLogStore['appendBatch']>): ReturnType<EventLogStore['appendBatch']> {
    return (await this.store).appendBatch(...args);
  }

  async read(...args: Parameters<EventLogStore['read']>): ReturnType<EventLogStore['read']> {
    return (await this.store).read(...args);
  }

  async close(): Promise<void> {
    const store = await this.store.catch(() => null);
    await store?.close();
  }
}
