import { randomInt } from 'node:crypto';
import type { Job } from '@chorus/db';
import { TRPCError, tracked } from '@trpc/server';
import { SEED_MAX, isTerminalStatus, type JobStatus } from '../schemas/common.ts';
import type { JobEvent, JobEventBody } from '../schemas/job-event.ts';
import { redactJobEvent, redactJobSummary } from '../services/job-event-redaction.ts';
import type { JobChange } from '../schemas/job.ts';
import {
  cancelJobInputSchema,
  createJobInputSchema,
  deleteJobInputSchema,
  getJobInputSchema,
  jobEventsInputSchema,
  listJobsInputSchema,
  rerunJobInputSchema,
  type CreateJobInput,
} from '../schemas/job-input.ts';
import { uploadWarningSchema, type UploadWarning } from '../schemas/upload.ts';
import { idLowerBoundAt, newId } from '../ids.ts';
import { recordAudit } from '../services/audit-log.ts';
import { assertJobAccess, assertUploadUse } from '../services/job-access.ts';
import { deleteJob } from '../services/job-deletion.ts';
import { isUniqueViolation } from '../auth/auth-service.ts';
import { earlierSubmission, submissionKey, type SubmissionKey } from '../services/idempotent-submission.ts';
import { checkJobInput } from '../services/job-rules.ts';
import { loadJobSummaries, loadJobSummary, queuePositionOf } from '../services/job-summary.ts';
import { KeyedLock } from '../services/keyed-lock.ts';
import { loadSettings } from '../services/workspace-settings.ts';
import { createRouter, memberProcedure, viewerProcedure, type ApiContext, type AuthedContext } from '../trpc.ts';
import { streamJobEvents } from './job-events-stream.ts';

const drawSeed = (): number => randomInt(0, SEED_MAX + 1);

async function findJobOrThrow(ctx: ApiContext, id: string) {
  const job = await ctx.db.job.findUnique({ where: { id } });
  if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: `Job "${id}" does not exist.` });
  return job;
}

/** One submission per person at a time, so the per-minute limit is exact under a burst. */
const submissions = new KeyedLock();

async function assertUnderJobLimit(ctx: AuthedContext): Promise<void> {
  const { jobsPerMinute } = await loadSettings(ctx.db);
  if (jobsPerMinute === 0) return;
  const since = Date.now() - 60_000;
  const recent = await ctx.db.job.findMany({
    where: { createdById: ctx.user.id, id: { gte: idLowerBoundAt('job', since) } },
    orderBy: { id: 'asc' },
    select: { createdAt: true },
  });
  if (recent.length < jobsPerMinute) return;
  const seconds = Math.max(1, Math.ceil((recent[recent.length - jobsPerMinute]!.createdAt.getTime() + 60_000 - Date.now()) / 1000));
  ctx.http?.setHeader('retry-after', String(seconds));
  throw new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `You have submitted ${recent.length} jobs in the last minute; the limit is ${jobsPerMinute} per minute (an admin can change it). Try again in ${seconds} s.`,
  });
}

type ParentLink = { id: string; relation: 'rerun' | 'retry' };

/** A stored job's inputs, to run it again (re-run or retry) with the given seed. */
export function inputsOf(job: Job, seed: number): CreateJobInput {
  return {
    mode: job.mode as CreateJobInput['mode'],
    text: job.text,
    promptUploadId: job.promptUploadId ?? undefined,
    promptText: job.promptText ?? undefined,
    instruct: job.instruct ?? undefined,
    speakerId: job.speakerId ?? undefined,
    speed: job.speed,
    seed,
    engineId: job.engineId,
  };
}

export interface SubmitOptions {
  /** An admin's bulk retry of a failure group is not a member's burst of submissions. */
  skipRateLimit?: boolean;
  /** The client's request id: the same request again returns the job it created. */
  key?: SubmissionKey | null;
}

export function submitJob(ctx: AuthedContext, input: CreateJobInput, parent: ParentLink | null, opts: SubmitOptions = {}) {
  return submissions.run(ctx.user.id, async () => {
    const key = opts.key ?? null;
    // Checked before the rate limit: answering a retry of a lost answer submits nothing new.
    const earlier = key ? await earlierSubmission(ctx.db, ctx.user.id, key) : null;
    if (earlier) return submitted(ctx, earlier);
    if (!opts.skipRateLimit) await assertUnderJobLimit(ctx);
    try {
      return await insertJob(ctx, input, parent, key);
    } catch (err) {
      // The same key inserted a moment ago by another server process: that job is the answer.
      const winner = key && isUniqueViolation(err) ? await earlierSubmission(ctx.db, ctx.user.id, key) : null;
      if (winner) return submitted(ctx, winner);
      throw err;
    }
  });
}

/** What job.create answers, for a job that already exists. */
async function submitted(ctx: AuthedContext, job: Job) {
  return { id: job.id, seed: job.seed, status: job.status as JobStatus, queuePosition: await queuePositionOf(ctx.db, job) };
}

