import { z } from 'zod';
import { jobIdSchema } from './common.ts';
import { engineHealthSchema, engineKindSchema } from './engine.ts';
import { errorEventBody, logEventBody, progressEventBody, stageEventBody, statusEventBody } from './job-event.ts';
import { publicIdSchema } from './auth.ts';
import { machineResourcesSchema } from './resources.ts';
import { jobSummarySchema } from './job.ts';

/**
 * The typed API a standalone inference worker speaks (workerApi.* over HTTP with its
 * `chorus_wk_…` token, plus two HTTP routes for the audio files). A worker knows only the
 * server's URL and its token: everything it needs about a job comes from here.
 */

export const workerIdSchema = publicIdSchema('wrk', 'Worker');

/** Names and versions: what a machine or an engine calls itself, shown in lists and logs. */
const label = (what: string, max: number) =>
  z
    .string({ error: `${what} is required (1–${max} characters).` })
    .trim()
    .min(1, `${what} is required (1–${max} characters).`)
    .max(max, `${what} must be at most ${max} characters.`)
    // Shown in the admin's pages: printable text only, no control characters.
    .regex(/^[^\p{Cc}]+$/u, `${what} may not hold control characters.`);

/** One engine a worker runs, as it reports it at registration and in every heartbeat. */
export const workerEngineSchema = z.object({
  id: z
    .string({ error: 'engine id is required.' })
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'engine id must be 1–64 lower-case letters, digits, _ or - (the id in the engines file), e.g. "cosyvoice3".'),
  kind: engineKindSchema,
  version: label('engine version', 200),
  concurrency: z.number({ error: 'concurrency must be a whole number from 1 to 64.' }).int('concurrency must be a whole number from 1 to 64.').min(1, 'concurrency must be from 1 to 64.').max(64, 'concurrency must be from 1 to 64.'),
  health: engineHealthSchema,
});
export type WorkerEngine = z.infer<typeof workerEngineSchema>;

const MAX_ENGINES = 32;
const enginesSchema = z
  .array(workerEngineSchema, { error: `engines must be a list of 1 to ${MAX_ENGINES} engines.` })
  .min(1, 'engines must name at least one engine: a worker without engines can run nothing.')
  .max(MAX_ENGINES, `engines may list at most ${MAX_ENGINES} engines.`)
  .refine((list) => new Set(list.map((e) => e.id)).size === list.length, { message: 'engines lists an engine id twice; each engine appears once.' });

export const registerWorkerInputSchema = z.object({
  name: label('name', 100),
  version: label('version', 50),
  engines: enginesSchema,
  resources: machineResourcesSchema,
});
export type RegisterWorkerInput = z.infer<typeof registerWorkerInputSchema>;

export const registeredWorkerSchema = z.object({
  workerId: workerIdSchema,
  /** How long a claimed job's lease lasts without a heartbeat. */
  leaseMs: z.number().int().positive(),
  /** How often to send a heartbeat (a third of the lease). */
  heartbeatMs: z.number().int().positive(),
});
export type RegisteredWorker = z.infer<typeof registeredWorkerSchema>;

const epochSchema = z.number({ error: 'epoch is required: the lease epoch claim returned.' }).int('epoch must be a whole number.').nonnegative('epoch must not be negative.');

/** A job the worker runs, with the lease epoch its claim returned. */
export const heldJobSchema = z.object({ jobId: jobIdSchema, epoch: epochSchema });

/** Most running jobs one heartbeat reports (more than any worker's total concurrency). */
export const MAX_HEARTBEAT_JOBS = 256;

export const heartbeatInputSchema = z.object({
  workerId: workerIdSchema,
  engines: enginesSchema,
  resources: machineResourcesSchema,
  running: z.array(heldJobSchema).max(MAX_HEARTBEAT_JOBS, `running may list at most ${MAX_HEARTBEAT_JOBS} jobs.`),
});
export type HeartbeatInput = z.infer<typeof heartbeatInputSchema>;

