import type { Job } from '@chorus/db';
import { TRPCError } from '@trpc/server';
import { workerLeaseOwner } from '../auth/worker-auth.ts';
import { newId } from '../ids.ts';
import {
  appendInputSchema,
  claimInputSchema,
  completeInputSchema,
  goodbyeInputSchema,
  heartbeatInputSchema,
  registerWorkerInputSchema,
  workerEngineSchema,
  type ClaimedJob,
  type HeartbeatResult,
  type RegisteredWorker,
  type WorkerEventBody,
} from '../schemas/worker-api.ts';
import type { JobColumnPatch } from '../services/job-event-log.ts';
import { claimJob, DEFAULT_LEASE_MS, renewLeases } from '../services/job-leases.ts';
import { jobAudioUrl } from '../services/job-summary.ts';
import { checkWorkerLease } from '../services/worker-lease-check.ts';
import { createRouter, workerProcedure, type WorkerContext } from '../trpc.ts';

/** Heartbeats come three times per lease, so one lost heartbeat never costs a job. */
export const heartbeatMsFor = (leaseMs: number): number => Math.max(100, Math.floor(leaseMs / 3));
/** A worker that missed this many heartbeats in a row is shown as stale, and its engines stop counting. */
export const MISSED_HEARTBEATS_STALE = 3;
export const workerStaleAfterMs = (leaseMs: number): number => MISSED_HEARTBEATS_STALE * heartbeatMsFor(leaseMs);

const leaseMsOf = (ctx: WorkerContext): number => ctx.workers?.leaseMs ?? DEFAULT_LEASE_MS;

/** The caller's own, still registered node (a node id is not a secret: it must belong to the caller's token). */
async function ownNode(ctx: WorkerContext, workerId: string, options: { stopped?: 'allowed' } = {}): Promise<{ id: string; name: string; tokenId: string; engines: unknown; owner: string }> {
  const node = await ctx.db.workerNode.findUnique({ where: { id: workerId } });
  if (!node) throw new TRPCError({ code: 'NOT_FOUND', message: `No worker "${workerId}" is registered: call workerApi.register first and use the workerId it answers with.` });
  if (node.tokenId !== ctx.worker.tokenId) throw new TRPCError({ code: 'FORBIDDEN', message: `Worker "${workerId}" registered with another worker token; each worker uses the id its own registration returned.` });
  if (node.stoppedAt && options.stopped !== 'allowed') throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `Worker "${workerId}" said goodbye at ${node.stoppedAt.toISOString()}: register again to take work.` });
  return { ...node, owner: workerLeaseOwner(node.id, node.tokenId) };
}

async function loadJob(ctx: WorkerContext, jobId: string): Promise<Job> {
  const job = await ctx.db.job.findUnique({ where: { id: jobId } });
  if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: `Job "${jobId}" does not exist (it may have been deleted).` });
  return job;
}

/** Whether the caller holds the job's lease at `epoch`: true, false (lost: stop the run), or a clear error. */
function holds(job: Job, owner: string, epoch: number): boolean {
  const check = checkWorkerLease(job, (o) => o === owner, epoch);
  if (check.kind === 'refused') throw new TRPCError({ code: check.code, message: check.message });
  return check.kind === 'held';
}

/**
 * A run's end is a status last, once: `error` comes right before `status: failed`, and a
 * failure always carries its error (the failed-run review groups by it).
 */
function checkEventOrder(events: readonly WorkerEventBody[]): void {
  const statusAt = events.findIndex((e) => e.type === 'status');
  if (statusAt !== -1 && statusAt !== events.length - 1) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `events[${statusAt}]: a status event ends the run, so it must be the last event of the call (and there is only one).` });
  }
  const status = statusAt === -1 ? null : events[statusAt]!;
  const errorAt = events.findIndex((e) => e.type === 'error');
  if (errorAt !== -1 && (status?.type !== 'status' || status.status !== 'failed' || events.slice(errorAt + 1).some((e) => e.type === 'error'))) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `events[${errorAt}]: an error event ends the run: send one, with status "failed" as the last event of the same call.` });
  }
  if (status?.type === 'status' && status.status === 'failed' && errorAt === -1) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `events[${statusAt}]: status "failed" needs an error event (code, message, hint) before it in the same call.` });
  }
}

/** Given back to the queue (a worker shutting down): the start does not count, and the lease ends. */
const GIVE_BACK_PATCH: JobColumnPatch = { attempts: { increment: -1 }, leaseOwner: null, leaseExpiresAt: null, leaseEpoch: { increment: 1 } };

/**
 * The API of standalone inference workers (docs/architecture.md, "Standalone workers"). Every
 * procedure needs a worker token; a worker registers once per process start, then claims
 * jobs, writes their events and completes them under the lease each claim returns.
 * Leases are owned by `${workerId}#${tokenId}` (workerLeaseOwner).
 */
