import { createHash } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { appRouter, AuthService, createApiContext, createEventLogStore, JobEventLog, remoteEngineWorkers, sweepRetention, workerStaleAfterMs, type ApiServices, type JobEventBus, type StoredFiles } from '@chorus/api';
import { migrateDatabase, openDb } from '@chorus/db';
import { BullmqJobFeed, BullmqJobQueue, createEngines, EmbeddedQueue, InProcessEventBus, killLeftoverCommands, outputStorerFor, promptLoaderFor, RedisEventBus, Worker } from '@chorus/inference';
import { openObjectStore } from '@chorus/storage';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { clearedSessionCookie, sessionCookie } from './auth/cookies.ts';
import { announceSetupLink, createAdminFromEnvironment } from './auth/first-admin.ts';
import { createHttpAuthenticator } from './auth/http-auth.ts';
import { clientAddress, credentialFromRequest, isHttps } from './auth/request-identity.ts';
import { createOriginPolicy } from './auth/request-origin.ts';
import type { Config } from './config.ts';
import { createJobAudioHandler } from './http/job-audio.ts';
import { createRequestHandler } from './http/request-router.ts';
import { createStaticHandler } from './http/static-files.ts';
import { lockDataDir } from './instance-lock.ts';
import { removeLeftovers, SCRATCH_DIR, SHARED_STORE_GRACE_MS } from './storage/leftovers.ts';
import { createUploadHandler } from './http/uploads.ts';
import { createWorkerFileHandlers, createWorkerSupport } from './http/worker-files.ts';
import type { Logger } from './logger.ts';
import { createTrpcErrorLogger } from './trpc-error-log.ts';
import { attachWebSockets } from './ws/websocket-server.ts';

export interface RunningChorus {
  url: string;
  port: number;
  /** Graceful stop: no new work, sockets told to reconnect, running jobs finish or re-queue. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Wraps the event bus the server uses (tests that lose bus messages on purpose). */
  decorateBus?: (bus: JobEventBus) => JobEventBus;
}

