import type { GatedSqlite, SqliteConnection, SqliteStatement as Statement } from '@chorus/db';
import type { JobEvent } from '../../schemas/job-event.ts';
import { appendSteps, eventRow, inLockOrder, type AppendStepResult } from './append-steps.ts';
import { eventFromPayload } from './event-payload.ts';
import type { SqlDialect } from './job-patch.ts';
import type { AppendOutcome, AppendRequest, EventLogStore } from './store.ts';

/** How @prisma/adapter-better-sqlite3 (default "iso8601" format) writes a DateTime, so Prisma reads ours back. */
const prismaSqliteDate = (d: Date): string => d.toISOString().replace('Z', '+00:00');

const SQLITE: SqlDialect & { forUpdate: string } = {
  placeholder: () => '?',
  date: prismaSqliteDate,
  bool: (b) => (b ? 1 : 0),
  // One connection and BEGIN IMMEDIATE: the batch already holds the write lock.
  forUpdate: '',
};

const INSERT_EVENT = 'INSERT INTO "JobEvent" ("jobId", "seq", "type", "level", "payload", "at") VALUES (?, ?, ?, ?, ?, ?)';
const READ_EVENTS = 'SELECT "payload" FROM "JobEvent" WHERE "jobId" = ? AND "seq" > ? AND "seq" < ? ORDER BY "seq"';
/** Prepared statements kept per connection; the UPDATE's text varies with the columns an append sets. */
const MAX_CACHED = 256;

type BatchTransaction = { immediate(requests: readonly AppendRequest[], at: Date): AppendOutcome[] };

/**
 * The log on SQLite: each batch runs synchronously on Prisma's own better-sqlite3 connection,
 * behind the gate Prisma's statements wait on (a second connection would stall the event loop
 * on SQLITE_BUSY while Prisma holds the write lock), as one BEGIN IMMEDIATE transaction with a
 * savepoint per append, through prepared statements.
 */
export class SqliteEventLogStore implements EventLogStore {
  private readonly prepared = new WeakMap<SqliteConnection, Prepared>();

  constructor(private readonly sqlite: GatedSqlite) {}

  appendBatch(requests: readonly AppendRequest[], at: Date): Promise<AppendOutcome[]> {
    return this.sqlite.exclusive((connection) => {
      // The gate guarantees no Prisma transaction is open here; nesting into one would be silent.
      if (connection.inTransaction) throw new Error('The SQLite connection is inside a transaction nobody should hold here.');
      return this.on(connection).batch.immediate(requests, at);
    });
  }

  read(jobId: string, afterSeq: number, beforeSeq = Number.MAX_SAFE_INTEGER): Promise<JobEvent[]> {
    return this.sqlite.exclusive((connection) => {
      const payloads = this.on(connection).statement(READ_EVENTS).pluck().all(jobId, afterSeq, beforeSeq) as string[];
      return payloads.map((text) => eventFromPayload(JSON.parse(text)));
    });
  }

  async close(): Promise<void> {
    // The connection is Prisma's; it closes with db.$disconnect().
  }

  private on(connection: SqliteConnection): Prepared {
    let prepared = this.prepared.get(connection);
    if (!prepared) this.prepared.set(connection, (prepared = new Prepared(connection)));
    return prepared;
  }
}

/** What is prepared once per connection: statements by text, and the batch's transaction functions. */
class Prepared {
  private readonly statements = new Map<string, Statement>();
  /** A batch: BEGIN IMMEDIATE … COMMIT, appends in lock order, each failure kept to its own append. */
  readonly batch: BatchTransaction;
  /** One append; nested inside the batch's transaction, better-sqlite3 makes it a savepoint, so a failed append rolls back alone. */
  private readonly one: (request: AppendRequest, at: Date) => AppendOutcome;

  constructor(private readonly connection: SqliteConnection) {
    this.one = connection.transaction((request: AppendRequest, at: Date) => this.appendOne(request, at));
    this.batch = connection.transaction((requests: readonly AppendRequest[], at: Date): AppendOutcome[] => {
      const outcomes: AppendOutcome[] = new Array<AppendOutcome>(requests.length);
      for (const i of inLockOrder(requests)) {
        try {
          outcomes[i] = this.one(requests[i]!, at);
        } catch (err) {
          outcomes[i] = { kind: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
        }
      }
      return outcomes;
    });
  }

  statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= MAX_CACHED) this.statements.clear();
      statement = this.connection.prepare<unknown[]>(sql);
      // Prisma's adapter turns on BigInt results for the connection; ours are small numbers.
      if (statement.reader) statement.safeIntegers(false);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private appendOne(request: AppendRequest, at: Date): AppendOutcome {
    const result = this.runSteps(request, at);
    if (result.kind === 'missing') return { kind: 'failed', error: new Error(`Job ${request.jobId} does not exist.`) };
    if (result.kind === 'refused') return result;
    const insert = this.statement(INSERT_EVENT);
    const atText = prismaSqliteDate(at);
    for (const event of result.events) {
      const row = eventRow(request.jobId, event);
      insert.run(row.jobId, row.seq, row.type, row.level, row.payload, atText);
    }
    return result;
  }

  private runSteps(request: AppendRequest, at: Date): AppendStepResult {
    const steps = appendSteps(request, at, SQLITE);
    let next = steps.next(undefined);
    while (!next.done) {
      const { sql, values } = next.value;
      next = steps.next(this.statement(sql).get(...values) as Record<string, unknown> | undefined);
    }
    return next.value;
  }
}
