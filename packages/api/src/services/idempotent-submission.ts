import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { Db, Job } from '@chorus/db';

/** A submission's client request id and the hash of what was asked, stored on the job it creates. */
export interface SubmissionKey {
  clientRequestId: string;
  requestHash: string;
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The key for a request (what the procedure received, without the id itself), or null without an id. */
export function submissionKey(procedure: 'create' | 'rerun', input: { clientRequestId?: string | undefined }): SubmissionKey | null {
  const { clientRequestId, ...request } = input;
  if (clientRequestId === undefined) return null;
  return { clientRequestId, requestHash: createHash('sha256').update(canonicalJson({ procedure, request })).digest('hex') };
}

/**
 * The job an earlier submission with this key created, or null. The same id with a different
 * request is refused: the client reused an id for a new job, and answering with the old job
 * would silently drop the new one.
 */
export async function earlierSubmission(db: Db, userId: string, key: SubmissionKey): Promise<Job | null> {
  const job = await db.job.findUnique({ where: { createdById_clientRequestId: { createdById: userId, clientRequestId: key.clientRequestId } } });
  if (!job) return null;
  if (job.clientRequestHash !== key.requestHash) {
    throw new TRPCError({
      code: 'CONFLICT',
      message: `clientRequestId "${key.clientRequestId}" was already used for job "${job.id}" with other inputs; send a new clientRequestId for a new job.`,
    });
  }
  return job;
}
