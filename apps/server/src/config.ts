import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngineConfigs, type EngineConfig } from '@chorus/inference';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const MB = 1024 * 1024;

/** Every setting comes from the environment; README.md documents each one with its default. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8765),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().default('file:./data/chorus.db'),
  CHORUS_DATA_DIR: z.string().default('./data'),
  CHORUS_ALLOWED_ORIGINS: z.string().default(''),
  CHORUS_MAX_UPLOAD_MB: z.coerce.number().positive().default(20),
  CHORUS_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  CHORUS_ENGINE_PROBE_MS: z.coerce.number().int().min(100).default(15_000),
  CHORUS_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  CHORUS_WEB_DIST: z.string().default(path.join(repoRoot, 'apps/web/dist')),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  dataDir: string;
  /** Origins allowed to open WebSockets besides the server's own. */
  allowedOrigins: string[];
  maxUploadBytes: number;
  /** Jobs the in-process worker runs at once: by default the sum of the engines' concurrency. */
  workerConcurrency: number;
  /** Engine instances (CHORUS_ENGINES_FILE / CHORUS_ENGINES; the built-in engine by default). */
  engines: EngineConfig[];
  shutdownGraceMs: number;
  /** How often remote engines are probed. */
  engineProbeMs: number;
  webDist: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const engines = loadEngineConfigs(env);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(cwd, e.CHORUS_DATA_DIR),
    allowedOrigins: e.CHORUS_ALLOWED_ORIGINS.split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean),
    maxUploadBytes: Math.round(e.CHORUS_MAX_UPLOAD_MB * MB),
    workerConcurrency: e.CHORUS_WORKER_CONCURRENCY ?? engines.reduce((sum, engine) => sum + engine.concurrency, 0),
    engines,
    shutdownGraceMs: e.CHORUS_SHUTDOWN_GRACE_MS,
    engineProbeMs: e.CHORUS_ENGINE_PROBE_MS,
    webDist: path.resolve(cwd, e.CHORUS_WEB_DIST),
    logLevel: e.LOG_LEVEL,
  };
}
