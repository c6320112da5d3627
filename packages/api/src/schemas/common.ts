import { z } from 'zod';

export const JOB_MODES = ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'] as const;
export const jobModeSchema = z.enum(JOB_MODES, {
  // The value is not echoed: a reply should not reflect a client's string back.
  error: `Unknown mode; accepted modes: ${JOB_MODES.join(', ')}.`,
});
export type JobMode = z.infer<typeof jobModeSchema>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminalStatus = (s: JobStatus): boolean => TERMINAL_STATUSES.includes(s);

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const logLevelSchema = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof logLevelSchema>;

/** Seeds are unsigned 32-bit: what numpy/torch seeding (and CosyVoice's set_all_random_seed) accepts. */
export const SEED_MIN = 0;
export const SEED_MAX = 2 ** 32 - 1;
export const seedSchema = z
  .number({ error: `Seed must be an integer from ${SEED_MIN} to ${SEED_MAX}.` })
  .refine((n) => Number.isInteger(n) && n >= SEED_MIN && n <= SEED_MAX, {
    message: `Seed must be an integer from ${SEED_MIN} to ${SEED_MAX}.`,
  });

export const SPEED_MIN = 0.5;
export const SPEED_MAX = 2.0;
export const speedSchema = z
  .number({ error: `Speed must be a number from ${SPEED_MIN} to ${SPEED_MAX}.` })
  .refine((n) => Number.isFinite(n) && n >= SPEED_MIN && n <= SPEED_MAX, {
    message: `Speed must be from ${SPEED_MIN} to ${SPEED_MAX} (1.0 is normal speed).`,
  });

/**
 * A string field that must be valid Unicode: a lone UTF-16 surrogate cannot be stored or
 * compared reliably, so it is refused with a message instead of reaching the database.
 */
export const wellFormedText = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string.` })
    .max(max, `${what} is longer than ${max} characters.`)
    .refine((s) => s.isWellFormed(), { message: `${what} contains an unpaired UTF-16 surrogate; send valid Unicode text.` });

export const JOB_ID_PATTERN = /^job_[0-9a-z]{26}$/;
export const JOB_ID_RULE = 'A job id is "job_" followed by 26 lower-case letters and digits (e.g. job_01kbf0c3m4r8q2w5x7y9z1a2b3).';
export const isJobId = (s: string): boolean => JOB_ID_PATTERN.test(s);
export const jobIdSchema = z
  .string({ error: `Job id is required. ${JOB_ID_RULE}` })
  .refine(isJobId, { message: `Malformed job id. ${JOB_ID_RULE}` });
