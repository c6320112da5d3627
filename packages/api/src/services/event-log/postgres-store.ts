import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient as PoolClient } from '@chorus/db';
import type { JobEvent } from '../../schemas/job-event.ts';
import { appendSteps, eventRow, inLockOrder, type AppendStepResult } from './append-steps.ts';
import { eventFromPayload } from './event-payload.ts';
import type { SqlDialect } from './job-patch.ts';
import type { AppendOutcome, AppendRequest, EventLogStore } from './store.ts';

const POSTGRES: SqlDialect & { forUpdate: string } = {
  placeholder: (n) => `$${n}`,
  // "at" and the other DateTime columns are timestamp(3) without time zone holding UTC, as
  // Prisma writes them; PostgreSQL ignores the zone of a literal cast to that type.
  date: (d) => d.toISOString(),
  bool: (b) => b,
  // Another process may change the row between this read and the UPDATE.
  forUpdate: ' FOR UPDATE',
};

/** Every event of a batch in one statement (column arrays, so one round trip whatever the count). */
const INSERT_EVENTS =
  'INSERT INTO "JobEvent" ("jobId", "seq", "type", "level", "payload", "at") ' +
  'SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::timestamp(3)[])';
const READ_EVENTS = 'SELECT "payload" FROM "JobEvent" WHERE "jobId" = $1 AND "seq" > $2 AND "seq" < $3 ORDER BY "seq"';

/** A stable name per statement text: pg prepares a named statement once per connection. */
const named = (text: string): string => `chorus_log_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;

/** A statement of the batch was refused (a constraint, a bad value): the database itself is fine. */
class StatementRefused extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

/** pg's DatabaseError carries the SQLSTATE; class 08 is a connection problem, not a refused statement. */
function isStatementError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  const { code, severity } = err as Error & { code?: unknown; severity?: unknown };
  return typeof code === 'string' && severity !== undefined && !code.startsWith('08');
}

/**
 * The log on PostgreSQL: its own pg Pool (not Prisma), parameterised statements prepared once
 * per connection, one transaction per batch. A statement that fails aborts a PostgreSQL
 * transaction, so a failed batch is rolled back and its appends are retried one per
 * transaction: only the failing one fails.
 */
export class PostgresEventLogStore implements EventLogStore {
  constructor(private readonly pool: PostgresPool) {}

  async appendBatch(requests: readonly AppendRequest[], at: Date): Promise<AppendOutcome[]> {
    try {
      return await this.transaction((client) => this.runBatch(client, requests, at));
    } catch (err) {
      // Connection trouble (or a failed COMMIT, whose outcome is unknown) fails the whole batch: never write twice.
      if (!(err instanceof StatementRefused)) throw err;
      if (requests.length === 1) return [{ kind: 'failed', error: err.original }];
      const outcomes: AppendOutcome[] = [];
      for (const request of requests) {
        outcomes.push(await this.transaction((client) => this.runBatch(client, [request], at)).then((o) => o[0]!, (e: unknown) => ({ kind: 'failed' as const, error: e instanceof StatementRefused ? e.original : asError(e) })));
      }
      return outcomes;
    }
  }

  async read(jobId: string, afterSeq: number, beforeSeq = 2_147_483_647): Promise<JobEvent[]> {
    const result = await this.pool.query<{ payload: unknown }>({ name: named(READ_EVENTS), text: READ_EVENTS, values: [jobId, afterSeq, beforeSeq] });
    // pg parses jsonb into a fresh object per row.
    return result.rows.map((row) => eventFromPayload(row.payload));
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client).catch((err: unknown) => {
        throw isStatementError(err) ? new StatementRefused(err) : err;
      });
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // A client whose ROLLBACK fails is broken: drop it from the pool.
      await client.query('ROLLBACK').then(
        () => client.release(),
        (e: unknown) => client.release(asError(e)),
      );
      throw err;
    }
  }

  private async runBatch(client: PoolClient, requests: readonly AppendRequest[], at: Date): Promise<AppendOutcome[]> {
    const outcomes: AppendOutcome[] = new Array<AppendOutcome>(requests.length);
    const rows = { jobId: [] as string[], seq: [] as number[], type: [] as string[], level: [] as (string | null)[], payload: [] as string[], at: [] as string[] };
    const atText = POSTGRES.date(at);
    for (const i of inLockOrder(requests)) {
      const request = requests[i]!;
      const result = await this.runSteps(client, request, at);
      if (result.kind === 'missing') {
        outcomes[i] = { kind: 'failed', error: new Error(`Job ${request.jobId} does not exist.`) };
        continue;
      }
      outcomes[i] = result;
      if (result.kind !== 'appended') continue;
      for (const event of result.events) {
        const row = eventRow(request.jobId, event);
        rows.jobId.push(row.jobId);
        rows.seq.push(row.seq);
        rows.type.push(row.type);
        rows.level.push(row.level);
        rows.payload.push(row.payload);
        rows.at.push(atText);
      }
    }
    if (rows.seq.length > 0) {
      await client.query({ name: named(INSERT_EVENTS), text: INSERT_EVENTS, values: [rows.jobId, rows.seq, rows.type, rows.level, rows.payload, rows.at] });
    }
    return outcomes;
  }

  private async runSteps(client: PoolClient, request: AppendRequest, at: Date): Promise<AppendStepResult> {
    const steps = appendSteps(request, at, POSTGRES);
    let next = steps.next(undefined);
    while (!next.done) {
      const { sql, values } = next.value;
      const result = await client.query<Record<string, unknown>>({ name: named(sql), text: sql, values });
      next = steps.next(result.rows[0]);
    }
    return next.value;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
