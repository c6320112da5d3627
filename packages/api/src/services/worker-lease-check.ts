import type { Job } from '@chorus/db';

/**
 * Whether a standalone worker's call about a job is its to make, before anything is read or
 * written (the append itself is fenced again in its UPDATE, so a race still writes nothing).
 *
 * - `held`: running under this worker's lease (at `epoch`, when given).
 * - `lost`: it was this lease, but the job moved on (taken over after the lease expired, given
 *   back, canceled, finished): the worker stops the run; nothing is an error.
 * - `refused`: it never was this worker's lease (another worker's, not claimed, an epoch never
 *   issued): a clear error, with the HTTP status the routes answer with.
 */
export type LeaseCheck =
  | { kind: 'held' }
  | { kind: 'lost' }
  | { kind: 'refused'; status: 400 | 403 | 409; code: 'BAD_REQUEST' | 'FORBIDDEN' | 'CONFLICT'; message: string };

export function checkWorkerLease(job: Pick<Job, 'id' | 'status' | 'leaseOwner' | 'leaseEpoch'>, isOurs: (owner: string) => boolean, epoch?: number): LeaseCheck {
  const ours = job.leaseOwner !== null && isOurs(job.leaseOwner);
  if (epoch !== undefined && epoch > job.leaseEpoch) {
    return { kind: 'refused', status: 400, code: 'BAD_REQUEST', message: `Lease epoch ${epoch} was never issued for job ${job.id} (its lease epoch is ${job.leaseEpoch}): send the epoch workerApi.claim answered with.` };
  }
  if (epoch !== undefined && epoch < job.leaseEpoch) return { kind: 'lost' };
  if (ours) return job.status === 'running' ? { kind: 'held' } : { kind: 'lost' };
  if (job.status === 'running') {
    return { kind: 'refused', status: 403, code: 'FORBIDDEN', message: `Job ${job.id} is running on another worker: only the worker holding its lease may do this.` };
  }
  return { kind: 'refused', status: 409, code: 'CONFLICT', message: `Job ${job.id} is ${job.status}, not running under a lease of yours: claim it first (workerApi.claim).` };
}
