import type { Job } from '@chorus/db';
import type { JobEventBody } from '../../schemas/job-event.ts';

/** How a column's value is written: the two databases store dates and booleans differently. */
type ColumnKind = 'text' | 'int' | 'real' | 'date' | 'bool';

/**
 * The Job columns an append may set together with its events (the only column names ever
 * rendered into SQL). `lastSeq` and `updatedAt` are the log's own.
 */
const PATCHABLE_COLUMNS = {
  status: 'text',
  stage: 'text',
  stageIndex: 'int',
  stageCount: 'int',
  progressStep: 'int',
  progressTotal: 'int',
  progressPct: 'real',
  etaMs: 'int',
  attempts: 'int',
  cancelRequested: 'bool',
  canceledById: 'text',
  startedAt: 'date',
  finishedAt: 'date',
  errorCode: 'text',
  errorMessage: 'text',
  errorHint: 'text',
  failureFingerprint: 'text',
  outputPath: 'text',
  outputSampleRate: 'int',
  outputDurationMs: 'int',
  outputSha256: 'text',
  outputBytes: 'int',
  leaseOwner: 'text',
  leaseExpiresAt: 'date',
  leaseEpoch: 'int',
} as const satisfies { [K in keyof Job]?: ColumnKind };

type PatchableColumn = keyof typeof PATCHABLE_COLUMNS;
/** Counters may be moved relative to their stored value (atomically, in the UPDATE). */
type CounterColumn = 'attempts' | 'leaseEpoch';

/** Values for Job columns, plus `{ increment: n }` (n may be negative) for counters. */
export type JobColumnPatch = { [K in Exclude<PatchableColumn, CounterColumn>]?: Job[K] } & {
  [K in CounterColumn]?: Job[K] | { increment: number };
};

/** What differs between SQLite and PostgreSQL when a patch becomes SQL. */
export interface SqlDialect {
  /** The placeholder for the n-th value (1-based): `?` or `$n`. */
  placeholder(n: number): string;
  /** A date as the column stores it (matching what Prisma writes, so Prisma reads it back). */
  date(d: Date): string;
  bool(b: boolean): boolean | number;
}

/** `"col" = ?` assignments for a patch, appending their values to `values`. */
export function renderAssignments(patch: JobColumnPatch, dialect: SqlDialect, values: unknown[]): string[] {
  const out: string[] = [];
  for (const [column, value] of Object.entries(patch) as [PatchableColumn, unknown][]) {
    const kind: ColumnKind | undefined = PATCHABLE_COLUMNS[column];
    if (kind === undefined) throw new Error(`Job column "${column}" cannot be set by an event append.`);
    if (value === undefined) continue;
    if (typeof value === 'object' && value !== null && 'increment' in value) {
      if (column !== 'attempts' && column !== 'leaseEpoch') throw new Error(`Job column "${column}" is not a counter.`);
      values.push(Number(value.increment));
      out.push(`"${column}" = "${column}" + ${dialect.placeholder(values.length)}`);
      continue;
    }
    values.push(value === null ? null : kind === 'date' ? dialect.date(value as Date) : kind === 'bool' ? dialect.bool(value as boolean) : value);
    out.push(`"${column}" = ${dialect.placeholder(values.length)}`);
  }
  return out;
}

const RUN_COLUMNS_CLEARED = { stage: null, stageIndex: null, stageCount: null, progressStep: null, progressTotal: null, progressPct: null, etaMs: null } as const;

/** Job columns that mirror the latest event of each kind, so list/get need no event scan. */
function patchFromEvent(body: JobEventBody, at: Date): JobColumnPatch {
  switch (body.type) {
    case 'status':
      return {
        status: body.status,
        ...(body.status === 'running' ? { startedAt: at } : {}),
        // Back in the queue (restart recovery, shutdown): keeps its queuedAt, so its place in
        // line, and forgets the interrupted run's stage and progress.
        ...(body.status === 'queued' ? { startedAt: null, ...RUN_COLUMNS_CLEARED } : {}),
        ...(body.status === 'succeeded' || body.status === 'failed' || body.status === 'canceled'
          ? { finishedAt: at, etaMs: null, ...(body.status === 'succeeded' ? {} : { stage: null }) }
          : {}),
      };
    case 'stage':
      return { stage: body.name, stageIndex: body.index, stageCount: body.count, progressStep: null, progressTotal: null, progressPct: null };
    case 'progress':
      return { progressStep: body.step, progressTotal: body.total, progressPct: body.percent, etaMs: body.etaMs };
    case 'error':
      return { errorCode: body.code, errorMessage: body.message, errorHint: body.hint ?? null };
    default:
      return {};
  }
}

/** The mirror columns of a run of events (later events win), then the caller's own patch. */
export function patchFromEvents(bodies: readonly JobEventBody[], at: Date, extra: JobColumnPatch | undefined): JobColumnPatch {
  let patch: JobColumnPatch = {};
  for (const body of bodies) patch = { ...patch, ...patchFromEvent(body, at) };
  return extra ? { ...patch, ...extra } : patch;
}
