import { z } from 'zod';
import { jobStatusSchema, logLevelSchema } from './common.ts';
import { jobErrorCodeSchema } from './error-codes.ts';

/** Fields every stored event carries. `seq` starts at 1 per job with no gaps. */
const eventBase = {
  seq: z.number().int().positive(),
  at: z.string(), // ISO-8601 timestamp
};

export const statusEventBody = z.object({
  type: z.literal('status'),
  status: jobStatusSchema,
  /** 1-based position in the queue while queued. */
  queuePosition: z.number().int().positive().optional(),
  /** Why the job is in this status, when it is worth saying (e.g. recovered after restart). */
  reason: z.string().optional(),
});
export const stageEventBody = z.object({
  type: z.literal('stage'),
  name: z.string(),
  label: z.string().optional(),
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});
export const progressEventBody = z.object({
  type: z.literal('progress'),
  stage: z.string(),
  step: z.number().int().nonnegative(),
  total: z.number().int().positive(),
  percent: z.number().min(0).max(100),
  etaMs: z.number().int().nonnegative().nullable(),
});
export const logEventBody = z.object({
  type: z.literal('log'),
  level: logLevelSchema,
  message: z.string(),
});
export const resultEventBody = z.object({
  type: z.literal('result'),
  audioUrl: z.string(),
  sampleRate: z.number().int().positive(),
  durationMs: z.number().int().nonnegative(),
  sha256: z.string(),
});
export const errorEventBody = z.object({
  type: z.literal('error'),
  code: jobErrorCodeSchema,
  message: z.string(),
  hint: z.string().optional(),
  stage: z.string().optional(),
});

/** An event before the log assigns it a seq and timestamp. */
export const jobEventBodySchema = z.discriminatedUnion('type', [
  statusEventBody,
  stageEventBody,
  progressEventBody,
  logEventBody,
  resultEventBody,
  errorEventBody,
]);
export type JobEventBody = z.infer<typeof jobEventBodySchema>;

export const jobEventSchema = z.discriminatedUnion('type', [
  statusEventBody.extend(eventBase),
  stageEventBody.extend(eventBase),
  progressEventBody.extend(eventBase),
  logEventBody.extend(eventBase),
  resultEventBody.extend(eventBase),
  errorEventBody.extend(eventBase),
]);
export type JobEvent = z.infer<typeof jobEventSchema>;
export type JobEventOf<T extends JobEvent['type']> = Extract<JobEvent, { type: T }>;

/** Event types that are never dropped or coalesced. */
export const isCoalescible = (e: JobEventBody): boolean => e.type === 'progress';
