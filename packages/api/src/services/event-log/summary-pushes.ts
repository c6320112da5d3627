import type { Db, Job } from '@chorus/db';
import type { JobEventBus } from '../../ports.ts';
import type { JobSummary } from '../../schemas/job.ts';
import { loadJobSummaries } from '../job-summary.ts';

/** Routine pushes fall on multiples of this (ms since the epoch): at most 20 runs a second, whatever the number of jobs. */
const PUSH_GRID_MS = 50;

export interface SummaryPushOptions {
  /** Most one push per job per this many ms, unless its status changed (default 250: 4 per second). */
  intervalMs?: number;
  /** Most one refresh of the waiting jobs' positions per this many ms after the queue moved (default 1000). */
  queueIntervalMs?: number;
  /** Waiting jobs whose new position is pushed: this many at the front of the queue… (default 100) */
  queueFront?: number;
  /** …and this many at its back, the newest, which open history pages show first (default 20). */
  queueBack?: number;
}

/**
 * The job summaries pushed to open history lists and job pages (job.onChange), coalesced:
 * a job is pushed at most once per `intervalMs` with its state at push time, except that a
 * status change and a new job go out at once. Each push reads the row when it is sent, and
 * pushes go out one batch at a time, so the last push of a job always carries its final
 * state. When the queue moves, the waiting jobs whose place changed get a push (at most once
 * per `queueIntervalMs`): queue positions are computed, never written.
 */
