import type { Db, Job, JobEventRow, Prisma } from '@chorus/db';
import type { JobStatus } from '../schemas/common.ts';
import { jobEventBodySchema, jobEventSchema, type JobEvent, type JobEventBody } from '../schemas/job-event.ts';
import type { JobEventBus } from '../ports.ts';
import { createEventLogStore } from './event-log/create-store.ts';
import { eventFromPayload } from './event-log/event-payload.ts';
import { mergeAppends, splitOutcomes } from './event-log/merge-appends.ts';
import type { JobColumnPatch } from './event-log/job-patch.ts';
import type { AppendRequest, EventLogStore, LeaseFence } from './event-log/store.ts';
import { SummaryPushes, type SummaryPushOptions } from './event-log/summary-pushes.ts';

export type { JobColumnPatch } from './event-log/job-patch.ts';
export type { LeaseFence } from './event-log/store.ts';

export function eventFromRow(row: Pick<JobEventRow, 'payload'>): JobEvent {
  // A copy: the error-code fix in eventFromPayload must not change the row object.
  return eventFromPayload(structuredClone(row.payload));
}

export interface AppendOptions {
  /** Only append if the job is currently in one of these statuses (checked in the transaction). */
  expectStatus?: readonly JobStatus[];
  /** Extra columns to set atomically with the events (e.g. output path with the result). */
  patch?: JobColumnPatch;
  /** Only append while the job holds this lease (a worker's events; recovery's takeover of an expired one). */
  lease?: LeaseFence;
}

export interface JobEventLogOptions {
  /** Where the rows go; by default createEventLogStore(db). */
  store?: EventLogStore;
  /** Rates of the coalesced job.onChange pushes. */
  summaries?: SummaryPushOptions;
}

interface PendingAppend {
  request: AppendRequest;
  resolve(events: JobEvent[] | null): void;
  reject(err: unknown): void;
}

/** Most appends in one transaction; more wait for the next one. */
const MAX_BATCH = 256;

/**
 * The durable per-job event log. Every event gets the next `seq` (1, 2, 3… no gaps) in the
 * same transaction that updates the Job row; only after commit is it published on the bus.
 * Appends are group-committed: those waiting when a batch starts (for one job and across
 * jobs) share one transaction, one batch at a time, so the bus sees each job's events in
 * seq order. Job summaries for live lists are pushed coalesced (SummaryPushes).
 */
export class JobEventLog {
  private readonly store: EventLogStore;
  private readonly pushes: SummaryPushes;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly bus: JobEventBus,
    /** Where a failed history push is reported (the server passes its logger). */
    private readonly onAnnounceError: (err: unknown, jobId: string) => void = (err, jobId) =>
      console.error(`chorus: could not push job ${jobId} to live lists:`, err),
    options: JobEventLogOptions = {},
  ) {
    this.store = options.store ?? createEventLogStore(db);
    this.pushes = new SummaryPushes(db, bus, (err, jobId) => this.onAnnounceError(err, jobId), options.summaries);
  }

  /** Append events; returns them with seq/at, or null when `expectStatus` did not hold. */
  append(jobId: string, bodies: JobEventBody[], options: AppendOptions = {}): Promise<JobEvent[] | null> {
    if (this.closed) return Promise.reject(new Error('The event log is closed.'));
    let parsed: JobEventBody[];
    try {
      parsed = bodies.map((body) => jobEventBodySchema.parse(body));
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ request: { jobId, bodies: parsed, expectStatus: options.expectStatus, patch: options.patch, lease: options.lease }, resolve, reject });
      this.startFlushing();
    });
  }

  private startFlushing(): void {
    if (this.flushing) return; // the running flusher takes what arrived meanwhile as its next batch
    // One turn of the event loop first: appends made in the same I/O callback share a batch.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .finally(() => {
        this.flushing = null;
        if (this.pending.length > 0) this.startFlushing();
      });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      let outcomes;
      try {
        const merged = mergeAppends(batch.map((p) => p.request));
        outcomes = splitOutcomes(merged, await this.store.appendBatch(merged.map((m) => m.request), new Date()), batch.length);
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      let queueMoved = false;
      batch.forEach((p, i) => {
        const outcome = outcomes[i]!;
        if (outcome.kind === 'failed') return p.reject(outcome.error);
        if (outcome.kind === 'refused') return p.resolve(null);
        const { jobId } = p.request;
        for (const event of outcome.events) this.publish(jobId, event);
        const statusChanged = outcome.events.some((e) => e.type === 'status');
        queueMoved ||= statusChanged;
        this.pushes.jobChanged(jobId, statusChanged);
        p.resolve(outcome.events);
      });
      if (queueMoved) this.pushes.queueChanged();
    }
  }

  private publish(jobId: string, event: JobEvent): void {
    try {
      this.bus.publishJobEvent(jobId, event);
    } catch (err) {
      // Stored whatever a subscriber did; it refills from the log.
      this.onAnnounceError(err, jobId);
    }
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
    for (const event of events) this.publish(job.id, event);
    this.pushes.jobCreated(job);
    return { job, events, queuePosition };
  }

  /**
   * Push the job's current summary to live lists now ("created": as given). Never rejects:
   * the events are stored whatever happens here (a list refetch shows the job).
   */
  async announce(job: Job, kind: 'created' | 'updated'): Promise<void> {
    if (kind === 'created') this.pushes.jobCreated(job);
    else this.pushes.jobChanged(job.id, true);
    await this.pushes.settle();
  }

  /** Stored events after `afterSeq` (and before `beforeSeq`), in order. */
  read(jobId: string, afterSeq: number, beforeSeq?: number): Promise<JobEvent[]> {
    return this.store.read(jobId, afterSeq, beforeSeq);
  }

  /** Write what is waiting, push the last summaries, and release the store (before db.$disconnect()). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.pushes.close();
    await this.store.close();
  }
}