async function insertJob(ctx: AuthedContext, input: CreateJobInput, parent: ParentLink | null, key: SubmissionKey | null) {
  const parentId = parent?.id ?? null;
  const checked = await checkJobInput(ctx.db, ctx.engines, input);
  // A re-run or retry copies its inputs from a job the caller may read (inputsOf), so it may
  // reuse that job's upload; a new job may only clone a voice the caller sent.
  if (parent === null && checked.promptUpload) assertUploadUse(ctx.user, checked.promptUpload);
  const seed = input.seed ?? drawSeed();
  // Stored by the upload handler from the same schema; a row that no longer parses carries no warnings.
  const warnings: UploadWarning[] = checked.promptUpload ? (uploadWarningSchema.array().safeParse(checked.promptUpload.warnings).data ?? []) : [];
  const { job, queuePosition } = await createJobRow(
    ctx,
    input,
    parent,
    {
      id: newId('job'),
      parentId,
      parentRelation: parent?.relation ?? null,
      createdById: ctx.user.id,
      mode: input.mode,
      text: checked.text,
      promptUploadId: checked.promptUpload?.id ?? null,
      promptText: checked.promptText,
      instruct: checked.instruct,
      speakerId: checked.speakerId,
      speed: input.speed ?? 1,
      seed,
      engineId: checked.engine.id,
      engineKind: checked.engine.kind,
      engineVersion: checked.engine.version,
      deterministic: checked.engine.reproducible,
      status: 'queued',
      clientRequestId: key?.clientRequestId ?? null,
      clientRequestHash: key?.requestHash ?? null,
    },
    (position): JobEventBody[] => [
      { type: 'status', status: 'queued', queuePosition: position },
      {
        type: 'log',
        level: 'info',
        message:
          `Queued ${input.mode} job on ${checked.engine.name} ${checked.engine.version} with seed ${seed}` +
          (input.seed === undefined ? ' (drawn at random)' : '') +
          ` by ${ctx.user.name}` +
          (parent ? `; ${parent.relation === 'retry' ? 'retry' : 're-run'} of ${parent.id}` : '') +
          '.',
      },
      ...(ctx.engines.health(checked.engine.id).status === 'down'
        ? [
            {
              type: 'log',
              level: 'warn',
              message: `Engine "${checked.engine.id}" is unreachable (${ctx.engines.health(checked.engine.id).message ?? 'no answer'}); this job waits in the queue until it is back.`,
            } satisfies JobEventBody,
          ]
        : []),
      ...(checked.engine.reproducible
        ? []
        : [{ type: 'log', level: 'warn', message: `${checked.engine.name} takes no seed: this run is not reproducible, and a re-run will sound different.` } satisfies JobEventBody]),
      ...warnings.map((w): JobEventBody => ({ type: 'log', level: 'warn', message: `Reference audio: ${w.message}` })),
    ],
  );
  await ctx.queue.enqueue(job.id);
  return { id: job.id, seed, status: job.status as JobStatus, queuePosition };
}

/**
 * The insert, with a clear 409 when the upload or the parent job was deleted between the
 * checks and the insert (a foreign-key violation; the transaction wrote nothing).
 */
async function createJobRow(ctx: AuthedContext, input: CreateJobInput, parent: ParentLink | null, ...args: Parameters<ApiContext['events']['createJob']>) {
  try {
    return await ctx.events.createJob(...args);
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    if (input.promptUploadId && (await ctx.db.upload.count({ where: { id: input.promptUploadId } })) === 0) {
      throw new TRPCError({
        code: 'CONFLICT',
        message: parent
          ? `The reference audio of job "${parent.id}" was deleted while this job was being created; upload it again and create a new job with it.`
          : `Upload "${input.promptUploadId}" was deleted while this job was being created; upload the reference audio again.`,
      });
    }
    if (parent && (await ctx.db.job.count({ where: { id: parent.id } })) === 0) {
      throw new TRPCError({ code: 'CONFLICT', message: `Job "${parent.id}" was deleted while it was being ${parent.relation === 'retry' ? 'retried' : 're-run'}; nothing was created.` });
    }
    throw err;
  }
}

function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2003';
}

