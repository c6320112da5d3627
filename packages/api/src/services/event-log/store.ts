import type { JobStatus } from '../../schemas/common.ts';
import type { JobEvent, JobEventBody } from '../../schemas/job-event.ts';
import type { JobColumnPatch } from './job-patch.ts';

/** One append as the log's callers asked for it (bodies already validated). */
export interface AppendRequest {
  jobId: string;
  bodies: readonly JobEventBody[];
  /** Only append if the job is in one of these statuses (checked in the same UPDATE that allocates seq). */
  expectStatus?: readonly JobStatus[];
  /** Extra Job columns set in the same transaction as the events. */
  patch?: JobColumnPatch;
  /** Only append while the job's lease is this one (checked in the same UPDATE): a worker's events are fenced by its lease. */
  lease?: LeaseFence;
}

/**
 * A lease condition: the job's `leaseEpoch` is `epoch`, and its `leaseOwner` is `owner` (when
 * given); with `expiredBefore`, only if the lease ran out before then (recovery taking it over).
 */
export interface LeaseFence {
  epoch: number;
  owner?: string;
  expiredBefore?: Date;
}

export type AppendOutcome =
  | { kind: 'appended'; events: JobEvent[] }
  /** `expectStatus` did not hold: nothing was written. */
  | { kind: 'refused' }
  /** This append failed (e.g. the job does not exist); the others of its batch were not affected. */
  | { kind: 'failed'; error: Error };

/**
 * Where the event log's rows live. One call of `appendBatch` is one transaction: each
 * append gets its seqs from `UPDATE "Job" SET "lastSeq" = "lastSeq" + n … RETURNING`, so
 * several processes may append to one job at once without a gap or a duplicate.
 */
export interface EventLogStore {
  /** Outcomes in the order of `requests`; rejects only when the whole batch could not run. */
  appendBatch(requests: readonly AppendRequest[], at: Date): Promise<AppendOutcome[]>;
  /** Stored events with afterSeq < seq < beforeSeq, in order. */
  read(jobId: string, afterSeq: number, beforeSeq?: number): Promise<JobEvent[]>;
  /** Release what the store opened itself (PostgreSQL's pool); SQLite's connection is Prisma's. */
  close(): Promise<void>;
}
