import { TRPCError } from '@trpc/server';
import type { Job, Prisma } from '@chorus/db';
import { z } from 'zod';
import { jobIdSchema, SEED_MAX, type JobStatus } from '../schemas/common.ts';
import {
  failureRunsInputSchema,
  listFailureGroupsInputSchema,
  resolveFailureGroupInputSchema,
  RETRY_MAX,
  retryFailuresInputSchema,
  setFailureGroupStateInputSchema,
  wellFormedText,
  type FailureGroupInfo,
  type FailureRun,
  type RetryFailuresResult,
} from '../schemas/index.ts';
import { randomInt } from 'node:crypto';
import { recordAudit } from '../services/audit-log.ts';
import { loadFailureGroups } from '../services/failure-groups.ts';
import { loadJobSummaries } from '../services/job-summary.ts';
import { KeyedLock } from '../services/keyed-lock.ts';
import { adminProcedure, createRouter, type AuthedContext } from '../trpc.ts';
import { inputsOf, submitJob } from './job.ts';

async function groupOrThrow(ctx: AuthedContext, fingerprint: string): Promise<FailureGroupInfo> {
  const group = (await loadFailureGroups(ctx.db, 1)).find((g) => g.fingerprint === fingerprint);
  if (!group) throw new TRPCError({ code: 'NOT_FOUND', message: `No failed runs with fingerprint "${fingerprint}".` });
  return group;
}

/**
 * One retry request at a time (this process owns the data directory: chorus.pid), so the
 * "has this run a retry already?" check and the insert of its retry are one step: a double
 * click or two admins retrying the same group create one retry per run, not two.
 */
const retryLock = new KeyedLock();

const PENDING: readonly string[] = ['queued', 'running'] satisfies JobStatus[];

type RetryInput = z.output<typeof retryFailuresInputSchema>;

/**
 * Retry each failed run at most once per request, and never twice at the same time: a run
 * whose retry is still queued or running is skipped (cancel that retry to try again now); a
 * run whose retry has finished is skipped unless `again` (a failed retry is itself a failed
 * run of the group and is retried as itself, so a group retry does not fork a second chain);
 * a group retry takes only the runs that had failed when it was asked for.
 */
async function retryFailedRuns(ctx: AuthedContext, input: RetryInput, askedAt: Date): Promise<RetryFailuresResult> {
  const jobIds = input.jobIds ? [...new Set(input.jobIds)] : null;
  const where: Prisma.JobWhereInput = jobIds
    ? { status: 'failed', id: { in: jobIds } }
    : { status: 'failed', failureFingerprint: input.fingerprint, OR: [{ finishedAt: { lte: askedAt } }, { finishedAt: null }] };
  const candidates = await ctx.db.job.findMany({
    where,
    orderBy: { id: 'asc' },
    select: { id: true, reruns: { where: { parentRelation: 'retry' }, orderBy: { id: 'desc' }, select: { id: true, status: true } } },
  });
  if (candidates.length === 0) {
    throw new TRPCError({ code: 'NOT_FOUND', message: jobIds ? 'None of the given jobIds is a failed run; nothing was retried.' : `No failed runs with fingerprint "${input.fingerprint}"; nothing was retried.` });
  }

  const skipped: RetryFailuresResult['skipped'] = [];
  const eligible: string[] = [];
  for (const run of candidates) {
    const pending = run.reruns.find((r) => PENDING.includes(r.status));
    const newest = run.reruns[0];
    if (pending) skipped.push({ jobId: run.id, reason: 'retry_pending', retryId: pending.id, message: null });
    else if (newest && !input.again) skipped.push({ jobId: run.id, reason: 'already_retried', retryId: newest.id, message: null });
    else eligible.push(run.id);
  }
  if (jobIds) {
    const found = new Set(candidates.map((c) => c.id));
    for (const id of jobIds) if (!found.has(id)) skipped.push({ jobId: id, reason: 'not_failed', retryId: null, message: null });
  }

  const batch = eligible.slice(0, RETRY_MAX);
  const jobs = new Map((await ctx.db.job.findMany({ where: { id: { in: batch } } })).map((j): [string, Job] => [j.id, j]));
  const created: RetryFailuresResult['retried'] = [];
  for (const id of batch) {
    const job = jobs.get(id);
    // Deleted since it was listed (deletion does not wait for this lock).
    if (!job) {
      skipped.push({ jobId: id, reason: 'not_failed', retryId: null, message: null });
      continue;
    }
    const seed = input.seed === 'same' ? job.seed : randomInt(0, SEED_MAX + 1);
    try {
      // An admin's bulk retry of a failure group is not a member's burst of submissions.
      const retry = await submitJob(ctx, inputsOf(job, seed), { id: job.id, relation: 'retry' }, { skipRateLimit: true });
      created.push({ id: retry.id, retryOf: job.id });
    } catch (err) {
      // A run that can no longer be submitted (engine or upload gone) must not stop the others.
      if (!(err instanceof TRPCError) || err.code === 'INTERNAL_SERVER_ERROR') throw err;
      skipped.push({ jobId: job.id, reason: 'refused', retryId: null, message: err.message });
    }
  }

  await recordAudit(ctx.db, {
    actor: ctx.user,
    action: 'job.retried',
    target: input.fingerprint ? { type: 'failure_group', id: input.fingerprint } : { type: 'jobs', id: candidates.map((j) => j.id).join(',').slice(0, 500) },
    detail: { count: created.length, skipped: skipped.length, seed: input.seed, again: input.again },
    ip: ctx.request.ip,
  });
  return { retried: created, skipped: skipped.slice(0, RETRY_MAX), skippedCount: skipped.length, remaining: eligible.length - batch.length };
}

/** The admin's review of failed runs: grouped by cause, retried in bulk, resolved or ignored. */
export const failuresRouter = createRouter({
  groups: adminProcedure.input(listFailureGroupsInputSchema).query(async ({ ctx, input }) => {
    const groups = await loadFailureGroups(ctx.db, input.days);
    return input.state === 'all' ? groups : groups.filter((g) => g.state === input.state);
  }),

  runs: adminProcedure.input(failureRunsInputSchema).query(async ({ ctx, input }): Promise<FailureRun[]> => {
    const jobs = await ctx.db.job.findMany({ where: { status: 'failed', failureFingerprint: input.fingerprint }, orderBy: { id: 'desc' }, take: input.limit });
    const retries = await ctx.db.job.findMany({ where: { parentRelation: 'retry', parentId: { in: jobs.map((j) => j.id) } }, orderBy: { id: 'asc' }, select: { id: true, parentId: true, status: true } });
    const summaries = await loadJobSummaries(ctx.db, jobs);
    return summaries.map((job, i) => ({
      job,
      note: jobs[i]!.reviewNote,
      // The status column only ever holds a JobStatus (the event log writes it from the schema).
      retries: retries.filter((r) => r.parentId === job.id).map(({ id, status }) => ({ id, status: status as JobStatus })),
    }));
  }),

  /**
   * New jobs linked to the failed ones (parentRelation "retry"), owned by the admin who
   * retried. Idempotent per run: see retryFailedRuns.
   */
  retry: adminProcedure.input(retryFailuresInputSchema).mutation(({ ctx, input }) => {
    // Taken before waiting for the lock: a retry asked for at the same moment as another sees the same failures.
    const askedAt = new Date();
    return retryLock.run('workspace', () => retryFailedRuns(ctx, input, askedAt));
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
