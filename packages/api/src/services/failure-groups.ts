import type { Db, FailureGroup, Job } from '@chorus/db';
import type { FailureGroupInfo } from '../schemas/auth.ts';
import { JOB_ERROR_INFO, toJobErrorCode } from '../schemas/error-codes.ts';
import { failedStageOf } from './failure-fingerprint.ts';
import { eventFromRow } from './job-event-log.ts';

const DAY_MS = 24 * 3600_000;

/** Resolved, then failed again since: shown as open, and flagged so. */
export function effectiveState(row: FailureGroup | undefined, lastSeen: Date): { state: FailureGroupInfo['state']; reopened: boolean } {
  if (!row) return { state: 'open', reopened: false };
  if (row.state === 'resolved' && row.resolvedAt && lastSeen > row.resolvedAt) return { state: 'open', reopened: true };
  return { state: row.state === 'resolved' || row.state === 'ignored' ? row.state : 'open', reopened: false };
}

/**
 * The stage each job failed in. The Job row cannot say: its terminal status clears `stage`.
 * The error event names it (the worker always sets it); for one that does not (a restart's
 * INTERRUPTED, older rows) the job's stage and progress events before it do.
 */
export async function failedStages(db: Db, jobIds: readonly string[]): Promise<Map<string, string | null>> {
  const stages = new Map<string, string | null>();
  if (jobIds.length === 0) return stages;
  const errors = await db.jobEvent.findMany({ where: { jobId: { in: [...jobIds] }, type: 'error' }, orderBy: { seq: 'asc' } });
  for (const row of errors) {
    const event = eventFromRow(row);
    // In seq order, so a job's last error event wins.
    stages.set(row.jobId, event.type === 'error' ? (event.stage ?? null) : null);
  }
  for (const jobId of new Set(jobIds)) {
    if (stages.get(jobId)) continue;
    // Rare (see above), so reading this one job's non-log events is fine.
    const rows = await db.jobEvent.findMany({ where: { jobId, type: { in: ['status', 'stage', 'progress', 'error'] } }, orderBy: { seq: 'asc' } });
    stages.set(jobId, failedStageOf(rows.map(eventFromRow)));
  }
  return stages;
}

/** Every cause of failure with its counts, people, daily chart and how its retries ended. */
export async function loadFailureGroups(db: Db, days: number, now = Date.now()): Promise<FailureGroupInfo[]> {
  const failed = await db.job.findMany({
    where: { status: 'failed', failureFingerprint: { not: null } },
    select: { id: true, failureFingerprint: true, errorCode: true, errorMessage: true, errorHint: true, engineId: true, finishedAt: true, createdAt: true, createdById: true },
    orderBy: { id: 'desc' },
  });
  if (failed.length === 0) return [];
  const byGroup = new Map<string, typeof failed>();
  for (const job of failed) {
    const list = byGroup.get(job.failureFingerprint!) ?? [];
    list.push(job);
    byGroup.set(job.failureFingerprint!, list);
  }
  const [rows, people, retries, stages] = await Promise.all([
    db.failureGroup.findMany({ where: { fingerprint: { in: [...byGroup.keys()] } } }),
    db.user.findMany({ where: { id: { in: [...new Set(failed.map((j) => j.createdById).filter((id): id is string => id !== null))] } }, select: { id: true, name: true } }),
    db.job.findMany({ where: { parentRelation: 'retry', parentId: { in: failed.map((j) => j.id) } }, select: { parentId: true, status: true } }),
    // One run per group is enough: the stage is part of the fingerprint, so a group has one.
    failedStages(db, [...byGroup.values()].map((jobs) => jobs[0]!.id)),
  ]);
  const state = new Map(rows.map((r) => [r.fingerprint, r]));
  const names = new Map(people.map((p) => [p.id, p.name]));
  const retriesOf = new Map<string, Pick<Job, 'status'>[]>();
  for (const r of retries) retriesOf.set(r.parentId!, [...(retriesOf.get(r.parentId!) ?? []), r]);
  const today = Math.floor(now / DAY_MS);

  return [...byGroup.entries()].map(([fingerprint, jobs]) => {
    const newest = jobs[0]!;
    const times = jobs.map((j) => (j.finishedAt ?? j.createdAt).getTime());
    const lastSeen = new Date(Math.max(...times));
    const row = state.get(fingerprint);
    const code = toJobErrorCode(newest.errorCode ?? 'INTERNAL');
    const perDay = Array.from({ length: days }, () => 0);
    for (const t of times) {
      const index = days - 1 - (today - Math.floor(t / DAY_MS));
      if (index >= 0 && index < days) perDay[index]!++;
    }
    const counts = new Map<string, number>();
    for (const j of jobs) if (j.createdById) counts.set(j.createdById, (counts.get(j.createdById) ?? 0) + 1);
    const groupRetries = jobs.flatMap((j) => retriesOf.get(j.id) ?? []);
    return {
      fingerprint,
      code,
      engineId: newest.engineId,
      stage: stages.get(newest.id) ?? null,
      message: newest.errorMessage ?? '',
      hint: newest.errorHint ?? JOB_ERROR_INFO[code].hint,
      retryable: JOB_ERROR_INFO[code].retryable,
      count: jobs.length,
      firstSeen: new Date(Math.min(...times)).toISOString(),
      lastSeen: lastSeen.toISOString(),
      ...effectiveState(row, lastSeen),
      note: row?.note ?? null,
      resolvedAt: row?.resolvedAt?.toISOString() ?? null,
      members: [...counts.entries()].map(([id, count]) => ({ id, name: names.get(id) ?? 'former member', count })).sort((a, b) => b.count - a.count),
      perDay,
      retries: {
        total: groupRetries.length,
        succeeded: groupRetries.filter((r) => r.status === 'succeeded').length,
        failed: groupRetries.filter((r) => r.status === 'failed' || r.status === 'canceled').length,
        pending: groupRetries.filter((r) => r.status === 'queued' || r.status === 'running').length,
      },
    };
  }).sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
}
