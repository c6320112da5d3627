import { randomInt } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import { SEED_MAX, isTerminalStatus, type JobStatus } from '../schemas/common.ts';
import type { JobEventBody } from '../schemas/job-event.ts';
import type { JobChange } from '../schemas/job.ts';
import {
  cancelJobInputSchema,
  createJobInputSchema,
  getJobInputSchema,
  jobEventsInputSchema,
  listJobsInputSchema,
  rerunJobInputSchema,
  type CreateJobInput,
} from '../schemas/job-input.ts';
import type { UploadWarning } from '../schemas/upload.ts';
import { newId } from '../ids.ts';
import { checkJobInput } from '../services/job-rules.ts';
import { loadJobSummary } from '../services/job-summary.ts';
import { announceQueuePositions } from '../services/queue-positions.ts';
import { createRouter, publicProcedure, type ApiContext } from '../trpc.ts';
import { streamJobEvents } from './job-events-stream.ts';

const drawSeed = (): number => randomInt(0, SEED_MAX + 1);

async function findJobOrThrow(ctx: ApiContext, id: string) {
  const job = await ctx.db.job.findUnique({ where: { id } });
  if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: `Job "${id}" does not exist.` });
  return job;
}

async function submitJob(ctx: ApiContext, input: CreateJobInput, parentId: string | null) {
  const checked = await checkJobInput(ctx.db, ctx.engines, input);
  const seed = input.seed ?? drawSeed();
  const warnings: UploadWarning[] = checked.promptUpload ? JSON.parse(checked.promptUpload.warnings) : [];
  const { job, queuePosition } = await ctx.events.createJob(
    {
      id: newId('job'),
      parentId,
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
    },
    (position): JobEventBody[] => [
      { type: 'status', status: 'queued', queuePosition: position },
      {
        type: 'log',
        level: 'info',
        message:
          `Queued ${input.mode} job on ${checked.engine.name} ${checked.engine.version} with seed ${seed}` +
          (input.seed === undefined ? ' (drawn at random)' : '') +
          (parentId ? `; re-run of ${parentId}` : '') +
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

export const jobRouter = createRouter({
  create: publicProcedure.input(createJobInputSchema).mutation(({ ctx, input }) => submitJob(ctx, input, null)),

  get: publicProcedure.input(getJobInputSchema).query(async ({ ctx, input }) => {
    return loadJobSummary(ctx.db, await findJobOrThrow(ctx, input.id));
  }),

  list: publicProcedure.input(listJobsInputSchema).query(async ({ ctx, input }) => {
    // Ids are time-sortable, so "newest first" is id descending and the cursor is an id.
    const rows = await ctx.db.job.findMany({
      where: { ...(input.status ? { status: input.status } : {}), ...(input.cursor ? { id: { lt: input.cursor } } : {}) },
      orderBy: { id: 'desc' },
      take: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    return {
      items: await Promise.all(page.map((row) => loadJobSummary(ctx.db, row))),
      nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
    };
  }),

  rerun: publicProcedure.input(rerunJobInputSchema).mutation(async ({ ctx, input }) => {
    const parent = await findJobOrThrow(ctx, input.id);
    const seed = input.seed === 'same' ? parent.seed : input.seed === 'random' ? drawSeed() : input.seed;
    return submitJob(
      ctx,
      {
        mode: parent.mode as CreateJobInput['mode'],
        text: parent.text,
        promptUploadId: parent.promptUploadId ?? undefined,
        promptText: parent.promptText ?? undefined,
        instruct: parent.instruct ?? undefined,
        speakerId: parent.speakerId ?? undefined,
        speed: parent.speed,
        seed,
        engineId: parent.engineId,
      },
      parent.id,
    );
  }),

  cancel: publicProcedure.input(cancelJobInputSchema).mutation(async ({ ctx, input }) => {
    const job = await findJobOrThrow(ctx, input.id);
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
      { expectStatus: ['queued'], patch: { cancelRequested: true } },
    );
    if (canceled) {
      await announceQueuePositions(ctx.db, ctx.events);
    } else {
      const marked = await ctx.db.job.updateMany({ where: { id: job.id, status: 'running' }, data: { cancelRequested: true } });
      if (marked.count === 0) {
        const now = await findJobOrThrow(ctx, job.id);
        // Put back in the queue meanwhile (shutdown or recovery): cancel it there.
        const requeued =
          now.status === 'queued' &&
          (await ctx.events.append(job.id, [{ type: 'log', level: 'info', message: 'Canceled while queued.' }, { type: 'status', status: 'canceled' }], {
            expectStatus: ['queued'],
            patch: { cancelRequested: true },
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
    return loadJobSummary(ctx.db, await findJobOrThrow(ctx, job.id));
  }),

  events: publicProcedure.input(jobEventsInputSchema).subscription(async function* ({ ctx, input, signal }) {
    const job = await findJobOrThrow(ctx, input.id);
    const afterSeq = input.lastEventId ? Number(input.lastEventId) : 0;
    if (input.lastEventId && !/^\d+$/.test(input.lastEventId)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId must be the seq of an event of this job (a non-negative integer); got "${input.lastEventId}".` });
    }
    if (afterSeq > job.lastSeq) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId ${afterSeq} is beyond this job's last event (${job.lastSeq}).` });
    }
    for await (const event of streamJobEvents(ctx, input.id, afterSeq, signal)) {
      yield tracked(String(event.seq), event);
    }
  }),

  onChange: publicProcedure.subscription(async function* ({ ctx, signal }) {
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
          yield change;
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
