import { TRPCError } from '@trpc/server';
import type { Job } from '@chorus/db';
import { ROLE_RANK, type AuthUser, type Role } from '../schemas/auth.ts';

/**
 * What a person may do to one job. The team shares its history, so every role may read
 * every job; members manage their own jobs; admins manage anyone's.
 */
export type JobAction = 'read' | 'rerun' | 'cancel' | 'delete' | 'retry' | 'note';

const NEEDS: Record<JobAction, Role> = { read: 'viewer', rerun: 'member', cancel: 'member', delete: 'member', retry: 'admin', note: 'admin' };
const OWNER_ONLY: ReadonlySet<JobAction> = new Set(['cancel', 'delete']);

export function jobAccessDenial(user: AuthUser, job: Pick<Job, 'id' | 'createdById'>, action: JobAction): string | null {
  const needed = NEEDS[action];
  if (ROLE_RANK[user.role] < ROLE_RANK[needed]) return `To ${action} a job you need the ${needed} role or higher; you are a ${user.role}.`;
  if (OWNER_ONLY.has(action) && user.role !== 'admin' && job.createdById !== user.id) {
    return `Only the person who created job "${job.id}" or an admin may ${action} it.`;
  }
  return null;
}

/** The one job-access rule: every job procedure, stream and HTTP route goes through it. */
export function assertJobAccess(user: AuthUser, job: Pick<Job, 'id' | 'createdById'>, action: JobAction): void {
  const denial = jobAccessDenial(user, job, action);
  if (denial) throw new TRPCError({ code: 'FORBIDDEN', message: denial });
}

/**
 * Who may clone a voice from an upload with a new job: the person who sent it (everyone who
 * sends the same bytes gets an upload row of their own) or an admin. Re-runs and retries do
 * not come here: they reuse the upload of a job the caller may read.
 */
export function uploadUseDenial(user: AuthUser, upload: { id: string; uploadedById: string | null }): string | null {
  if (user.role === 'admin' || upload.uploadedById === user.id) return null;
  return `Upload "${upload.id}" was sent by someone else; a new job can only use reference audio you uploaded yourself (POST /api/uploads). To use that voice, re-run a job of theirs that uses it.`;
}

export function assertUploadUse(user: AuthUser, upload: { id: string; uploadedById: string | null }): void {
  const denial = uploadUseDenial(user, upload);
  if (denial) throw new TRPCError({ code: 'FORBIDDEN', message: denial });
}
