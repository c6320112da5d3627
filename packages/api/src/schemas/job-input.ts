import { z } from 'zod';
import { jobIdSchema, jobModeSchema, jobStatusSchema, seedSchema, speedSchema } from './common.ts';

/**
 * job.create input. Shape only; per-mode rules and engine limits (text length, speakers)
 * are checked against the engine's declared capabilities in the router, which knows them.
 */
export const createJobInputSchema = z.object({
  mode: jobModeSchema,
  // The engine's own limit is checked later with a precise message; this only bounds the request.
  text: z.string({ error: 'Text is required.' }).max(100_000, 'Text is longer than 100000 characters.'),
  promptUploadId: z.string().min(1).max(64).optional(),
  promptText: z.string().max(2000, 'Prompt transcript is longer than 2000 characters.').optional(),
  instruct: z.string().max(500, 'Instruction is longer than 500 characters.').optional(),
  speakerId: z.string().max(100).optional(),
  speed: speedSchema.optional(),
  seed: seedSchema.optional(),
  engineId: z.string().max(100).optional(),
});
export type CreateJobInput = z.infer<typeof createJobInputSchema>;

export const getJobInputSchema = z.object({ id: jobIdSchema });

export const listJobsInputSchema = z.object({
  cursor: z.string().max(64).nullish(),
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
});
export type RerunJobInput = z.infer<typeof rerunJobInputSchema>;

export const cancelJobInputSchema = z.object({ id: jobIdSchema });

/** tRPC's wsLink sends the last tracked id back as `lastEventId` on reconnect. */
export const jobEventsInputSchema = z.object({
  id: jobIdSchema,
  lastEventId: z.string().nullish(),
});
