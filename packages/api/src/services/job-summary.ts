import type { Db, Job } from '@chorus/db';
import type { JobMode, JobStatus } from '../schemas/common.ts';
import { toJobErrorCode } from '../schemas/error-codes.ts';
import type { JobSummary, PersonRef } from '../schemas/job.ts';

export const jobAudioUrl = (jobId: string): string => `/api/jobs/${encodeURIComponent(jobId)}/audio`;

/** 1-based FIFO position of a queued job (ordered by queuedAt, then id). */
export async function queuePositionOf(db: Db, job: Pick<Job, 'id' | 'status' | 'queuedAt'>): Promise<number | null> {
  if (job.status !== 'queued') return null;
  const ahead = await db.job.count({
    where: {
      status: 'queued',
      OR: [{ queuedAt: { lt: job.queuedAt } }, { queuedAt: job.queuedAt, id: { lt: job.id } }],
    },
  });
  return ahead + 1;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export interface JobPeople {
  createdBy: PersonRef | null;
  canceledBy: PersonRef | null;
}

const NOBODY: JobPeople = { createdBy: null, canceledBy: null };

export function toJobSummary(job: Job, queuePosition: number | null, people: JobPeople = NOBODY): JobSummary {
  return {
    id: job.id,
    createdBy: people.createdBy,
    canceledBy: people.canceledBy,
    parentRelation: job.parentRelation === 'rerun' || job.parentRelation === 'retry' ? job.parentRelation : null,
    parentId: job.parentId,
    mode: job.mode as JobMode,
    text: job.text,
    promptUploadId: job.promptUploadId,
    promptText: job.promptText,
    instruct: job.instruct,
    speakerId: job.speakerId,
    speed: job.speed,
    seed: job.seed,
    engineId: job.engineId,
    engineKind: job.engineKind,
    engineVersion: job.engineVersion,
    deterministic: job.deterministic,
    status: job.status as JobStatus,
    queuePosition,
    stage: job.stage,
    stageIndex: job.stageIndex,
    stageCount: job.stageCount,
    progressStep: job.progressStep,
    progressTotal: job.progressTotal,
    progressPct: job.progressPct,
    etaMs: job.etaMs,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    // Rows from before the closed list may hold any string; never fail a read over it.
    errorCode: job.errorCode === null ? null : toJobErrorCode(job.errorCode),
    errorMessage: job.errorMessage,
    errorHint: job.errorHint,
    failureFingerprint: job.failureFingerprint,
    audioUrl: job.status === 'succeeded' && job.outputPath ? jobAudioUrl(job.id) : null,
    outputSampleRate: job.outputSampleRate,
    outputDurationMs: job.outputDurationMs,
    outputSha256: job.outputSha256,
    lastSeq: job.lastSeq,
  };
}

/** Names of the people a page of jobs mentions, in one query. */
export async function loadPeople(db: Db, jobs: readonly Job[]): Promise<Map<string, PersonRef>> {
  const ids = [...new Set(jobs.flatMap((j) => [j.createdById, j.canceledById]).filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const users = await db.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
  return new Map(users.map((u) => [u.id, u]));
}

const peopleOf = (job: Job, names: Map<string, PersonRef>): JobPeople => ({
  createdBy: job.createdById ? (names.get(job.createdById) ?? null) : null,
  canceledBy: job.canceledById ? (names.get(job.canceledById) ?? null) : null,
});

export async function loadJobSummary(db: Db, job: Job): Promise<JobSummary> {
  const [position, names] = await Promise.all([queuePositionOf(db, job), loadPeople(db, [job])]);
  return toJobSummary(job, position, peopleOf(job, names));
}

const inQueueOrder = (a: Pick<Job, 'id' | 'queuedAt'>, b: Pick<Job, 'id' | 'queuedAt'>): number =>
  a.queuedAt.getTime() - b.queuedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Queue positions of the queued jobs among `jobs`, in two queries whatever their number: the
 * count ahead of the first, and the queued ids from the first to the last (their ranks).
 */
export async function queuePositionsOf(db: Db, jobs: readonly Pick<Job, 'id' | 'status' | 'queuedAt'>[]): Promise<Map<string, number>> {
  const queued = jobs.filter((j) => j.status === 'queued').sort(inQueueOrder);
  const positions = new Map<string, number>();
  const first = queued[0];
  const last = queued.at(-1);
  if (!first || !last) return positions;
  const [ahead, span] = await Promise.all([
    db.job.count({ where: { status: 'queued', OR: [{ queuedAt: { lt: first.queuedAt } }, { queuedAt: first.queuedAt, id: { lt: first.id } }] } }),
    db.job.findMany({
      where: {
        status: 'queued',
        AND: [
          { OR: [{ queuedAt: { gt: first.queuedAt } }, { queuedAt: first.queuedAt, id: { gte: first.id } }] },
          { OR: [{ queuedAt: { lt: last.queuedAt } }, { queuedAt: last.queuedAt, id: { lte: last.id } }] },
        ],
      },
      orderBy: [{ queuedAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    }),
  ]);
  span.forEach((row, i) => positions.set(row.id, ahead + i + 1));
  return positions;
}

/**
 * A history page: one query for the names, two for the queue positions of its queued rows
 * (none when the caller already knows them, e.g. from reading the queue in order).
 */
export async function loadJobSummaries(db: Db, jobs: readonly Job[], knownPositions?: ReadonlyMap<string, number>): Promise<JobSummary[]> {
  const [names, positions] = await Promise.all([loadPeople(db, jobs), knownPositions ?? queuePositionsOf(db, jobs)]);
  // A job that left the queue between the page's read and this one shows no position.
  return jobs.map((job) => toJobSummary(job, job.status === 'queued' ? (positions.get(job.id) ?? null) : null, peopleOf(job, names)));
}