export const workerApiRouter = createRouter({
  register: workerProcedure.input(registerWorkerInputSchema).mutation(async ({ ctx, input }): Promise<RegisteredWorker> => {
    const now = new Date();
    const node = await ctx.db.workerNode.create({
      data: { id: newId('wrk'), name: input.name, tokenId: ctx.worker.tokenId, version: input.version, engines: input.engines, resources: input.resources, startedAt: now, lastHeartbeatAt: now },
    });
    const leaseMs = leaseMsOf(ctx);
    return { workerId: node.id, leaseMs, heartbeatMs: heartbeatMsFor(leaseMs) };
  }),

  heartbeat: workerProcedure.input(heartbeatInputSchema).mutation(async ({ ctx, input }): Promise<HeartbeatResult> => {
    const node = await ownNode(ctx, input.workerId);
    await ctx.db.workerNode.update({ where: { id: node.id }, data: { lastHeartbeatAt: new Date(), engines: input.engines, resources: input.resources } });
    const held = input.running.map((r) => ({ jobId: r.jobId, lease: { owner: node.owner, epoch: r.epoch } }));
    const lost = await renewLeases(ctx.db, node.owner, held, leaseMsOf(ctx));
    const kept = held.map((h) => h.jobId).filter((id) => !lost.includes(id));
    const cancel = kept.length
      ? (await ctx.db.job.findMany({ where: { id: { in: kept }, status: 'running', leaseOwner: node.owner, cancelRequested: true }, select: { id: true } })).map((j) => j.id)
      : [];
    return { lost, cancel };
  }),

  /** Take a queued job: null when another claimer won or it is not queued any more. */
  claim: workerProcedure.input(claimInputSchema).mutation(async ({ ctx, input }): Promise<ClaimedJob | null> => {
    const node = await ownNode(ctx, input.workerId);
    const job = await loadJob(ctx, input.jobId);
    const engines = workerEngineSchema.array().safeParse(node.engines);
    const registered = engines.success ? engines.data.map((e) => e.id) : [];
    if (!registered.includes(job.engineId)) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `Job ${job.id} runs on engine "${job.engineId}", which worker ${node.id} did not register (it runs: ${registered.join(', ') || 'none'}); only claim jobs of your own engines.`,
      });
    }
    if (job.status !== 'queued') return null;
    const leaseMs = leaseMsOf(ctx);
    const claimed = await claimJob(ctx.db, ctx.events, job.id, node.owner, leaseMs);
    if (!claimed) return null;
    const run = claimed.job;
    const upload = run.promptUploadId ? await ctx.db.upload.findUnique({ where: { id: run.promptUploadId } }) : null;
    if (run.promptUploadId && !upload) {
      // Uploads in use cannot be deleted, so this is debris; fail it as the embedded worker would.
      await ctx.events.append(
        run.id,
        [
          { type: 'log', level: 'error', message: `load_prompt failed: Reference audio upload ${run.promptUploadId} no longer exists.` },
          { type: 'error', code: 'PROMPT_MISSING', message: `Reference audio upload ${run.promptUploadId} no longer exists.`, hint: 'Upload the reference audio again and submit a new job.' },
          { type: 'status', status: 'failed' },
        ],
        { expectStatus: ['running'], lease: claimed.lease },
      );
      return null;
    }
    return {
      job: {
        id: run.id,
        mode: run.mode as ClaimedJob['job']['mode'],
        text: run.text,
        promptText: run.promptText,
        instruct: run.instruct,
        speakerId: run.speakerId,
        speed: run.speed,
        seed: run.seed,
        engineId: run.engineId,
        engineVersion: run.engineVersion,
        prompt: upload ? { uploadId: upload.id, sha256: upload.sha256, sampleRate: upload.sampleRate, durationMs: upload.durationMs } : null,
        cancelRequested: run.cancelRequested,
      },
      lease: { owner: claimed.lease.owner, epoch: claimed.lease.epoch, expiresAt: (run.leaseExpiresAt ?? new Date(Date.now() + leaseMs)).toISOString() },
    };
  }),

  /** Write a run's log, stage, progress, and its end unless it succeeded (that is complete). Fenced by the lease. */
  append: workerProcedure.input(appendInputSchema).mutation(async ({ ctx, input }) => {
    const node = await ownNode(ctx, input.workerId);
    checkEventOrder(input.events);
    const job = await loadJob(ctx, input.jobId);
    if (!holds(job, node.owner, input.epoch)) return { accepted: false };
    const last = input.events.at(-1)!;
    const givesBack = last.type === 'status' && last.status === 'queued';
    const stored = await ctx.events.append(job.id, input.events, {
      expectStatus: ['running'],
      lease: { owner: node.owner, epoch: input.epoch },
      ...(givesBack ? { patch: GIVE_BACK_PATCH } : {}),
    });
    // Back in the queue: tell the queue driver, or a BullMQ-fed worker never hears of it again (the reconciler would, later).
    if (stored && givesBack) await ctx.queue.enqueue(job.id).catch(() => undefined);
    return { accepted: stored !== null };
  }),

  /** The run succeeded and its WAV was uploaded: the Done log, the re-run comparison, the result and `succeeded`, in one fenced append. */
  complete: workerProcedure.input(completeInputSchema).mutation(async ({ ctx, input }) => {
    const node = await ownNode(ctx, input.workerId);
    const job = await loadJob(ctx, input.jobId);
    if (!holds(job, node.owner, input.epoch)) return { accepted: false };
    if (!ctx.workers) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This server does not take results from standalone workers (it was started without their storage).' });
    const output = await ctx.workers.storedOutput(job.id, input.epoch);
    if (!output) {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: `No output was uploaded for job ${job.id} under lease epoch ${input.epoch}: PUT the WAV to /api/worker/jobs/${job.id}/output?epoch=${input.epoch} first.`,
      });
    }
    if (output.sha256 !== input.sha256) {
      throw new TRPCError({ code: 'CONFLICT', message: `The output stored for job ${job.id} has sha256 ${output.sha256}, not ${input.sha256}: upload the WAV again, then complete with the sha256 the upload answers.` });
    }
    const comparison = await ctx.workers.compareWithParent(job, output.sha256);
    const stored = await ctx.events.append(
      job.id,
      [
        {
          type: 'log',
          level: 'info',
          message: `Done on worker "${node.name}": ${(output.durationMs / 1000).toFixed(2)} s of audio in ${(input.wallMs / 1000).toFixed(2)} s (real-time factor ${(input.wallMs / Math.max(1, output.durationMs)).toFixed(3)}).`,
        },
        ...(comparison ? [comparison] : []),
        { type: 'result', audioUrl: jobAudioUrl(job.id), sampleRate: output.sampleRate, durationMs: output.durationMs, sha256: output.sha256 },
        { type: 'status', status: 'succeeded' },
      ],
      {
        expectStatus: ['running'],
        lease: { owner: node.owner, epoch: input.epoch },
        patch: { outputPath: output.key, outputSampleRate: output.sampleRate, outputDurationMs: output.durationMs, outputSha256: output.sha256, outputBytes: output.bytes, progressPct: 100 },
      },
    );
    return { accepted: stored !== null };
  }),

  /**
   * A clean stop: the worker shows as stopped, and jobs it still holds (its own give-back did
   * not get through) go back to the queue now instead of after their lease. The start does not
   * count, as with a give-back: a worker that says goodbye was not killed by its job, and
   * MAX_STARTS is there for jobs whose runs die with their worker.
   */
  goodbye: workerProcedure.input(goodbyeInputSchema).mutation(async ({ ctx, input }): Promise<{ ok: true; requeued: string[]; canceled: string[] }> => {
    const node = await ownNode(ctx, input.workerId, { stopped: 'allowed' });
    // Conditional: a second goodbye keeps the first one's time. First, so no claim after it is taken for this node.
    await ctx.db.workerNode.updateMany({ where: { id: node.id, stoppedAt: null }, data: { stoppedAt: new Date() } });
    const held = await ctx.db.job.findMany({ where: { status: 'running', leaseOwner: node.owner }, select: { id: true, leaseEpoch: true, cancelRequested: true } });
    const requeued: string[] = [];
    const canceled: string[] = [];
    for (const job of held) {
      // Fenced by this worker's lease: a recovery, a completion or a late give-back that got there first wins.
      const fence = { expectStatus: ['running' as const], lease: { owner: node.owner, epoch: job.leaseEpoch } };
      if (job.cancelRequested) {
        // Someone asked to cancel it: end it so, rather than run it again.
        const stored = await ctx.events.append(job.id, [{ type: 'log', level: 'info', message: `Canceled: worker "${node.name}" stopped before the run ended.` }, { type: 'status', status: 'canceled' }], {
          ...fence,
          patch: { leaseOwner: null, leaseExpiresAt: null, leaseEpoch: { increment: 1 } },
        });
        if (stored) canceled.push(job.id);
        continue;
      }
      const stored = await ctx.events.append(
        job.id,
        [
          { type: 'log', level: 'warn', message: `Worker "${node.name}" stopped while running this job; it went back to the queue and will start over.` },
          { type: 'status', status: 'queued', reason: 'worker stopped' },
        ],
        { ...fence, patch: GIVE_BACK_PATCH },
      );
      if (!stored) continue;
      requeued.push(job.id);
      // As for a give-back: a BullMQ-fed worker hears of it now (the reconciler would, later).
      await ctx.queue.enqueue(job.id).catch(() => undefined);
    }
    return { ok: true, requeued, canceled };
  }),
});
