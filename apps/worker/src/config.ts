import os from 'node:os';
import path from 'node:path';
import { WORKER_TOKEN_PREFIX } from '@chorus/api';
import { loadEngineConfigs, REDIS_PREFIX_PATTERN, type EngineConfig } from '@chorus/inference';
import { z } from 'zod';

/** What a standalone worker needs: the server, its token, Redis and its engines; no database, no shared disk. */
const envSchema = z.object({
  CHORUS_SERVER_URL: z
    .string({ error: 'CHORUS_SERVER_URL is required: the URL of a Chorus server, e.g. https://chorus.example.com' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { message: 'CHORUS_SERVER_URL must be an http:// or https:// URL, e.g. https://chorus.example.com' }),
  CHORUS_WORKER_TOKEN: z
    .string({ error: `CHORUS_WORKER_TOKEN is required: a worker token an admin created (it starts with ${WORKER_TOKEN_PREFIX}).` })
    .refine((t) => t.startsWith(WORKER_TOKEN_PREFIX), { message: `CHORUS_WORKER_TOKEN must be a worker token (it starts with ${WORKER_TOKEN_PREFIX}); a person's token does not work here.` }),
  REDIS_URL: z
    .string({ error: 'REDIS_URL is required: the Redis the servers use, e.g. redis://redis.internal:6379' })
    .refine((u) => URL.canParse(u) && /^rediss?:$/.test(new URL(u).protocol), { message: 'REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' }),
  CHORUS_REDIS_PREFIX: z
    .string()
    .default('chorus')
    .refine((p) => REDIS_PREFIX_PATTERN.test(p), { message: 'CHORUS_REDIS_PREFIX must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (the servers\' value)' }),
  CHORUS_WORKER_NAME: z.string().trim().min(1).max(100).default(os.hostname()),
  CHORUS_WORKER_DATA_DIR: z.string().default('./worker-data'),
  CHORUS_ENGINE_PROBE_MS: z.coerce.number().int().min(100).default(15_000),
  CHORUS_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface WorkerConfig {
  serverUrl: string;
  token: string;
  redis: { url: string; prefix: string };
  name: string;
  /** Engine scratch folders (a person's voice while a job runs) live here, never in the shared temp dir. */
  dataDir: string;
  engines: EngineConfig[];
  engineProbeMs: number;
  shutdownGraceMs: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WorkerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const e = parsed.data;
  return {
    serverUrl: e.CHORUS_SERVER_URL.replace(/\/$/, ''),
    token: e.CHORUS_WORKER_TOKEN,
    redis: { url: e.REDIS_URL, prefix: e.CHORUS_REDIS_PREFIX },
    name: e.CHORUS_WORKER_NAME,
    dataDir: path.resolve(cwd, e.CHORUS_WORKER_DATA_DIR),
    engines: loadEngineConfigs(env),
    engineProbeMs: e.CHORUS_ENGINE_PROBE_MS,
    shutdownGraceMs: e.CHORUS_SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
  };
}