/** Wire the embedded default: SQLite, in-process bus and queue, worker in this process (the bus on Redis with REDIS_URL). */
export async function startChorus(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningChorus> {
  const lock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, logger, lock, options);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(config: Config, logger: Logger, lock: { release(): void }, options: StartOptions): Promise<RunningChorus> {
  await migrateDatabase(config.databaseUrl);
  const db = await openDb(config.databaseUrl);
  const scratchDir = path.join(config.dataDir, SCRATCH_DIR);
  // An engine command a kill -9 orphaned would run beside this start's copy of its job.
  const orphanedCommands = killLeftoverCommands(scratchDir);
  if (orphanedCommands > 0) logger.warn({ processes: orphanedCommands }, 'killed engine processes an earlier run of this server left running');
  // Uploads and job audio: the data directory, or the object storage CHORUS_STORAGE_URL names (checked here).
  const store = await openObjectStore(config.storage);
  const leftovers = await removeLeftovers(db, config.dataDir, store, { graceMs: store.shared ? SHARED_STORE_GRACE_MS : 0 });
  if (leftovers.scratch + (leftovers.partial ?? 0) + leftovers.orphans > 0) {
    logger.warn({ ...leftovers, storage: store.location }, 'removed what an interrupted run left in the data directory and storage');
  }
  if (leftovers.partial === null) {
    logger.info({ storage: store.location }, 'this object storage cannot list unfinished multipart uploads; give the bucket a lifecycle rule that aborts them');
  }
  if (!leftovers.ownFiles) {
    logger.warn({ storage: store.location }, 'this storage was used with another database; objects this database does not know are kept (see chorus-storage-id)');
  }
  const engines = await createEngines(config.engines, { scratchDir });
  // Know which remote engines answer before the worker picks jobs for them.
  await engines.startProbing(config.engineProbeMs);
  // Across processes on Redis when REDIS_URL is set: the bus, and the BullMQ queue this server's worker (and standalone ones) take jobs from.
  const redisBus = config.redis ? await RedisEventBus.connect({ ...config.redis, logger: logger.child({ part: 'event-bus' }) }) : null;
  const baseBus: JobEventBus = redisBus ?? new InProcessEventBus();
  const bus = options.decorateBus ? options.decorateBus(baseBus) : baseBus;
  const events = new JobEventLog(db, bus, (err, jobId) => logger.error({ err, jobId }, 'could not push a job change to live lists'), { store: createEventLogStore(db, config.databaseUrl) });
  const bullmq = config.redis
    ? await BullmqJobQueue.connect({ db, ...config.redis, logger: logger.child({ part: 'job-queue' }), reconcileIntervalMs: config.queueReconcileMs })
    : null;
  // With Redis, this server's worker takes jobs from BullMQ like any standalone worker; else it polls the Job rows.
  const feed = config.redis && config.serverRunsJobs
    ? new BullmqJobFeed({
        ...config.redis,
        logger: logger.child({ part: 'job-feed' }),
        // A dead worker's BullMQ job comes back about when its database lease runs out (every feed must use the same values).
        lockDurationMs: config.leaseMs,
        stalledIntervalMs: Math.max(1000, Math.floor(config.leaseMs / 3)),
      })
    : undefined;
  const worker = new Worker({
    feed,
    requeued: (jobId) => void bullmq?.enqueue(jobId),
    runsJobs: config.serverRunsJobs,
    db,
    events,
    engines,
    jobFiles: { loadPrompt: promptLoaderFor(store), storeOutput: outputStorerFor(store) },
    logger: logger.child({ part: 'worker' }),
    // Unique among live workers: only one process holds this data directory (so its earlier runs' jobs are known dead).
    name: `server@${os.hostname()}/${createHash('sha256').update(path.resolve(config.dataDir)).digest('hex').slice(0, 8)}`,
    leaseMs: config.leaseMs,
    concurrency: config.workerConcurrency,
  });
  const queue = bullmq ?? new EmbeddedQueue(worker);
  // Keys come from the database, never from a request (and the store refuses any that could leave it).
  const files: StoredFiles = store;
  const auth = new AuthService(db, { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxMs });
  // Standalone workers reach the store only through the server (workerApi and /api/worker/…).
  const workers = createWorkerSupport({ db, store, leaseMs: config.leaseMs });
  const services: ApiServices = { db, bus, queue, engines, events, files, auth, workers, eventStream: { idleRereadMs: config.eventsIdleRereadMs } };
  const originPolicy = createOriginPolicy({ publicUrl: config.publicUrl, extraHosts: config.allowedHosts, extraOrigins: config.allowedOrigins, trustProxy: config.trustProxy });
  const secureCookie = (req: http.IncomingMessage): boolean =>
    config.secureCookies === 'always' || (config.secureCookies === 'auto' && (isHttps(req, config.trustProxy) || config.publicUrl?.startsWith('https:') === true));

  const trpcHttp = createHTTPHandler({
    router: appRouter,
    // Per request: who is asking (cookie or bearer token) and how to answer with headers.
    createContext: ({ req, res }) =>
      createApiContext(
        services,
        { transport: 'http', ip: clientAddress(req, config.trustProxy), userAgent: req.headers['user-agent'] ?? null },
        credentialFromRequest(req),
        {
          setSessionCookie: (token, expiresAt) => res.appendHeader('set-cookie', sessionCookie(token, expiresAt, secureCookie(req))),
          clearSessionCookie: () => res.appendHeader('set-cookie', clearedSessionCookie(secureCookie(req))),
          setHeader: (name, value) => res.setHeader(name, value),
        },
      ),
    basePath: '/trpc/',
    // Inputs are small JSON; refuse huge bodies before buffering them (WebSocket frames are capped too).
    maxBodySize: 1024 * 1024,
    // Every call of a batch runs at once; the request router refuses longer batches first, with the limit named.
    maxBatchSize: config.maxBatchCalls,
    onError: createTrpcErrorLogger(logger, 'http'),
  });
  const authenticate = createHttpAuthenticator(auth);
  await createAdminFromEnvironment({ db, auth, bootstrap: config.bootstrapAdmin, logger });
  const defaultEngine = engines.get();
  if (!defaultEngine) throw new Error('No engine is configured.');
  const server = http.createServer(
    createRequestHandler(
      {
        trpc: trpcHttp,
        upload: createUploadHandler({ db, store, maxBytes: config.maxUploadBytes, limits: defaultEngine.limits, authenticate, logger: logger.child({ part: 'uploads' }) }),
        jobAudio: createJobAudioHandler({ db, store, authenticate }),
        workerFiles: createWorkerFileHandlers({ db, store }),
        health: async () => {
          await db.$queryRawUnsafe('SELECT 1');
          // Standalone workers whose heartbeats arrive, by engine (counts only: this answers anyone).
          const remote = await remoteEngineWorkers(db, workerStaleAfterMs(config.leaseMs));
          return {
            ok: true,
            engines: engines.list().map((e) => ({ id: e.id, version: e.version, health: engines.health(e.id).status })),
            runningJobs: worker.activeJobs.length,
            remoteEngines: [...remote].map(([id, w]) => ({ id, workers: w.online, up: w.up, concurrency: w.concurrency })),
          };
        },
        web: createStaticHandler(config.webDist),
      },
      originPolicy,
      logger,
      { secureCookie, maxBatchCalls: config.maxBatchCalls },
    ),
  );
  const sockets = attachWebSockets(server, {
    services,
    originPolicy,
    trustProxy: config.trustProxy,
    authRecheckMs: config.wsAuthRecheckMs,
    authTimeoutMs: config.wsAuthTimeoutMs,
    secureCookie,
    callLimits: {
      maxCallsPerMessage: config.maxBatchCalls,
      maxSubscriptions: config.wsMaxSubscriptions,
      maxInFlight: config.wsMaxInFlight,
      callsPerSecond: config.wsCallsPerSecond,
      callBurst: config.wsCallBurst,
    },
    sendLimits: config.wsSendLimits,
    maxPendingPerAddress: config.wsMaxPendingPerAddress,
    logger,
    onError: createTrpcErrorLogger(logger, 'ws'),
  });

  // Listen first: if the port is taken, stop before the worker touches any job.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  await announceSetupLink(auth, config.publicUrl ?? url, logger);
  await worker.start();
  const retention = startRetentionSweeps(() => sweepRetention(db, files, bus), config.retentionSweepMs, logger);
  logger.info({ url, database: config.databaseUrl, dataDir: config.dataDir, storage: store.location, engines: engines.list().map((e) => e.id) }, 'Chorus is listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        logger.info('shutting down: no new jobs, telling clients to reconnect');
        server.close();
        clearInterval(retention);
        sockets.close();
        await worker.stop(config.shutdownGraceMs);
        await engines.close();
        server.closeAllConnections();
        await bullmq?.close();
        await events.close();
        await redisBus?.close();
        await store.close();
        await db.$disconnect();
        lock.release();
        logger.info('shutdown complete');
      })()),
  };
}

/** Old jobs go when the admin set a retention period: at start, then on a timer. */
function startRetentionSweeps(sweep: () => Promise<number>, everyMs: number, logger: Logger): NodeJS.Timeout {
  const run = (): void => {
    sweep().then(
      (deleted) => deleted > 0 && logger.info({ deleted }, 'deleted jobs past the retention period'),
      (err: unknown) => logger.error({ err }, 'retention sweep failed'),
    );
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return timer;
}
