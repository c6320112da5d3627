import type { Db, Job } from '@chorus/db';
import type { JobEventLog } from './job-event-log.ts';

/**
 * Leases on running jobs. A worker that claims a job owns it for `leaseMs` and renews the
 * lease while it runs; every event it writes is fenced by the lease (owner + epoch), so once
 * recovery took an expired lease over (epoch + 1), the old owner's late events are refused.
 * Only expired leases are recovered: a server restart leaves jobs on live workers alone.
 */

/** What a worker holds on a job it runs. */
export interface JobLease {
  owner: string;
  epoch: number;
}

/** A job may be restarted once after whoever ran it died; the second death fails it. */
export const MAX_STARTS = 2;
export const DEFAULT_LEASE_MS = 15_000;

/** Claim a queued job for `owner`: status running, attempts + 1, a fresh lease. Null when another claimer won. */
export async function claimJob(db: Db, events: JobEventLog, jobId: string, owner: string, leaseMs: number): Promise<{ job: Job; lease: JobLease } | null> {
  const claimed = await events.append(jobId, [{ type: 'status', status: 'running' }], {
    expectStatus: ['queued'],
    patch: { attempts: { increment: 1 }, leaseOwner: owner, leaseEpoch: { increment: 1 }, leaseExpiresAt: new Date(Date.now() + leaseMs) },
  });
  if (!claimed) return null;
  const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
  return { job, lease: { owner, epoch: job.leaseEpoch } };
}

/**
 * Extend the leases `owner` holds; returns the ids of jobs whose lease it no longer holds
 * (taken over, or the job ended or went back to the queue): their runs must stop.
 */
export async function renewLeases(db: Db, owner: string, held: readonly { jobId: string; lease: JobLease }[], leaseMs: number): Promise<string[]> {
  if (held.length === 0) return [];
  const expiresAt = new Date(Date.now() + leaseMs);
  const ids = held.map((h) => h.jobId);
  const { count } = await db.job.updateMany({ where: { id: { in: ids }, status: 'running', leaseOwner: owner }, data: { leaseExpiresAt: expiresAt } });
  if (count === ids.length) return [];
  // Some lease is gone: find which (rare, so a second query is fine).
  const still = await db.job.findMany({ where: { id: { in: ids }, status: 'running', leaseOwner: owner }, select: { id: true, leaseEpoch: true } });
  const epochs = new Map(still.map((j) => [j.id, j.leaseEpoch]));
  return held.filter((h) => epochs.get(h.jobId) !== h.lease.epoch).map((h) => h.jobId);
}

export interface RecoveryLogger {
  warn(obj: object, msg: string): void;
}

/** What a recovery sweep did: jobs put back in the queue, and jobs failed with INTERRUPTED. */
export interface RecoveredJobs {
  requeued: string[];
  failed: string[];
}

/**
 * Recover running jobs whose lease expired (their worker died or lost the database), and
 * with `deadOwner`, also those that owner held (a previous run of this very process, known
 * dead): re-queue once with a warning, then fail with INTERRUPTED.
 */
export async function recoverExpiredLeases(
  db: Db,
  events: JobEventLog,
  logger: RecoveryLogger,
  options: { now?: Date; deadOwner?: (owner: string) => boolean; limit?: number } = {},
): Promise<RecoveredJobs> {
  const now = options.now ?? new Date();
  const expired = await db.job.findMany({
    where: { status: 'running', OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] },
    orderBy: { queuedAt: 'asc' },
    take: options.limit ?? 200,
  });
  const dead = options.deadOwner
    ? await db.job.findMany({ where: { status: 'running', leaseOwner: { not: null }, leaseExpiresAt: { gte: now } }, orderBy: { queuedAt: 'asc' }, take: options.limit ?? 200 })
    : [];
  const recovered: RecoveredJobs = { requeued: [], failed: [] };
  for (const job of [...expired, ...dead.filter((j) => options.deadOwner!(j.leaseOwner!))]) {
    const expiredLease = job.leaseExpiresAt === null || job.leaseExpiresAt < now;
    // Fenced: a renewal or another recoverer that got there first makes this a no-op.
    const lease = expiredLease ? { epoch: job.leaseEpoch, expiredBefore: now } : { epoch: job.leaseEpoch, owner: job.leaseOwner! };
    const release = { leaseOwner: null, leaseExpiresAt: null, leaseEpoch: { increment: 1 } } as const;
    const who = expiredLease ? 'The worker running this job stopped answering (its lease expired)' : 'The server stopped while this job was running';
    const done =
      job.attempts < MAX_STARTS
        ? await events.append(
            job.id,
            [
              { type: 'log', level: 'warn', message: `${who}; it has been re-queued once and will start over.` },
              { type: 'status', status: 'queued', reason: expiredLease ? 'lease expired' : 'recovered after restart' },
            ],
            { expectStatus: ['running'], lease, patch: release },
          )
        : await events.append(
            job.id,
            [
              { type: 'log', level: 'error', message: `${who}, for the second time; it will not be retried.` },
              {
                type: 'error',
                code: 'INTERRUPTED',
                message: 'The job was interrupted twice (its worker or server stopped while running it).',
                hint: 'Re-run it; if it keeps failing, ask an admin to check the worker and server logs around these times.',
              },
              { type: 'status', status: 'failed' },
            ],
            { expectStatus: ['running'], lease, patch: release },
          );
    if (done) {
      (job.attempts < MAX_STARTS ? recovered.requeued : recovered.failed).push(job.id);
      logger.warn({ jobId: job.id, owner: job.leaseOwner, requeued: job.attempts < MAX_STARTS }, 'recovery: took over a running job whose worker is gone');
    }
  }
  return recovered;
}
