import type { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Mutex } from 'async-mutex';
import Database from 'better-sqlite3';

/** The better-sqlite3 connection Prisma's adapter holds (the only one to the file). */
export type SqliteConnection = Database.Database;
/** A prepared statement taking positional values. */
export type SqliteStatement = Database.Statement<unknown[]>;

type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;
type SqliteTransaction = Awaited<ReturnType<SqliteAdapter['startTransaction']>>;
type SqlQuery = Parameters<SqliteAdapter['queryRaw']>[0];

/**
 * better-sqlite3 is one connection, and Prisma's adapter only makes transactions wait for
 * each other: a plain query sent while an interactive transaction awaits between its
 * statements would run inside that transaction (a dirty read, or a write lost with its
 * rollback). This wrapper puts every statement outside a transaction behind the same gate a
 * transaction holds from BEGIN to COMMIT/ROLLBACK.
 */
class SerializedSqliteAdapter implements SqliteAdapter {
  readonly provider: SqliteAdapter['provider'];
  readonly adapterName: string;
  private readonly gate = new Mutex();
  /** better-sqlite3's Database inside Prisma's adapter, for statements that bypass Prisma. */
  readonly connection: SqliteConnection;

  constructor(
    private readonly inner: SqliteAdapter,
    private readonly onDispose: () => void,
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
    this.connection = connectionOf(inner);
  }

  /**
   * Run `work` synchronously on the connection behind the same gate as Prisma's statements
   * and transactions, so it never lands inside an open Prisma transaction (or the reverse).
   */
  exclusive<T>(work: (connection: SqliteConnection) => T): Promise<T> {
    return this.gate.runExclusive(() => work(this.connection));
  }

  queryRaw(query: SqlQuery): ReturnType<SqliteAdapter['queryRaw']> {
    return this.gate.runExclusive(() => this.inner.queryRaw(query));
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.gate.runExclusive(() => this.inner.executeRaw(query));
  }

  executeScript(script: string): Promise<void> {
    return this.gate.runExclusive(() => this.inner.executeScript(script));
  }

  async startTransaction(isolationLevel?: Parameters<SqliteAdapter['startTransaction']>[0]): Promise<SqliteTransaction> {
    const release = await this.gate.acquire();
    try {
      return holdGateUntilEnd(await this.inner.startTransaction(isolationLevel), release);
    } catch (err) {
      release();
      throw err;
    }
  }

  getConnectionInfo(): ReturnType<NonNullable<SqliteAdapter['getConnectionInfo']>> {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }

  dispose(): Promise<void> {
    this.onDispose();
    return this.inner.dispose();
  }
}

/**
 * @prisma/adapter-better-sqlite3 6.19.3 keeps its better-sqlite3 Database in a public (but
 * undeclared) `client` field; checked here so a Prisma upgrade that moves it fails loudly.
 */
function connectionOf(adapter: SqliteAdapter): SqliteConnection {
  const client: unknown = (adapter as unknown as { client?: unknown }).client;
  if (!(client instanceof Database)) {
    throw new Error('@prisma/adapter-better-sqlite3 no longer exposes its better-sqlite3 connection as `client`; the event log needs it (packages/db/src/serialized-sqlite-adapter.ts).');
  }
  return client;
}

/** The transaction's own statements go straight through; ending it opens the gate once. */
function holdGateUntilEnd(tx: SqliteTransaction, release: () => void): SqliteTransaction {
  let open = true;
  const end = async (finish: () => Promise<void>): Promise<void> => {
    try {
      await finish();
    } finally {
      if (open) {
        open = false;
        release();
      }
    }
  };
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => tx.queryRaw(query),
    executeRaw: (query) => tx.executeRaw(query),
    commit: () => end(() => tx.commit()),
    rollback: () => end(() => tx.rollback()),
  };
}

/** The better-sqlite3 adapter factory, with each connection serialised as above. */
class SerializedSqliteFactory implements Pick<PrismaBetterSQLite3, 'provider' | 'adapterName' | 'connect' | 'connectToShadowDb'> {
  readonly provider: PrismaBetterSQLite3['provider'];
  readonly adapterName: string;
  /** The connection Prisma opened last (null before its first query and after $disconnect). */
  current: SerializedSqliteAdapter | null = null;

  constructor(private readonly factory: PrismaBetterSQLite3) {
    this.provider = factory.provider;
    this.adapterName = factory.adapterName;
  }

  async connect(): Promise<SerializedSqliteAdapter> {
    const adapter: SerializedSqliteAdapter = new SerializedSqliteAdapter(await this.factory.connect(), () => {
      if (this.current === adapter) this.current = null;
    });
    this.current = adapter;
    return adapter;
  }

  async connectToShadowDb(): Promise<SerializedSqliteAdapter> {
    return new SerializedSqliteAdapter(await this.factory.connectToShadowDb(), () => undefined);
  }
}

export function serializedSqlite(factory: PrismaBetterSQLite3): SerializedSqliteFactory {
  return new SerializedSqliteFactory(factory);
}

/** Statements on the one SQLite connection, behind the gate (see SerializedSqliteAdapter.exclusive). */
export interface GatedSqlite {
  exclusive<T>(work: (connection: SqliteConnection) => T): Promise<T>;
}

/**
 * The gated connection of a client opened by openDb on SQLite, or null for any other client
 * (PostgreSQL, or a client built without this wrapper). Works on `$extends` copies too.
 */
export function gatedSqliteOf(db: { $connect(): Promise<void> }): GatedSqlite | null {
  // Prisma 6.19 keeps the adapter factory it was given in _engineConfig (its $extends copies forward it).
  const factory: unknown = (db as unknown as { _engineConfig?: { adapter?: unknown } })._engineConfig?.adapter;
  if (!(factory instanceof SerializedSqliteFactory)) return null;
  return {
    async exclusive(work) {
      // Prisma connects lazily (and again after $disconnect).
      if (!factory.current) await db.$connect();
      const adapter = factory.current;
      if (!adapter) throw new Error('The SQLite connection is closed.');
      return adapter.exclusive(work);
    },
  };
}