export const heartbeatResultSchema = z.object({
  /** Jobs whose lease this worker no longer holds (taken over, ended, re-queued): stop them, write nothing more. */
  lost: z.array(jobIdSchema),
  /** Jobs someone asked to cancel: stop them and append their `canceled` status. */
  cancel: z.array(jobIdSchema),
});
export type HeartbeatResult = z.infer<typeof heartbeatResultSchema>;

export const claimInputSchema = z.object({ workerId: workerIdSchema, jobId: jobIdSchema });

/** What a run needs; the prompt audio itself comes from GET /api/worker/jobs/:id/prompt. */
export const claimedJobSchema = z.object({
  job: jobSummarySchema.pick({ mode: true, text: true, promptText: true, instruct: true, speakerId: true, speed: true, seed: true, engineId: true, engineVersion: true }).extend({
    id: jobIdSchema,
    /** The reference voice, when the mode takes one (its sha256 lets a worker cache it). */
    prompt: z.object({ uploadId: z.string(), sha256: z.string(), sampleRate: z.number().int(), durationMs: z.number().int() }).nullable(),
    /** Set when a cancel raced the claim: stop at once and append `canceled`. */
    cancelRequested: z.boolean(),
  }),
  lease: z.object({ owner: z.string(), epoch: z.number().int(), expiresAt: z.string() }),
});
export type ClaimedJob = z.infer<typeof claimedJobSchema>;

/** The statuses a worker may end a run with; `succeeded` only through complete. */
export const WORKER_FINAL_STATUSES = ['failed', 'canceled', 'queued'] as const;

/** What a worker may write into a job's log: no `result`, and no status but the ends it reaches itself. */
export const workerEventBodySchema = z.discriminatedUnion(
  'type',
  [
    logEventBody,
    stageEventBody,
    progressEventBody,
    errorEventBody,
    statusEventBody.extend({
      status: z.enum(WORKER_FINAL_STATUSES, {
        error: 'a worker may only set status failed, canceled or queued (given back on shutdown); succeeded comes with workerApi.complete.',
      }),
    }),
  ],
  { error: 'events may only be log, stage, progress, error or status events; the result comes with workerApi.complete.' },
);
export type WorkerEventBody = z.infer<typeof workerEventBodySchema>;

/** Most events one append call carries (a worker batches what it buffered while the server was slow). */
export const MAX_APPEND_EVENTS = 200;

export const appendInputSchema = z.object({
  workerId: workerIdSchema,
  jobId: jobIdSchema,
  epoch: epochSchema,
  events: z
    .array(workerEventBodySchema, { error: `events must be a list of 1 to ${MAX_APPEND_EVENTS} events.` })
    .min(1, 'events is empty: send at least one event.')
    .max(MAX_APPEND_EVENTS, `At most ${MAX_APPEND_EVENTS} events per append call; split them into several calls.`),
});
export type AppendInput = z.infer<typeof appendInputSchema>;

export const acceptedSchema = z.object({
  /** False: the lease is no longer this worker's (taken over, or the job ended); nothing was written, stop the run. */
  accepted: z.boolean(),
});

export const completeInputSchema = z.object({
  workerId: workerIdSchema,
  jobId: jobIdSchema,
  epoch: epochSchema,
  /** The sha256 PUT /api/worker/jobs/:id/output answered with: the server checks it holds those bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits (what the output upload answered).'),
  /** How long the engine took, for the Done log line (real-time factor). */
  wallMs: z.number().int().nonnegative().max(7 * 24 * 3600_000),
});
export type CompleteInput = z.infer<typeof completeInputSchema>;

export const goodbyeInputSchema = z.object({ workerId: workerIdSchema });

/** PUT /api/worker/jobs/:id/output answers with where the WAV was stored. */
export const storedWorkerOutputSchema = z.object({ key: z.string(), sha256: z.string(), bytes: z.number().int(), sampleRate: z.number().int(), durationMs: z.number().int() });
export type StoredWorkerOutput = z.infer<typeof storedWorkerOutputSchema>;
