import type { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Mutex } from 'async-mutex';

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

  constructor(private readonly inner: SqliteAdapter) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
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
    return this.inner.dispose();
  }
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
export function serializedSqlite(factory: PrismaBetterSQLite3): Pick<PrismaBetterSQLite3, 'provider' | 'adapterName' | 'connect' | 'connectToShadowDb'> {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => new SerializedSqliteAdapter(await factory.connect()),
    connectToShadowDb: async () => new SerializedSqliteAdapter(await factory.connectToShadowDb()),
  };
}
