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
  CHORUS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .refine((v) => v.split(',').every((o) => !o.trim() || /^https?:\/\/[^/]+\/?$/.test(o.trim())), {
      message: 'must be comma-separated origins (scheme://host[:port], no path), e.g. https://studio.example.com,http://localhost:5173',
    }),
  CHORUS_PUBLIC_URL: z
    .string()
    .optional()
    .refine((u) => u === undefined || u === '' || /^https?:\/\/[^/]+/.test(u), { message: 'must be an http:// or https:// URL, e.g. https://chorus.example.com' }),
  CHORUS_ALLOWED_HOSTS: z.string().default(''),
  CHORUS_TRUST_PROXY: z.enum(['true', 'false', '1', '0', '']).default('false'),
  CHORUS_SECURE_COOKIES: z.enum(['auto', 'true', 'false']).default('auto'),
  CHORUS_ADMIN_EMAIL: z.string().optional(),
  CHORUS_ADMIN_PASSWORD: z.string().optional(),
  CHORUS_ADMIN_NAME: z.string().default('Admin'),
  CHORUS_SESSION_IDLE_HOURS: z.coerce.number().positive().default(7 * 24),
  CHORUS_SESSION_MAX_DAYS: z.coerce.number().positive().default(30),
  CHORUS_WS_AUTH_RECHECK_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  CHORUS_WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(10_000),
  CHORUS_MAX_BATCH_CALLS: z.coerce.number().int().min(1).max(1000).default(20),
  CHORUS_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(50),
  CHORUS_WS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(20),
  CHORUS_WS_MAX_PENDING_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(20),
  CHORUS_RETENTION_SWEEP_MS: z.coerce.number().int().min(1000).default(3600_000),
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
  /** Origins allowed besides the exact origin a request was addressed to (scheme://Host). */
  allowedOrigins: string[];
  /** The URL people use to reach Chorus (behind a proxy); its host and origin are allowed. */
  publicUrl: string | null;
  /** Host names besides localhost, loopback and this machine's names. */
  allowedHosts: string[];
  /** Take the client address and scheme from X-Forwarded-For / X-Forwarded-Proto. */
  trustProxy: boolean;
  /** Secure cookies: always, never, or when the request came over https (auto). */
  secureCookies: 'auto' | 'always' | 'never';
  /** Unattended installs: the first admin, created at start when none exists. */
  bootstrapAdmin: { email: string; password: string; name: string } | null;
  sessionIdleMs: number;
  sessionMaxMs: number;
  wsAuthRecheckMs: number;
  /** A socket that announced connectionParams is closed if no working credential arrives in this time. */
  wsAuthTimeoutMs: number;
  /** Most calls in one tRPC HTTP batch or WebSocket message. */
  maxBatchCalls: number;
  /** Most live subscriptions on one WebSocket. */
  wsMaxSubscriptions: number;
  /** Most unanswered queries and mutations on one WebSocket. */
  wsMaxInFlight: number;
  /** Most WebSockets per client address that announced connectionParams and have not signed in yet. */
  wsMaxPendingPerAddress: number;
  /** How often jobs past the admin's retention period are deleted. */
  retentionSweepMs: number;
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
  if (Boolean(e.CHORUS_ADMIN_EMAIL) !== Boolean(e.CHORUS_ADMIN_PASSWORD)) {
    throw new Error('Invalid configuration: set both CHORUS_ADMIN_EMAIL and CHORUS_ADMIN_PASSWORD, or neither.');
  }
  const list = (v: string): string[] => v.split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(cwd, e.CHORUS_DATA_DIR),
    allowedOrigins: list(e.CHORUS_ALLOWED_ORIGINS),
    publicUrl: e.CHORUS_PUBLIC_URL ? e.CHORUS_PUBLIC_URL.replace(/\/$/, '') : null,
    allowedHosts: list(e.CHORUS_ALLOWED_HOSTS),
    trustProxy: e.CHORUS_TRUST_PROXY === 'true' || e.CHORUS_TRUST_PROXY === '1',
    secureCookies: e.CHORUS_SECURE_COOKIES === 'true' ? 'always' : e.CHORUS_SECURE_COOKIES === 'false' ? 'never' : 'auto',
    bootstrapAdmin: e.CHORUS_ADMIN_EMAIL && e.CHORUS_ADMIN_PASSWORD ? { email: e.CHORUS_ADMIN_EMAIL, password: e.CHORUS_ADMIN_PASSWORD, name: e.CHORUS_ADMIN_NAME } : null,
    sessionIdleMs: Math.round(e.CHORUS_SESSION_IDLE_HOURS * 3600_000),
    sessionMaxMs: Math.round(e.CHORUS_SESSION_MAX_DAYS * 24 * 3600_000),
    wsAuthRecheckMs: e.CHORUS_WS_AUTH_RECHECK_MS,
    wsAuthTimeoutMs: e.CHORUS_WS_AUTH_TIMEOUT_MS,
    maxBatchCalls: e.CHORUS_MAX_BATCH_CALLS,
    wsMaxSubscriptions: e.CHORUS_WS_MAX_SUBSCRIPTIONS,
    wsMaxInFlight: e.CHORUS_WS_MAX_IN_FLIGHT,
    wsMaxPendingPerAddress: e.CHORUS_WS_MAX_PENDING_PER_ADDRESS,
    retentionSweepMs: e.CHORUS_RETENTION_SWEEP_MS,
    maxUploadBytes: Math.round(e.CHORUS_MAX_UPLOAD_MB * MB),
    workerConcurrency: e.CHORUS_WORKER_CONCURRENCY ?? engines.reduce((sum, engine) => sum + engine.concurrency, 0),
    engines,
    shutdownGraceMs: e.CHORUS_SHUTDOWN_GRACE_MS,
    engineProbeMs: e.CHORUS_ENGINE_PROBE_MS,
    webDist: path.resolve(cwd, e.CHORUS_WEB_DIST),
    logLevel: e.LOG_LEVEL,
  };
}
