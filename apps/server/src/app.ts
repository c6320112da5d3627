import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { appRouter, AuthService, createApiContext, JobEventLog, sweepRetention, type ApiServices, type StoredFiles } from '@chorus/api';
import { migrateDatabase, openDb } from '@chorus/db';
import { createEngines, EmbeddedQueue, InProcessEventBus, killLeftoverCommands, Worker } from '@chorus/inference';
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
import { removeLeftovers, SCRATCH_DIR } from './storage/leftovers.ts';
import { createUploadHandler } from './http/uploads.ts';
import type { Logger } from './logger.ts';
import { createTrpcErrorLogger } from './trpc-error-log.ts';
import { attachWebSockets } from './ws/websocket-server.ts';

export interface RunningChorus {
  url: string;
  port: number;
  /** Graceful stop: no new work, sockets told to reconnect, running jobs finish or re-queue. */
  close(): Promise<void>;
}

/** Wire the embedded default: SQLite, in-process bus and queue, worker in this process. */
export async function startChorus(config: Config, logger: Logger): Promise<RunningChorus> {
  const lock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, logger, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(config: Config, logger: Logger, lock: { release(): void }): Promise<RunningChorus> {
  await migrateDatabase(config.databaseUrl);
  const db = await openDb(config.databaseUrl);
  const scratchDir = path.join(config.dataDir, SCRATCH_DIR);
  // An engine command a kill -9 orphaned would run beside this start's copy of its job.
  const orphanedCommands = killLeftoverCommands(scratchDir);
  if (orphanedCommands > 0) logger.warn({ processes: orphanedCommands }, 'killed engine processes an earlier run of this server left running');
  const leftovers = await removeLeftovers(db, config.dataDir);
  if (leftovers.scratch + leftovers.partial + leftovers.orphans > 0) {
    logger.warn(leftovers, 'removed what an interrupted run left in the data directory');
  }
  if (!leftovers.ownFiles) {
    logger.warn({ dataDir: config.dataDir }, 'this data directory was used with another database; files this database does not know are kept (see chorus-storage-id)');
  }
  const engines = await createEngines(config.engines, { scratchDir });
  // Know which remote engines answer before the worker picks jobs for them.
  await engines.startProbing(config.engineProbeMs);
  const bus = new InProcessEventBus();
  const events = new JobEventLog(db, bus, (err, jobId) => logger.error({ err, jobId }, 'could not push a job change to live lists'));
  const worker = new Worker({
    db,
    events,
    engines,
    dataDir: config.dataDir,
    logger: logger.child({ part: 'worker' }),
    concurrency: config.workerConcurrency,
  });
  const queue = new EmbeddedQueue(worker);
  const files: StoredFiles = {
    // Paths come from the database (relative to the data dir), never from a request.
    remove: (relativePath) => fs.rm(path.join(config.dataDir, relativePath), { force: true }),
  };
  const auth = new AuthService(db, { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxMs });
  const services: ApiServices = { db, bus, queue, engines, events, files, auth };
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
        upload: createUploadHandler({ db, dataDir: config.dataDir, maxBytes: config.maxUploadBytes, limits: defaultEngine.limits, authenticate, logger: logger.child({ part: 'uploads' }) }),
        jobAudio: createJobAudioHandler({ db, dataDir: config.dataDir, authenticate }),
        health: async () => {
          await db.$queryRawUnsafe('SELECT 1');
          return { ok: true, engines: engines.list().map((e) => ({ id: e.id, version: e.version, health: engines.health(e.id).status })), runningJobs: worker.activeJobs.length };
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
    callLimits: { maxCallsPerMessage: config.maxBatchCalls, maxSubscriptions: config.wsMaxSubscriptions, maxInFlight: config.wsMaxInFlight },
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
  logger.info({ url, database: config.databaseUrl, dataDir: config.dataDir, engines: engines.list().map((e) => e.id) }, 'Chorus is listening');

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
