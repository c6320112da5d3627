import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { jobIdSchema, SEED_MAX } from '../schemas/common.ts';
import {
  failureRunsInputSchema,
  listFailureGroupsInputSchema,
  resolveFailureGroupInputSchema,
  retryFailuresInputSchema,
  setFailureGroupStateInputSchema,
  wellFormedText,
  type FailureGroupInfo,
} from '../schemas/index.ts';
import { randomInt } from 'node:crypto';
import { recordAudit } from '../services/audit-log.ts';
import { loadFailureGroups } from '../services/failure-groups.ts';
import { loadJobSummaries } from '../services/job-summary.ts';
import { adminProcedure, createRouter, type AuthedContext } from '../trpc.ts';
import { inputsOf, submitJob } from './job.ts';

async function groupOrThrow(ctx: AuthedContext, fingerprint: string): Promise<FailureGroupInfo> {
  const group = (await loadFailureGroups(ctx.db, 1)).find((g) => g.fingerprint === fingerprint);
  if (!group) throw new TRPCError({ code: 'NOT_FOUND', message: `No failed runs with fingerprint "${fingerprint}".` });
  return group;
}

/** The admin's review of failed runs: grouped by cause, retried in bulk, resolved or ignored. */
export const failuresRouter = createRouter({
  groups: adminProcedure.input(listFailureGroupsInputSchema).query(async ({ ctx, input }) => {
    const groups = await loadFailureGroups(ctx.db, input.days);
    return input.state === 'all' ? groups : groups.filter((g) => g.state === input.state);
  }),

  runs: adminProcedure.input(failureRunsInputSchema).query(async ({ ctx, input }) => {
    const jobs = await ctx.db.job.findMany({ where: { status: 'failed', failureFingerprint: input.fingerprint }, orderBy: { id: 'desc' }, take: input.limit });
    const retries = await ctx.db.job.findMany({ where: { parentRelation: 'retry', parentId: { in: jobs.map((j) => j.id) } }, orderBy: { id: 'asc' }, select: { id: true, parentId: true, status: true } });
    const summaries = await loadJobSummaries(ctx.db, jobs);
    return summaries.map((job, i) => ({ job, note: jobs[i]!.reviewNote, retries: retries.filter((r) => r.parentId === job.id).map(({ id, status }) => ({ id, status })) }));
  }),

  /** New jobs linked to the failed ones (parentRelation "retry"), owned by the admin who retried. */
  retry: adminProcedure.input(retryFailuresInputSchema).mutation(async ({ ctx, input }) => {
    const where = input.fingerprint ? { status: 'failed', failureFingerprint: input.fingerprint } : { status: 'failed', id: { in: input.jobIds ?? [] } };
    const failed = await ctx.db.job.findMany({ where, orderBy: { id: 'asc' }, take: 100 });
    if (failed.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'No failed runs match; nothing was retried.' });
    const created: { id: string; retryOf: string }[] = [];
    for (const job of failed) {
      const seed = input.seed === 'same' ? job.seed : randomInt(0, SEED_MAX + 1);
      // An admin's bulk retry of a failure group is not a member's burst of submissions.
      const retry = await submitJob(ctx, inputsOf(job, seed), { id: job.id, relation: 'retry' }, { skipRateLimit: true });
      created.push({ id: retry.id, retryOf: job.id });
    }
    await recordAudit(ctx.db, {
      actor: ctx.user,
      action: 'job.retried',
      target: input.fingerprint ? { type: 'failure_group', id: input.fingerprint } : { type: 'jobs', id: failed.map((j) => j.id).join(',').slice(0, 500) },
      detail: { count: created.length, seed: input.seed },
      ip: ctx.request.ip,
    });
    return { retried: created };
  }),

  resolve: adminProcedure.input(resolveFailureGroupInputSchema).mutation(async ({ ctx, input }) => {
    await groupOrThrow(ctx, input.fingerprint);
    const data = { state: 'resolved', note: input.note ?? null, resolvedAt: new Date(), resolvedById: ctx.user.id };
    await ctx.db.failureGroup.upsert({ where: { fingerprint: input.fingerprint }, create: { fingerprint: input.fingerprint, ...data }, update: data });
    await recordAudit(ctx.db, { actor: ctx.user, action: 'failures.resolved', target: { type: 'failure_group', id: input.fingerprint }, detail: { note: input.note ?? null }, ip: ctx.request.ip });
    return groupOrThrow(ctx, input.fingerprint);
  }),

  /** Ignore a group (it stays out of the open list), or put it back to open. */
  setState: adminProcedure.input(setFailureGroupStateInputSchema).mutation(async ({ ctx, input }) => {
    if (input.state === 'resolved') throw new TRPCError({ code: 'BAD_REQUEST', message: 'Use failures.resolve to resolve a group (it takes a note).' });
    await groupOrThrow(ctx, input.fingerprint);
    const data = { state: input.state, resolvedAt: null, resolvedById: null };
    await ctx.db.failureGroup.upsert({ where: { fingerprint: input.fingerprint }, create: { fingerprint: input.fingerprint, ...data }, update: data });
    await recordAudit(ctx.db, { actor: ctx.user, action: input.state === 'ignored' ? 'failures.ignored' : 'failures.reopened', target: { type: 'failure_group', id: input.fingerprint }, ip: ctx.request.ip });
    return groupOrThrow(ctx, input.fingerprint);
  }),

  noteRun: adminProcedure.input(z.object({ jobId: jobIdSchema, note: wellFormedText('Note', 2000) })).mutation(async ({ ctx, input }) => {
    const { count } = await ctx.db.job.updateMany({ where: { id: input.jobId, status: 'failed' }, data: { reviewNote: input.note.trim() || null } });
    if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `No failed run "${input.jobId}".` });
    return { ok: true };
  }),

  /** Pushes the fingerprint of each new failure, so the review updates without a reload. */
  onFailure: adminProcedure.subscription(async function* ({ ctx, signal }) {
    const pending: { jobId: string; fingerprint: string | null }[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = ctx.bus.subscribeJobChanges((change) => {
      if (change.job.status !== 'failed') return;
      pending.push({ jobId: change.job.id, fingerprint: change.job.failureFingerprint });
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        const next = pending.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }),
});
