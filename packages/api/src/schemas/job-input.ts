import { z } from 'zod';
import { jobIdSchema, jobModeSchema, jobStatusSchema, seedSchema, speedSchema, wellFormedText } from './common.ts';

/**
 * A client's id for one submission: sending the same request again with it (after a lost
 * answer) returns the job it created instead of a second one.
 */
export const clientRequestIdSchema = z
  .string({ error: 'clientRequestId must be a string.' })
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'clientRequestId must be 8 to 64 letters, digits, "-" or "_" (a UUID works).');

/**
 * job.create input. Shape only; per-mode rules and engine limits (text length, speakers)
 * are checked against the engine's declared capabilities in the router, which knows them.
 */
export const createJobInputSchema = z.object({
  mode: jobModeSchema,
  // The engine's own limit is checked later with a precise message; this only bounds the request.
  text: z.string({ error: 'Text is required.' }).pipe(wellFormedText('Text', 100_000)),
  promptUploadId: wellFormedText('promptUploadId', 64).optional(),
  promptText: wellFormedText('Prompt transcript', 2000).optional(),
  instruct: wellFormedText('Instruction', 500).optional(),
  speakerId: wellFormedText('speakerId', 100).optional(),
  speed: speedSchema.optional(),
  seed: seedSchema.optional(),
  engineId: wellFormedText('engineId', 100).optional(),
  clientRequestId: clientRequestIdSchema.optional(),
});
export type CreateJobInput = z.infer<typeof createJobInputSchema>;

export const getJobInputSchema = z.object({ id: jobIdSchema });

export const listJobsInputSchema = z.object({
  cursor: jobIdSchema.nullish(),
  /** "mine", "everyone" (default) or a person's user id. */
  createdBy: z.union([z.literal('mine'), z.literal('everyone'), z.string().regex(/^usr_[0-9a-z]{26}$/, 'createdBy must be "mine", "everyone" or a user id (usr_…).')]).optional(),
  limit: z.number().int().min(1, 'limit must be 1–100.').max(100, 'limit must be 1–100.').default(20),
  status: jobStatusSchema.optional(),
});
export type ListJobsInput = z.infer<typeof listJobsInputSchema>;

export const rerunJobInputSchema = z.object({
  id: jobIdSchema,
  /** A number pins that seed; 'same' (default) reuses the parent's; 'random' draws a new one. */
  seed: z
    .union([seedSchema, z.literal('same'), z.literal('random')], {
      error: `Seed must be "same", "random" or an integer from 0 to 4294967295.`,
    })
    .default('same'),
  clientRequestId: clientRequestIdSchema.optional(),
});
export type RerunJobInput = z.infer<typeof rerunJobInputSchema>;

export const cancelJobInputSchema = z.object({ id: jobIdSchema });

/** tRPC's wsLink sends the last tracked id back as `lastEventId` on reconnect. */
export const jobEventsInputSchema = z.object({
  id: jobIdSchema,
  lastEventId: wellFormedText('lastEventId', 20).nullish(),
});

export const deleteJobInputSchema = z.object({ id: jobIdSchema });
