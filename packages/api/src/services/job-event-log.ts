import type { Db, Job, JobEventRow, Prisma } from '@chorus/db';
import type { JobStatus } from '../schemas/common.ts';
import { toJobErrorCode } from '../schemas/error-codes.ts';
import { jobEventSchema, type JobEvent, type JobEventBody } from '../schemas/job-event.ts';
import type { JobEventBus } from '../ports.ts';
import { failureFingerprint } from './failure-fingerprint.ts';
import { KeyedLock } from './keyed-lock.ts';
import { loadJobSummary } from './job-summary.ts';

/** Job columns that mirror the latest event of each kind, so list/get need no event scan. */
function patchFromEvent(body: JobEventBody, at: Date): Prisma.JobUpdateInput {
  switch (body.type) {
    case 'status':
      return {
        status: body.status,
        ...(body.status === 'running' ? { startedAt: at } : {}),
        // Back in the queue (restart recovery, shutdown): keeps its queuedAt, so its place in
        // line, and forgets the interrupted run's stage and progress.
        ...(body.status === 'queued'
          ? { startedAt: null, stage: null, stageIndex: null, stageCount: null, progressStep: null, progressTotal: null, progressPct: null, etaMs: null }
          : {}),
        ...(['succeeded', 'failed', 'canceled'].includes(body.status)
          ? { finishedAt: at, etaMs: null, ...(body.status === 'succeeded' ? {} : { stage: null }) }
          : {}),
      };
    case 'stage':
      return { stage: body.name, stageIndex: body.index, stageCount: body.count, progressStep: null, progressTotal: null, progressPct: null };
    case 'progress':
      return { progressStep: body.step, progressTotal: body.total, progressPct: body.percent, etaMs: body.etaMs };
    case 'error':
      return { errorCode: body.code, errorMessage: body.message, errorHint: body.hint ?? null };
    default:
      return {};
  }
}

export function eventFromRow(row: JobEventRow): JobEvent {
  // A copy: the error-code fix below must not change the row object.
  const payload: unknown = structuredClone(row.payload);
  // Error events stored before the codes were a closed list may carry any string: read it as INTERNAL.
  if (isStoredErrorEvent(payload)) payload.code = toJobErrorCode(payload.code);
  return jobEventSchema.parse(payload);
}

function isStoredErrorEvent(payload: unknown): payload is { type: 'error'; code: string } {
  return typeof payload === 'object' && payload !== null && 'type' in payload && payload.type === 'error' && 'code' in payload && typeof payload.code === 'string';
}

export interface AppendOptions {
  /** Only append if the job is currently in one of these statuses (checked in the transaction). */
  expectStatus?: readonly JobStatus[];
  /** Extra columns to set atomically with the events (e.g. output path with the result). */
  patch?: Prisma.JobUpdateInput;
}

/**
 * The durable per-job event log. Every event gets the next `seq` (1, 2, 3… no gaps) in the
 * same transaction that updates the Job row; only after commit is it published on the bus.
 * Appends for one job are serialised in-process so publish order equals seq order.
 */
export class JobEventLog {
  private readonly perJob = new KeyedLock();

  constructor(
    private readonly db: Db,
    private readonly bus: JobEventBus,
    /** Where a failed history push is reported (the server passes its logger). */
    private readonly onAnnounceError: (err: unknown, jobId: string) => void = (err, jobId) =>
      console.error(`chorus: could not push job ${jobId} to live lists:`, err),
  ) {}

  /** Append events; returns them with seq/at, or null when `expectStatus` did not hold. */
  append(jobId: string, bodies: JobEventBody[], options: AppendOptions = {}): Promise<JobEvent[] | null> {
    return this.perJob.run(jobId, () => this.appendNow(jobId, bodies, options));
  }

  private async appendNow(jobId: string, bodies: JobEventBody[], options: AppendOptions): Promise<JobEvent[] | null> {
    const result = await this.db.$transaction(async (tx) => {
      const current = await tx.job.findUnique({ where: { id: jobId }, select: { status: true, lastSeq: true, engineId: true, stage: true } });
      if (!current) throw new Error(`Job ${jobId} does not exist.`);
      if (options.expectStatus && !options.expectStatus.includes(current.status as JobStatus)) return null;
      const at = new Date();
      let patch: Prisma.JobUpdateInput = {};
      const events: JobEvent[] = bodies.map((body, i) => {
        patch = { ...patch, ...patchFromEvent(body, at) };
        if (body.type === 'error' && body.code !== 'CANCELED') {
          // Groups this failure with others of the same cause for the admin's review.
          patch.failureFingerprint = failureFingerprint({ code: body.code, engineId: current.engineId, stage: body.stage ?? current.stage, message: body.message });
        }
        return jobEventSchema.parse({ ...body, seq: current.lastSeq + i + 1, at: at.toISOString() });
      });
      await tx.jobEvent.createMany({
        data: events.map((e) => ({
          jobId,
          seq: e.seq,
          type: e.type,
          level: e.type === 'log' ? e.level : null,
          payload: e as Prisma.InputJsonObject,
          at,
        })),
      });
      const job = await tx.job.update({ where: { id: jobId }, data: { ...patch, ...options.patch, lastSeq: current.lastSeq + events.length } });
      return { events, job };
    });
    if (!result) return null;
    for (const event of result.events) this.bus.publishJobEvent(jobId, event);
    await this.announce(result.job, 'updated');
    return result.events;
  }

  /**
   * Create a job row together with its first events in one transaction, so a job never
   * exists without its log (or the reverse). `firstEvents` receives the queue position.
   */
  async createJob(
    data: Prisma.JobUncheckedCreateInput,
    firstEvents: (queuePosition: number) => JobEventBody[],
  ): Promise<{ job: Job; events: JobEvent[]; queuePosition: number }> {
    const { job, events, queuePosition } = await this.db.$transaction(async (tx) => {
      const at = new Date();
      const ahead = await tx.job.count({ where: { status: 'queued' } });
      const queuePosition = ahead + 1;
      const events = firstEvents(queuePosition).map((body, i) =>
        jobEventSchema.parse({ ...body, seq: i + 1, at: at.toISOString() }),
      );
      const job = await tx.job.create({
        data: { ...data, status: 'queued', createdAt: at, queuedAt: at, lastSeq: events.length },
      });
      await tx.jobEvent.createMany({
        data: events.map((e) => ({ jobId: job.id, seq: e.seq, type: e.type, level: e.type === 'log' ? e.level : null, payload: e as Prisma.InputJsonObject, at })),
      });
      return { job, events, queuePosition };
    });
    for (const event of events) this.bus.publishJobEvent(job.id, event);
    await this.announce(job, 'created');
    return { job, events, queuePosition };
  }

  /**
   * Push the job's current summary to live history lists. Called after a commit, so it never
   * rejects: the events are stored whatever happens here (a list refetch shows the job).
   */
  async announce(job: Job, kind: 'created' | 'updated'): Promise<void> {
    try {
      this.bus.publishJobChange({ kind, job: await loadJobSummary(this.db, job) });
    } catch (err) {
      this.onAnnounceError(err, job.id);
    }
  }

  /** Stored events after `afterSeq`, in order. */
  async read(jobId: string, afterSeq: number, beforeSeq?: number): Promise<JobEvent[]> {
    const rows = await this.db.jobEvent.findMany({
      where: { jobId, seq: { gt: afterSeq, ...(beforeSeq !== undefined ? { lt: beforeSeq } : {}) } },
      orderBy: { seq: 'asc' },
    });
    return rows.map(eventFromRow);
  }
}
