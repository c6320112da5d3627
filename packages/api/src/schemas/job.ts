import { z } from 'zod';
import { jobModeSchema, jobStatusSchema } from './common.ts';
import { jobErrorCodeSchema } from './error-codes.ts';

/** A person as a job row names them. */
export const personRefSchema = z.object({ id: z.string(), name: z.string() });
export type PersonRef = z.infer<typeof personRefSchema>;

/** A job as the API returns it (history rows, job page, onChange pushes). */
export const jobSummarySchema = z.object({
  id: z.string(),
  /** Who created it (null for jobs from before accounts existed). */
  createdBy: personRefSchema.nullable(),
  canceledBy: personRefSchema.nullable(),
  /** "rerun" or "retry" when the job has a parent. */
  parentRelation: z.enum(['rerun', 'retry']).nullable(),
  parentId: z.string().nullable(),
  mode: jobModeSchema,
  text: z.string(),
  promptUploadId: z.string().nullable(),
  promptText: z.string().nullable(),
  instruct: z.string().nullable(),
  speakerId: z.string().nullable(),
  speed: z.number(),
  seed: z.number().int(),
  engineId: z.string(),
  engineKind: z.string(),
  engineVersion: z.string(),
  /** The engine promised byte-identical output for the same inputs + seed. */
  deterministic: z.boolean(),
  status: jobStatusSchema,
  queuePosition: z.number().int().positive().nullable(),
  stage: z.string().nullable(),
  stageIndex: z.number().int().nullable(),
  stageCount: z.number().int().nullable(),
  progressStep: z.number().int().nullable(),
  progressTotal: z.number().int().nullable(),
  progressPct: z.number().nullable(),
  etaMs: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Stored codes this version does not know read back as INTERNAL (see toJobErrorCode). */
  errorCode: jobErrorCodeSchema.nullable(),
  errorMessage: z.string().nullable(),
  errorHint: z.string().nullable(),
  /** Failures of the same cause share it (the admin's failed-run review groups by it). */
  failureFingerprint: z.string().nullable(),
  audioUrl: z.string().nullable(),
  outputSampleRate: z.number().int().nullable(),
  outputDurationMs: z.number().int().nullable(),
  outputSha256: z.string().nullable(),
  lastSeq: z.number().int(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;

export const createJobResultSchema = z.object({
  id: z.string(),
  seed: z.number().int(),
  status: jobStatusSchema,
  queuePosition: z.number().int().positive().nullable(),
});
export type CreateJobResult = z.infer<typeof createJobResultSchema>;

/** A push to open history lists; for "deleted", `job` is the job as it was just before it went. */
export const jobChangeSchema = z.object({
  kind: z.enum(['created', 'updated', 'deleted']),
  job: jobSummarySchema,
});
export type JobChange = z.infer<typeof jobChangeSchema>;
