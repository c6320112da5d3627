import { ROLE_RANK, type AuthUser, type JobSummary, type Role } from '@chorus/api/schemas';

/** What the UI offers each role; mirrors the server's rules (it enforces them, this only hides what would be refused). */
export const hasRole = (user: AuthUser, min: Role): boolean => ROLE_RANK[user.role] >= ROLE_RANK[min];

export const isAdmin = (user: AuthUser): boolean => user.role === 'admin';

/** Members and admins create jobs; viewers read and listen. */
export const canCreateJobs = (user: AuthUser): boolean => hasRole(user, 'member');

/** Anyone's job, re-run as a new job of one's own. */
export const canRerun = (user: AuthUser): boolean => hasRole(user, 'member');

/** Cancel and delete: members their own jobs, admins anyone's. */
export function canManageJob(user: AuthUser, job: Pick<JobSummary, 'createdBy'>): boolean {
  if (isAdmin(user)) return true;
  return hasRole(user, 'member') && job.createdBy !== null && job.createdBy.id === user.id;
}

/** Where "home" is: the form for those who create jobs, the history for viewers. */
export const homeHref = (user: AuthUser): string => (canCreateJobs(user) ? '#/' : '#/history');

export const ROLE_LABEL: Record<Role, string> = { admin: 'Admin', member: 'Member', viewer: 'Viewer' };

export const ROLE_DESCRIPTION: Record<Role, string> = {
  admin: 'everything: members, invites, failed runs, audit, settings',
  member: 'creates jobs, sees the team’s history, manages their own jobs',
  viewer: 'reads and listens only',
};