export class SummaryPushes {
  private readonly intervalMs: number;
  private readonly queueIntervalMs: number;
  private readonly queueFront: number;
  private readonly queueBack: number;
  /** New jobs, pushed as "created" with the row they were created with. */
  private readonly created = new Map<string, Job>();
  /** Jobs to push as "updated" → whether at once (a status change). */
  private readonly dirty = new Map<string, boolean>();
  private readonly lastPushedAt = new Map<string, number>();
  private queueMoved = false;
  private lastQueueRefreshAt = 0;
  /** Positions last pushed for the waiting jobs a queue refresh looked at. */
  private pushedPositions = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly bus: JobEventBus,
    private readonly onError: (err: unknown, jobId: string) => void,
    options: SummaryPushOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.queueIntervalMs = options.queueIntervalMs ?? 1000;
    this.queueFront = options.queueFront ?? 100;
    this.queueBack = options.queueBack ?? 20;
  }

  /** A job was created: push it now. */
  jobCreated(job: Job): void {
    this.created.set(job.id, job);
    this.schedule(0);
  }

  /** A job's row changed; `statusChanged` pushes it at once. */
  jobChanged(jobId: string, statusChanged: boolean): void {
    this.dirty.set(jobId, statusChanged || (this.dirty.get(jobId) ?? false));
    this.schedule(statusChanged ? 0 : this.waitFor(jobId, Date.now()));
  }

  /** A job entered or left the queue: the others' positions may have changed. */
  queueChanged(): void {
    this.queueMoved = true;
    this.schedule(Math.max(0, this.lastQueueRefreshAt + this.queueIntervalMs - Date.now()));
  }

  /** Push everything pending now, whatever the rates (shutdown, announce). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
    if (this.created.size + this.dirty.size === 0 && !this.queueMoved) return;
    await this.run(true);
  }

  async close(): Promise<void> {
    await this.settle();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * How long until the job may be pushed again: `intervalMs` after its last push, rounded up to
   * the next multiple of PUSH_GRID_MS, so the pushes of many busy jobs share a few runs (one
   * read for all of them) instead of each job's falling at its own moment.
   */
  private waitFor(jobId: string, now: number): number {
    const last = this.lastPushedAt.get(jobId);
    if (last === undefined) return 0;
    return Math.max(0, Math.ceil((last + this.intervalMs) / PUSH_GRID_MS) * PUSH_GRID_MS - now);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.running) return; // a running push reschedules itself when done
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      void this.run(false);
    }, delayMs);
    // Pending pushes never keep a process alive on their own.
    this.timer.unref();
  }

  private run(all: boolean): Promise<void> {
    const run = (this.running ??= this.push(all)
      .catch((err: unknown) => this.onError(err, '(several jobs)'))
      .finally(() => {
        this.running = null;
        this.rescheduleLeftovers();
      }));
    return run;
  }

  private rescheduleLeftovers(): void {
    const now = Date.now();
    if (this.created.size > 0) return this.schedule(0);
    let wait = Infinity;
    for (const [jobId, urgent] of this.dirty) wait = Math.min(wait, urgent ? 0 : this.waitFor(jobId, now));
    if (this.queueMoved) wait = Math.min(wait, Math.max(0, this.lastQueueRefreshAt + this.queueIntervalMs - now));
    if (wait < Infinity) this.schedule(wait);
  }

  private async push(all: boolean): Promise<void> {
    const now = Date.now();
    const created = [...this.created.values()];
    this.created.clear();
    const due: string[] = [];
    for (const [jobId, urgent] of this.dirty) {
      if (all || urgent || this.waitFor(jobId, now) === 0) due.push(jobId);
    }
    for (const jobId of due) {
      this.dirty.delete(jobId);
      this.lastPushedAt.set(jobId, now);
    }
    for (const [jobId, at] of this.lastPushedAt) if (now - at >= this.intervalMs && !this.dirty.has(jobId)) this.lastPushedAt.delete(jobId);
    const refreshQueue = this.queueMoved && (all || now - this.lastQueueRefreshAt >= this.queueIntervalMs);
    if (refreshQueue) {
      this.queueMoved = false;
      this.lastQueueRefreshAt = now;
    }

    if (created.length > 0) await this.publish('created', created, () => loadJobSummaries(this.db, created));
    if (due.length > 0) {
      const rows = await this.db.job.findMany({ where: { id: { in: due } } }).catch((err: unknown) => {
        for (const jobId of due) this.onError(err, jobId);
        return [];
      });
      // A job deleted meanwhile has had its "deleted" push; nothing more to say about it.
      await this.publish('updated', rows, () => loadJobSummaries(this.db, rows));
    }
    if (refreshQueue) await this.pushQueuePositions(new Set(due));
  }

  /** The waiting jobs at the front and back of the queue whose place changed since last told. */
  private async pushQueuePositions(justPushed: ReadonlySet<string>): Promise<void> {
    const order = [{ queuedAt: 'asc' as const }, { id: 'asc' as const }];
    const [front, back, total] = await this.db.$transaction([
      this.db.job.findMany({ where: { status: 'queued' }, orderBy: order, take: this.queueFront }),
      this.db.job.findMany({ where: { status: 'queued' }, orderBy: [{ queuedAt: 'desc' }, { id: 'desc' }], take: this.queueBack }),
      this.db.job.count({ where: { status: 'queued' } }),
    ]);
    const positions = new Map<string, number>();
    front.forEach((job, i) => positions.set(job.id, i + 1));
    back.forEach((job, i) => positions.set(job.id, total - i));
    const moved = [...new Map([...front, ...back].map((job) => [job.id, job])).values()].filter(
      (job) => !justPushed.has(job.id) && this.pushedPositions.get(job.id) !== positions.get(job.id),
    );
    this.pushedPositions = positions;
    await this.publish('updated', moved, () => loadJobSummaries(this.db, moved, positions));
  }

  private async publish(kind: 'created' | 'updated', jobs: readonly Job[], load: () => Promise<JobSummary[]>): Promise<void> {
    if (jobs.length === 0) return;
    let summaries: JobSummary[];
    try {
      summaries = await load();
    } catch (err) {
      for (const job of jobs) this.onError(err, job.id);
      return;
    }
    for (const summary of summaries) {
      try {
        this.bus.publishJobChange({ kind, job: summary });
      } catch (err) {
        this.onError(err, summary.id);
      }
    }
  }
}
