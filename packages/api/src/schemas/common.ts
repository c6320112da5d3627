import { z } from 'zod';

export const JOB_MODES = ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'] as const;
export const jobModeSchema = z.enum(JOB_MODES, {
  error: (issue) => `Unknown mode ${JSON.stringify(issue.input)}; accepted modes: ${JOB_MODES.join(', ')}.`,
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

export const jobIdSchema = z.string().min(1, 'Job id is required.').max(64, 'Job id is too long.');
