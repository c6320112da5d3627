import type { Prisma } from '@chorus/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { newSecret, hashSecret } from '../auth/secrets.ts';
import { newId } from '../ids.ts';
import { machineResourcesSchema } from '../schemas/resources.ts';
import { createWorkerTokenInputSchema, workerTokenIdSchema, type CreatedWorkerToken, type WorkerNodeInfo, type WorkerTokenInfo } from '../schemas/worker.ts';
import { recordAudit } from '../services/audit-log.ts';
import { adminProcedure, createRouter } from '../trpc.ts';

/** Worker tokens carry their own prefix, so one is never mistaken for a person's API token. */
export const WORKER_TOKEN_PREFIX = 'chorus_wk_';
/** A worker whose last heartbeat is older than this is shown as stale. */
export const WORKER_STALE_MS = 30_000;

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

function toWorkerInfo(row: Prisma.WorkerNodeGetPayload<{ include: { token: { select: { name: true } } } }>, now: number): WorkerNodeInfo {
  const resources = machineResourcesSchema.safeParse(row.resources);
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    tokenName: row.token.name,
    state: row.stoppedAt ? 'stopped' : now - row.lastHeartbeatAt.getTime() > WORKER_STALE_MS ? 'stale' : 'online',
    engines: Array.isArray(row.engines) ? row.engines : [],
    resources: resources.success ? resources.data : null,
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

  /** Every worker that registered, newest heartbeat first, with its engines and resources. */
  list: adminProcedure.query(async ({ ctx }) => {
    const now = Date.now();
    return (await ctx.db.workerNode.findMany({ orderBy: { lastHeartbeatAt: 'desc' }, take: 500, include: { token: { select: { name: true } } } })).map((w) => toWorkerInfo(w, now));
  }),
});
