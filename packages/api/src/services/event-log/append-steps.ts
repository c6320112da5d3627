import type { JobEvent, JobEventBody } from '../../schemas/job-event.ts';
import { failureFingerprint } from '../failure-fingerprint.ts';
import { patchFromEvents, renderAssignments, type SqlDialect } from './job-patch.ts';
import type { AppendRequest } from './store.ts';

export interface SqlStatement {
  sql: string;
  values: unknown[];
}

/** The first row a statement returned (column name → value), or undefined. */
export type SqlRow = Record<string, unknown> | undefined;

export type AppendStepResult = { kind: 'appended'; events: JobEvent[] } | { kind: 'refused' } | { kind: 'missing' };

/**
 * One append as the statements it needs, for a driver to run in its transaction: the
 * generator yields a statement and receives its first row. SQLite runs it synchronously on
 * better-sqlite3, PostgreSQL awaits pg; the logic (and the SQL) is the same for both.
 * The events' own rows are inserted by the driver afterwards (PostgreSQL: one INSERT per batch).
 */
export function* appendSteps(request: AppendRequest, at: Date, dialect: SqlDialect & { forUpdate: string }): Generator<SqlStatement, AppendStepResult, SqlRow> {
  const { jobId, bodies } = request;
  let patch = patchFromEvents(bodies, at, request.patch);

  const failure = bodies.findLast((b): b is Extract<JobEventBody, { type: 'error' }> => b.type === 'error' && b.code !== 'CANCELED');
  if (failure) {
    // Groups this failure with others of the same cause; the stage is the one before this append cleared it.
    const row = yield { sql: `SELECT "engineId", "stage" FROM "Job" WHERE "id" = ${dialect.placeholder(1)}${dialect.forUpdate}`, values: [jobId] };
    if (!row) return { kind: 'missing' };
    const fingerprint = failureFingerprint({ code: failure.code, engineId: String(row.engineId), stage: failure.stage ?? (row.stage as string | null), message: failure.message });
    patch = { failureFingerprint: fingerprint, ...patch };
  }

  const values: unknown[] = [bodies.length, dialect.date(at)];
  const assignments = [`"lastSeq" = "lastSeq" + ${dialect.placeholder(1)}`, `"updatedAt" = ${dialect.placeholder(2)}`, ...renderAssignments(patch, dialect, values)];
  values.push(jobId);
  let where = `"id" = ${dialect.placeholder(values.length)}`;
  if (request.expectStatus) {
    if (request.expectStatus.length === 0) return { kind: 'refused' };
    const marks = request.expectStatus.map((status) => (values.push(status), dialect.placeholder(values.length)));
    where += ` AND "status" IN (${marks.join(', ')})`;
  }
  if (request.lease) {
    const { epoch, owner, expiredBefore } = request.lease;
    values.push(epoch);
    where += ` AND "leaseEpoch" = ${dialect.placeholder(values.length)}`;
    if (owner !== undefined) {
      values.push(owner);
      where += ` AND "leaseOwner" = ${dialect.placeholder(values.length)}`;
    }
    if (expiredBefore) {
      values.push(dialect.date(expiredBefore));
      // A running job without a lease (claimed before leases existed) counts as expired.
      where += ` AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${dialect.placeholder(values.length)})`;
    }
  }
  const updated = yield { sql: `UPDATE "Job" SET ${assignments.join(', ')} WHERE ${where} RETURNING "lastSeq"`, values };
  if (!updated) {
    const exists = yield { sql: `SELECT 1 AS "one" FROM "Job" WHERE "id" = ${dialect.placeholder(1)}`, values: [jobId] };
    return exists ? { kind: 'refused' } : { kind: 'missing' };
  }
  const lastSeq = Number(updated.lastSeq);

  // Back in the queue without a position given (recovery, shutdown): its place, counted now.
  let queuePosition: number | undefined;
  if (bodies.some((b) => b.type === 'status' && b.status === 'queued' && b.queuePosition === undefined)) {
    const ahead = yield {
      sql:
        `SELECT COUNT(*) AS "n" FROM "Job" AS "j", "Job" AS "me" WHERE "me"."id" = ${dialect.placeholder(1)} AND "j"."status" = 'queued'` +
        ` AND ("j"."queuedAt" < "me"."queuedAt" OR ("j"."queuedAt" = "me"."queuedAt" AND "j"."id" <= "me"."id"))`,
      values: [jobId],
    };
    const n = Number(ahead?.n ?? 0);
    if (n > 0) queuePosition = n;
  }

  const first = lastSeq - bodies.length + 1;
  const iso = at.toISOString();
  const events = bodies.map((body, i): JobEvent => {
    const withPosition = queuePosition !== undefined && body.type === 'status' && body.status === 'queued' && body.queuePosition === undefined ? { ...body, queuePosition } : body;
    return { ...withPosition, seq: first + i, at: iso };
  });
  return { kind: 'appended', events };
}

/** The JobEvent row of an event (payload: the whole event as JSON). */
export function eventRow(jobId: string, event: JobEvent): { jobId: string; seq: number; type: string; level: string | null; payload: string } {
  return { jobId, seq: event.seq, type: event.type, level: event.type === 'log' ? event.level : null, payload: JSON.stringify(event) };
}

/** Appends of one job keep their order; different jobs are taken in id order, so two writers lock rows in the same order. */
export function inLockOrder<T extends { jobId: string }>(requests: readonly T[]): number[] {
  return requests
    .map((r, i) => i)
    .sort((a, b) => {
      const x = requests[a]!.jobId;
      const y = requests[b]!.jobId;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
}
