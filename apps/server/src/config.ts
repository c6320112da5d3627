import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngineConfigs, REDIS_PREFIX_PATTERN, type EngineConfig } from '@chorus/inference';
import { storageConfigFromEnv, StorageConfigError, type StorageConfig } from '@chorus/storage';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const MB = 1024 * 1024;

function isRedisUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Every setting comes from the environment; README.md documents each one with its default. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8765),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().default('file:./data/chorus.db'),
  // Read by @chorus/db when it opens the file; checked here so a typo stops the start with the rest.
  CHORUS_SQLITE_SYNCHRONOUS: z.string().optional().refine((v) => v === undefined || ['', 'normal', 'full'].includes(v.trim().toLowerCase()), { message: 'must be "normal" (the default) or "full"' }),
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
  CHORUS_WS_CALLS_PER_SECOND: z.coerce.number().positive().max(100_000).default(50),
  CHORUS_WS_CALL_BURST: z.coerce.number().int().min(1).max(100_000).default(100),
  CHORUS_WS_SOFT_BUFFER_MB: z.coerce.number().positive().max(1024).default(1),
  CHORUS_WS_HARD_BUFFER_MB: z.coerce.number().positive().max(4096).default(16),
  CHORUS_RETENTION_SWEEP_MS: z.coerce.number().int().min(1000).default(3600_000),
  CHORUS_MAX_UPLOAD_MB: z.coerce.number().positive().default(20),
  CHORUS_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  CHORUS_ENGINE_PROBE_MS: z.coerce.number().int().min(100).default(15_000),
  CHORUS_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  CHORUS_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  CHORUS_SERVER_RUNS_JOBS: z.enum(['true', 'false'], { error: 'CHORUS_SERVER_RUNS_JOBS must be true or false' }).default('true'),
  REDIS_URL: z
    .string()
    .optional()
    .refine((u) => !u || isRedisUrl(u), { message: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379 (unset: the embedded bus and queue)' }),
  CHORUS_REDIS_PREFIX: z
    .string()
    .default('chorus')
    .refine((p) => REDIS_PREFIX_PATTERN.test(p), { message: 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. chorus-staging)' }),
  CHORUS_QUEUE_RECONCILE_MS: z.coerce.number().int().min(100).max(3600_000).default(30_000),
  CHORUS_EVENTS_IDLE_REREAD_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  CHORUS_WEB_DIST: z.string().default(path.join(repoRoot, 'apps/web/dist')),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  dataDir: string;
  /** Where uploads and job audio are stored (CHORUS_STORAGE_URL: the data directory by default, or S3). */
  storage: StorageConfig;
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
  /** Calls one WebSocket may start per second on average, and at once. */
  wsCallsPerSecond: number;
  wsCallBurst: number;
  /** Unread bytes per WebSocket: above softBytes frames queue (progress coalesced), above hardBytes it is closed. */
  wsSendLimits: { softBytes: number; hardBytes: number };
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
  /** A running job's lease: renewed every third of it; a job whose lease ran out is recovered. */
  leaseMs: number;
  /** False: only standalone workers run jobs (needs REDIS_URL); this server still recovers abandoned ones. */
  serverRunsJobs: boolean;
  /** Redis (REDIS_URL) and the prefix of every key and channel; null: the embedded bus and queue. */
  redis: { url: string; prefix: string } | null;
  /** How often the BullMQ queue enqueues again the queued job rows Redis lost. */
  queueReconcileMs: number;
  /** A job.events stream that heard nothing this long re-reads the log (0: never). */
  eventsIdleRereadMs: number;
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
  if (e.CHORUS_WS_HARD_BUFFER_MB <= e.CHORUS_WS_SOFT_BUFFER_MB) {
    throw new Error(
      `Invalid configuration: CHORUS_WS_HARD_BUFFER_MB (${e.CHORUS_WS_HARD_BUFFER_MB}) must be larger than CHORUS_WS_SOFT_BUFFER_MB (${e.CHORUS_WS_SOFT_BUFFER_MB}).`,
    );
  }
  if (e.CHORUS_SERVER_RUNS_JOBS === 'false' && !e.REDIS_URL) {
    throw new Error('Invalid configuration: CHORUS_SERVER_RUNS_JOBS=false needs REDIS_URL (standalone workers take jobs from its BullMQ queue); without it, nothing would run the jobs.');
  }
  if (Boolean(e.CHORUS_ADMIN_EMAIL) !== Boolean(e.CHORUS_ADMIN_PASSWORD)) {
    throw new Error('Invalid configuration: set both CHORUS_ADMIN_EMAIL and CHORUS_ADMIN_PASSWORD, or neither.');
  }
  const dataDir = path.resolve(cwd, e.CHORUS_DATA_DIR);
  let storage: StorageConfig;
  try {
    storage = storageConfigFromEnv(env, dataDir);
  } catch (err) {
    if (err instanceof StorageConfigError) throw new Error(`Invalid configuration: ${err.message}`);
    throw err;
  }
  const list = (v: string): string[] => v.split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    storage,
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
    wsCallsPerSecond: e.CHORUS_WS_CALLS_PER_SECOND,
    wsCallBurst: e.CHORUS_WS_CALL_BURST,
    wsSendLimits: { softBytes: Math.round(e.CHORUS_WS_SOFT_BUFFER_MB * MB), hardBytes: Math.round(e.CHORUS_WS_HARD_BUFFER_MB * MB) },
    retentionSweepMs: e.CHORUS_RETENTION_SWEEP_MS,
    maxUploadBytes: Math.round(e.CHORUS_MAX_UPLOAD_MB * MB),
    workerConcurrency: e.CHORUS_WORKER_CONCURRENCY ?? engines.reduce((sum, engine) => sum + engine.concurrency, 0),
    engines,
    shutdownGraceMs: e.CHORUS_SHUTDOWN_GRACE_MS,
    engineProbeMs: e.CHORUS_ENGINE_PROBE_MS,
    leaseMs: e.CHORUS_LEASE_MS,
    serverRunsJobs: e.CHORUS_SERVER_RUNS_JOBS === 'true',
    redis: e.REDIS_URL ? { url: e.REDIS_URL, prefix: e.CHORUS_REDIS_PREFIX } : null,
    queueReconcileMs: e.CHORUS_QUEUE_RECONCILE_MS,
    eventsIdleRereadMs: e.CHORUS_EVENTS_IDLE_REREAD_MS,
    webDist: path.resolve(cwd, e.CHORUS_WEB_DIST),
    logLevel: e.LOG_LEVEL,
  };
}
