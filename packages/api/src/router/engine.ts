import type { EngineHealth, EngineStatus } from '../schemas/engine.ts';
import { DEFAULT_LEASE_MS } from '../services/job-leases.ts';
import { redactLogMessage } from '../services/log-redaction.ts';
import { NO_REMOTE_WORKERS, remoteEngineWorkers } from '../services/remote-engines.ts';
import { createRouter, viewerProcedure } from '../trpc.ts';
import { workerStaleAfterMs } from './worker-api.ts';

/** A probe's message names the engine's program or URL: non-admins get it redacted like a job log. */
const redactHealth = (health: EngineHealth): EngineHealth => (health.message === null ? health : { ...health, message: redactLogMessage(health.message) });

export const engineRouter = createRouter({
  list: viewerProcedure.query(async ({ ctx }): Promise<EngineStatus[]> => {
    const remote = await remoteEngineWorkers(ctx.db, workerStaleAfterMs(ctx.workers?.leaseMs ?? DEFAULT_LEASE_MS));
    return ctx.engines.list().map((info) => {
      const health = ctx.engines.health(info.id);
      return { ...info, health: ctx.user.role === 'admin' ? health : redactHealth(health), remoteWorkers: remote.get(info.id) ?? NO_REMOTE_WORKERS };
    });
  }),
});
