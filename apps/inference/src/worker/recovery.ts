import { recoverExpiredLeases, type JobEventLog, type RecoveredJobs } from '@chorus/api';
import type { Db } from '@chorus/db';
import type { WorkerLogger } from './logger.ts';

/**
 * A worker's owner id: its stable name and this run of the process. Jobs held by the same
 * name with another run id were left by an earlier run of this worker, which is dead.
 */
export function leaseOwnerId(workerName: string, runId: string): string {
  return `${workerName}#${runId}`;
}

export function isEarlierRunOf(workerName: string, currentOwner: string): (owner: string) => boolean {
  return (owner) => owner !== currentOwner && owner.startsWith(`${workerName}#`);
}

/**
 * Take over running jobs whose worker is gone: those whose lease expired, and those an earlier
 * run of this very worker held (so a restarted server re-queues its own at once, not after the
 * lease). Jobs on live workers are left alone. Re-queued once with a warning, then INTERRUPTED.
 */
export async function recoverAbandonedJobs(db: Db, events: JobEventLog, logger: WorkerLogger, workerName: string, owner: string): Promise<RecoveredJobs> {
  return recoverExpiredLeases(db, events, logger, { deadOwner: isEarlierRunOf(workerName, owner) });
}
