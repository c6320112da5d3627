import type { Job, Prisma } from '@chorus/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { newSecret, hashSecret } from '../auth/secrets.ts';
import { WORKER_TOKEN_PREFIX, workerIdOfLeaseOwner } from '../auth/worker-auth.ts';
import { newId } from '../ids.ts';
import { machineResourcesSchema } from '../schemas/resources.ts';
import { workerEngineSchema } from '../schemas/worker-api.ts';
import { DEFAULT_LEASE_MS } from '../services/job-leases.ts';
import { heartbeatMsFor, workerStaleAfterMs } from './worker-api.ts';
import { createWorkerTokenInputSchema, workerTokenIdSchema, type CreatedWorkerToken, type WorkerNodeInfo, type WorkerTokenInfo } from '../schemas/worker.ts';
import { recordAudit } from '../services/audit-log.ts';
import { adminProcedure, createRouter } from '../trpc.ts';

export { WORKER_TOKEN_PREFIX };

function toTokenInfo(row: Prisma.WorkerTokenGetPayload<{ include: { createdBy: { select: { name: true } } } }>): WorkerTokenInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    createdByName: row.createdBy?.name ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

type RunningJob = Pick<Job, 'id' | 'engineId' | 'stage' | 'progressPct' | 'startedAt' | 'leaseExpiresAt'>;

function toWorkerInfo(row: Prisma.WorkerNodeGetPayload<{ include: { token: { select: { name: true } } } }>, jobs: readonly RunningJob[], heartbeatMs: number, staleAfterMs: number, now: number): WorkerNodeInfo {
  const resources = machineResourcesSchema.safeParse(row.resources);
  const engines = Array.isArray(row.engines) ? row.engines.flatMap((e) => workerEngineSchema.safeParse(e).data ?? []) : [];
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    tokenName: row.token.name,
    state: row.stoppedAt ? 'stopped' : now - row.lastHeartbeatAt.getTime() > staleAfterMs ? 'stale' : 'online',
    engines,
    resources: resources.success ? resources.data : null,
    currentJobs: jobs.map((j) => ({ id: j.id, engineId: j.engineId, stage: j.stage, progressPct: j.progressPct, startedAt: j.startedAt?.toISOString() ?? null, leaseExpiresAt: j.leaseExpiresAt?.toISOString() ?? null })),
    heartbeatMs,
    startedAt: row.startedAt.toISOString(),
    lastHeartbeatAt: row.lastHeartbeatAt.toISOString(),
    stoppedAt: row.stoppedAt?.toISOString() ?? null,
  };
}

/** Admins create and revoke the tokens standalone inference workers use, and see the workers. */
export const workersRouter = createRouter({
  tokens: adminProcedure.query(async ({ ctx }) =>
    (await ctx.db.workerToken.findMany({ orderBy: { createdAt: 'desc' }, include: { createdBy: { select: { name: true } } } })).map(toTokenInfo),
  ),

  createToken: adminProcedure.input(createWorkerTokenInputSchema).mutation(async ({ ctx, input }): Promise<CreatedWorkerToken> => {
    const token = `${WORKER_TOKEN_PREFIX}${newSecret()}`;
    const row = await ctx.db.workerToken.create({
      data: { id: newId('wtk'), name: input.name, tokenHash: hashSecret(token), prefix: token.slice(0, WORKER_TOKEN_PREFIX.length + 6), createdById: ctx.user.id },
      include: { createdBy: { select: { name: true } } },
    });
    await recordAudit(ctx.db, { actor: ctx.user, action: 'worker_token.created', target: { type: 'worker_token', id: row.id }, detail: { name: row.name }, ip: ctx.request.ip });
    return { ...toTokenInfo(row), token };
  }),

  revokeToken: adminProcedure.input(z.object({ tokenId: workerTokenIdSchema })).mutation(async ({ ctx, input }) => {
    // Conditional, so two revocations at once record one.
    const { count } = await ctx.db.workerToken.updateMany({ where: { id: input.tokenId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `No active worker token "${input.tokenId}".` });
    await recordAudit(ctx.db, { actor: ctx.user, action: 'worker_token.revoked', target: { type: 'worker_token', id: input.tokenId }, ip: ctx.request.ip });
    return { ok: true };
  }),

  /** Every worker that registered, newest heartbeat first, with its engines, resources and the jobs it runs. */
  list: adminProcedure.query(async ({ ctx }): Promise<WorkerNodeInfo[]> => {
    const now = Date.now();
    const leaseMs = ctx.workers?.leaseMs ?? DEFAULT_LEASE_MS;
    const heartbeatMs = heartbeatMsFor(leaseMs);
    const nodes = await ctx.db.workerNode.findMany({ orderBy: { lastHeartbeatAt: 'desc' }, take: 500, include: { token: { select: { name: true } } } });
    // Running jobs are few (bounded by the workers' concurrency): one query, grouped by the node in their lease owner.
    const running = await ctx.db.job.findMany({
      where: { status: 'running', leaseOwner: { startsWith: 'wrk_' } },
      select: { id: true, engineId: true, stage: true, progressPct: true, startedAt: true, leaseExpiresAt: true, leaseOwner: true },
      orderBy: { id: 'asc' },
      take: 5000,
    });
    const byNode = new Map<string, RunningJob[]>();
    for (const job of running) {
      const node = workerIdOfLeaseOwner(job.leaseOwner);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), job]);
    }
    return nodes.map((w) => toWorkerInfo(w, byNode.get(w.id) ?? [], heartbeatMs, workerStaleAfterMs(leaseMs), now));
  }),
});
