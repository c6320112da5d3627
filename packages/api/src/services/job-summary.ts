import type { Db, Job } from '@chorus/db';
import type { JobMode, JobStatus } from '../schemas/common.ts';
import type { JobSummary } from '../schemas/job.ts';

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

export function toJobSummary(job: Job, queuePosition: number | null): JobSummary {
  return {
    id: job.id,
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
    errorCode: job.errorCode,
    errorMessage: job.errorMessage,
    errorHint: job.errorHint,
    audioUrl: job.status === 'succeeded' && job.outputPath ? jobAudioUrl(job.id) : null,
    outputSampleRate: job.outputSampleRate,
    outputDurationMs: job.outputDurationMs,
    outputSha256: job.outputSha256,
    lastSeq: job.lastSeq,
  };
}

export async function loadJobSummary(db: Db, job: Job): Promise<JobSummary> {
  return toJobSummary(job, await queuePositionOf(db, job));
}