export const jobRouter = createRouter({
  create: memberProcedure.input(createJobInputSchema).mutation(({ ctx, input }) => submitJob(ctx, input, null, { key: submissionKey('create', input) })),

  get: viewerProcedure.input(getJobInputSchema).query(async ({ ctx, input }) => {
    const job = await findJobOrThrow(ctx, input.id);
    assertJobAccess(ctx.user, job, 'read');
    const summary = await loadJobSummary(ctx.db, job);
    return ctx.user.role === 'admin' ? summary : redactJobSummary(summary);
  }),

  list: viewerProcedure.input(listJobsInputSchema).query(async ({ ctx, input }) => {
    const createdById = input.createdBy === 'mine' ? ctx.user.id : input.createdBy === 'everyone' ? undefined : input.createdBy;
    // Ids are time-sortable, so "newest first" is id descending and the cursor is an id.
    const rows = await ctx.db.job.findMany({
      where: {
        ...(input.status ? { status: input.status } : {}),
        ...(createdById ? { createdById } : {}),
        ...(input.cursor ? { id: { lt: input.cursor } } : {}),
      },
      orderBy: { id: 'desc' },
      take: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    return {
      items: (await loadJobSummaries(ctx.db, page)).map(ctx.user.role === 'admin' ? (j) => j : redactJobSummary),
      nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
    };
  }),

  /** Anyone's job, as a new job of the caller's own. */
  rerun: memberProcedure.input(rerunJobInputSchema).mutation(async ({ ctx, input }) => {
    const parent = await findJobOrThrow(ctx, input.id);
    assertJobAccess(ctx.user, parent, 'rerun');
    const seed = input.seed === 'same' ? parent.seed : input.seed === 'random' ? drawSeed() : input.seed;
    return submitJob(ctx, inputsOf(parent, seed), { id: parent.id, relation: 'rerun' }, { key: submissionKey('rerun', input) });
  }),

  cancel: memberProcedure.input(cancelJobInputSchema).mutation(async ({ ctx, input }) => {
    const job = await findJobOrThrow(ctx, input.id);
    assertJobAccess(ctx.user, job, 'cancel');
    const by = { cancelRequested: true, canceledById: ctx.user.id };
    if (isTerminalStatus(job.status as JobStatus)) {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: `Job "${job.id}" already ${job.status}; only queued or running jobs can be canceled.`,
      });
    }
    // A queued job is canceled right here; a running one is aborted by its worker, which
    // records the final status (the engine stops within a second).
    const canceled = await ctx.events.append(
      job.id,
      [
        { type: 'log', level: 'info', message: 'Canceled while queued.' },
        { type: 'status', status: 'canceled' },
      ],
      { expectStatus: ['queued'], patch: by },
    );
    // The jobs behind a canceled one learn their new place from the log's coalesced pushes.
    if (!canceled) {
      const marked = await ctx.db.job.updateMany({ where: { id: job.id, status: 'running' }, data: by });
      if (marked.count === 0) {
        const now = await findJobOrThrow(ctx, job.id);
        // Put back in the queue meanwhile (shutdown or recovery): cancel it there.
        const requeued =
          now.status === 'queued' &&
          (await ctx.events.append(job.id, [{ type: 'log', level: 'info', message: 'Canceled while queued.' }, { type: 'status', status: 'canceled' }], {
            expectStatus: ['queued'],
            patch: by,
          }));
        if (!requeued) {
          throw new TRPCError({
            code: 'PRECONDITION_FAILED',
            message: `Job "${job.id}" already ${now.status}; only queued or running jobs can be canceled.`,
          });
        }
      } else {
        await ctx.queue.abortRunning(job.id);
      }
    }
    if (job.createdById !== ctx.user.id) {
      await recordAudit(ctx.db, { actor: ctx.user, action: 'job.canceled_by_admin', target: { type: 'job', id: job.id }, detail: { owner: job.createdById }, ip: ctx.request.ip });
    }
    const summary = await loadJobSummary(ctx.db, await findJobOrThrow(ctx, job.id));
    // Redacted for non-admins as in job.get: a running job's error text may come from the engine.
    return ctx.user.role === 'admin' ? summary : redactJobSummary(summary);
  }),

  /** The job, its events, its audio, and its upload when no other job uses it. Finished jobs only. */
  delete: memberProcedure.input(deleteJobInputSchema).mutation(async ({ ctx, input }) => {
    const job = await findJobOrThrow(ctx, input.id);
    assertJobAccess(ctx.user, job, 'delete');
    if (!isTerminalStatus(job.status as JobStatus)) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `Job "${job.id}" is ${job.status}; cancel it first, then delete it.` });
    }
    const removed = await deleteJob(ctx.db, ctx.files, ctx.bus, job.id);
    await recordAudit(ctx.db, { actor: ctx.user, action: 'job.deleted', target: { type: 'job', id: job.id }, detail: { owner: job.createdById, ...removed }, ip: ctx.request.ip });
    return { id: job.id, deleted: true };
  }),

  events: viewerProcedure.input(jobEventsInputSchema).subscription(async function* ({ ctx, input, signal }) {
    const job = await findJobOrThrow(ctx, input.id);
    assertJobAccess(ctx.user, job, 'read');
    const afterSeq = input.lastEventId ? Number(input.lastEventId) : 0;
    if (input.lastEventId && !/^\d+$/.test(input.lastEventId)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'lastEventId must be the seq of an event of this job (a non-negative integer).' });
    }
    if (afterSeq > job.lastSeq) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId ${afterSeq} is beyond this job's last event (${job.lastSeq}).` });
    }
    const forViewer = ctx.user.role === 'admin' ? (e: JobEvent) => e : redactJobEvent;
    for await (const event of streamJobEvents(ctx, input.id, afterSeq, signal)) {
      yield tracked(String(event.seq), forViewer(event));
    }
  }),

  onChange: viewerProcedure.subscription(async function* ({ ctx, signal }) {
    const pending: JobChange[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = ctx.bus.subscribeJobChanges((change) => {
      pending.push(change);
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        const change = pending.shift();
        if (change) {
          yield ctx.user.role === 'admin' ? change : { ...change, job: redactJobSummary(change.job) };
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }),
});
