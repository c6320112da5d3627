import { z } from 'zod';
import { publicIdSchema } from './auth.ts';
import { jobIdSchema } from './common.ts';
import { machineResourcesSchema } from './resources.ts';
import { workerEngineSchema } from './worker-api.ts';

export const workerTokenIdSchema = publicIdSchema('wtk', 'Worker token');

export const createWorkerTokenInputSchema = z.object({
  name: z
    .string({ error: 'name is required: say which machine or pool the token is for (1–100 characters).' })
    .trim()
    .min(1, 'name is required: say which machine or pool the token is for (1–100 characters).')
    .max(100, 'name must be at most 100 characters.')
    // A machine or pool name: shown in lists and logs, so nothing that reads as markup or a path.
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'name may hold letters, digits, spaces and . _ - (starting with a letter or digit), e.g. "gpu-box-1".'),
});

/** A worker token as admins see it: never the secret, which is shown once at creation. */
export const workerTokenSchema = z.object({
  id: workerTokenIdSchema,
  name: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
  createdByName: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type WorkerTokenInfo = z.infer<typeof workerTokenSchema>;

export const createdWorkerTokenSchema = workerTokenSchema.extend({ token: z.string() });
export type CreatedWorkerToken = z.infer<typeof createdWorkerTokenSchema>;

/** online: heartbeats arrive; stale: none for three heartbeat intervals (crashed or cut off); stopped: it said goodbye. */
export const workerStateSchema = z.enum(['online', 'stale', 'stopped']);

export const workerNodeSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  tokenName: z.string(),
  state: workerStateSchema,
  /** As it last reported them (entries that do not fit the schema are left out). */
  engines: z.array(workerEngineSchema),
  resources: machineResourcesSchema.nullable(),
  /** The running jobs it holds the lease of. */
  currentJobs: z.array(
    z.object({ id: jobIdSchema, engineId: z.string(), stage: z.string().nullable(), progressPct: z.number().nullable(), startedAt: z.string().nullable(), leaseExpiresAt: z.string().nullable() }),
  ),
  /** How often it is meant to send a heartbeat (state turns stale after three missed). */
  heartbeatMs: z.number().int(),
  startedAt: z.string(),
  lastHeartbeatAt: z.string(),
  stoppedAt: z.string().nullable(),
});
export type WorkerNodeInfo = z.infer<typeof workerNodeSchema>;
