import { randomUUID } from 'node:crypto';
import { claimJob, DEFAULT_LEASE_MS, renewLeases, type JobEventLog, type JobLease } from '@chorus/api';
import type { Db, Job } from '@chorus/db';
import type { JobFeed } from '../drivers/job-feed.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import type { WorkerLogger } from './logger.ts';
import { leaseOwnerId, recoverAbandonedJobs } from './recovery.ts';
import { localRunIO, type LocalRunDeps } from './local-run-io.ts';
import { runJob, type StopReason } from './run-job.ts';

export interface WorkerOptions {
  db: Db;
  events: JobEventLog;
  engines: EngineRegistry;
  /** Prompt loading and output storing (the object store in the server; a standalone worker passes its own). */
  jobFiles: Pick<LocalRunDeps, 'loadPrompt' | 'storeOutput'>;
  logger: WorkerLogger;
  /**
   * This worker's stable name (unique among live workers: the server derives it from its data
   * directory, which only one process holds). Leases are owned by "name#run".
   */
  name: string;
  /** How long a claimed job's lease lasts without renewal (CHORUS_LEASE_MS). */
  leaseMs?: number;
  /** How often leases are renewed and expired ones recovered (default a third of leaseMs). */
  leaseCheckMs?: number;
  /** Jobs run at once (default 1: one CPU engine saturates a core). */
  concurrency?: number;
  /**
   * Where job ids come from: unset, the Job rows themselves (polled, FIFO); in scale-out a
   * JobFeed (BullMQ) delivers them, per engine and at each engine's concurrency.
   */
  feed?: JobFeed;
  /**
   * False: this process runs no jobs (standalone workers do) and only recovers abandoned
   * ones, whose leases it watches like any worker (CHORUS_SERVER_RUNS_JOBS=false).
   */
  runsJobs?: boolean;
  /** A job this worker put back in the queue (recovery, shutdown): hand it to the queue again (BullMQ). */
  requeued?: (jobId: string) => void;
  /** Safety-net poll for queued jobs nobody woke us for. */
  pollIntervalMs?: number;
  progressIntervalMs?: number;
}

interface Running {
  engineId: string;
  lease: JobLease;
  controller: AbortController;
  reason: StopReason;
  done: Promise<void>;
}

/**
 * Takes queued jobs in FIFO order (Job rows are the queue), runs up to `concurrency` at
 * once, and aborts a job on request within the engine's cancellation latency.
 */
export class Worker {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private pumping: Promise<void> | null = null;
  private wakeAgain = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private leaseCheck: Promise<void> | null = null;
  private unwatchHealth: (() => void) | null = null;
  private unwatchAborts: (() => void) | null = null;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  /** Owner of the leases this run of the worker takes. */
  readonly owner: string;

  constructor(private readonly options: WorkerOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.owner = leaseOwnerId(options.name, randomUUID().slice(0, 8));
  }

  async start(): Promise<void> {
    await this.recover();
    this.leaseTimer = setInterval(() => this.checkLeases(), this.options.leaseCheckMs ?? Math.max(100, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
    const { feed, engines, logger } = this.options;
    if (this.options.runsJobs === false) return;
    this.unwatchHealth = engines.onHealthChange((engineId, health) => {
      const down = health.status === 'down';
      // A feed stops fetching for an engine that is down; the jobs stay queued for other workers.
      if (feed) void (down ? feed.pause(engineId) : feed.resume(engineId)).catch((err: unknown) => logger.error({ err, engineId }, 'worker: could not pause or resume the job feed'));
      // Waiting jobs hear that the engine is back before any of them is started.
      void this.tellWaitingJobs(engineId, down ? health.message ?? 'no answer' : null)
        .catch((err: unknown) => logger.error({ err, engineId }, 'worker: could not tell waiting jobs about an engine change'))
        .finally(() => {
          if (!down) this.wake();
        });
    });
    if (feed) {
      this.unwatchAborts = feed.onAbort((jobId) => this.abort(jobId, 'cancel'));
      for (const e of engines.list()) if (!engines.isAvailable(e.id)) await feed.pause(e.id);
      await feed.start(
        engines.list().map((e) => ({ id: e.id, concurrency: engines.concurrency(e.id) })),
        (jobId) => this.runDelivered(jobId),
      );
      return;
    }
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 2000);
    this.pollTimer.unref();
    this.wake();
  }

  /** A job id the feed delivered: claim it in the database, run it if the claim won, and return when the run ended. */
  private async runDelivered(jobId: string): Promise<void> {
    if (this.stopping) return;
    const claimed = await claimJob(this.options.db, this.options.events, jobId, this.owner, this.leaseMs);
    // Not queued any more (canceled, done, or another worker's claim won): nothing to do.
    if (!claimed) return;
    this.launch(claimed.job, claimed.lease);
    await this.running.get(jobId)?.done;
    // Put back in the queue by its run (shutdown): the feed's job for it has ended, so enqueue it again.
    const row = await this.options.db.job.findUnique({ where: { id: jobId }, select: { status: true } });
    if (row?.status === 'queued') this.options.requeued?.(jobId);
  }

  /** Look for work now (a job was queued or a slot freed up). */
  wake(): void {
    // With a feed, jobs arrive from it; nothing is polled.
    if (this.stopping || this.options.feed || this.options.runsJobs === false) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => this.options.logger.error({ err }, 'worker: failed to take the next job'))
      .finally(() => {
        this.pumping = null;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  abort(jobId: string, reason: StopReason = 'cancel'): boolean {
    const run = this.running.get(jobId);
    if (!run) return false;
    run.reason = reason;
    run.controller.abort();
    return true;
  }

  get activeJobs(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stop taking work; give running jobs `graceMs` to finish, then abort them so they go
   * back to the queue (they restart from the beginning at the next start).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.unwatchHealth?.();
    // No new deliveries; the feed's running handlers end with their runs below.
    if (this.options.runsJobs !== false) await this.options.feed?.stop();
    // A claim in flight either launches (and is waited for below) or goes back to the queue.
    await this.pumping;
    const all = (): Promise<unknown> => Promise.all([...this.running.values()].map((r) => r.done));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([all(), timeout])) === 'timeout') {
      for (const id of this.running.keys()) this.abort(id, 'shutdown');
      await all();
    }
    // Renewals run until every job here ended, so none is taken over while it still finishes.
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.leaseCheck;
    this.unwatchAborts?.();
    if (this.options.runsJobs !== false) await this.options.feed?.closed();
  }

  /** Renew the leases of the jobs running here (a lost one stops its run), then recover abandoned jobs. */
  private checkLeases(): void {
    if (this.leaseCheck) return;
    this.leaseCheck = (async () => {
      const held = [...this.running].map(([jobId, r]) => ({ jobId, lease: r.lease }));
      const lost = await renewLeases(this.options.db, this.owner, held, this.leaseMs);
      for (const jobId of lost) {
        this.options.logger.warn({ jobId }, 'worker: lost the lease of a running job (it was taken over); stopping its run here');
        this.abort(jobId, 'lease-lost');
      }
      if (!this.stopping) await this.recover();
    })()
      .catch((err: unknown) => this.options.logger.error({ err }, 'worker: could not renew leases or recover abandoned jobs'))
      .finally(() => {
        this.leaseCheck = null;
      });
  }

  private async recover(): Promise<void> {
    const recovered = await recoverAbandonedJobs(this.options.db, this.options.events, this.options.logger, this.options.name, this.owner);
    for (const jobId of recovered.requeued) this.options.requeued?.(jobId);
    if (recovered.requeued.length > 0) this.wake();
  }

  private async pump(): Promise<void> {
    while (!this.stopping && this.running.size < this.concurrency) {
      const claimed = await this.claimNext();
      if (!claimed) return;
      if (this.stopping) {
        // Claimed just as the server began to stop: give it back untouched.
        await this.options.events.append(claimed.job.id, [{ type: 'status', status: 'queued', reason: 'server shutdown' }], {
          expectStatus: ['running'],
          lease: claimed.lease,
          patch: { attempts: { increment: -1 }, leaseOwner: null, leaseExpiresAt: null, leaseEpoch: { increment: 1 } },
        });
        return;
      }
      // The jobs still waiting learn their new place from the log's coalesced pushes.
      this.launch(claimed.job, claimed.lease);
    }
  }

  private async claimNext(): Promise<{ job: Job; lease: JobLease } | null> {
    const { db, events, engines } = this.options;
    // Engines that are not known to be down and have a free slot.
    const busy = new Map<string, number>();
    for (const r of this.running.values()) busy.set(r.engineId, (busy.get(r.engineId) ?? 0) + 1);
    const runnable = engines
      .list()
      .map((e) => e.id)
      .filter((id) => engines.isAvailable(id) && (busy.get(id) ?? 0) < engines.concurrency(id));
    if (runnable.length === 0) return null;
    // Another claimer may win the race for the oldest job; then try the next one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = await db.job.findFirst({
        where: { status: 'queued', engineId: { in: runnable }, id: { notIn: [...this.running.keys()] } },
        orderBy: [{ queuedAt: 'asc' }, { id: 'asc' }],
      });
      if (!next) return null;
      const claimed = await claimJob(db, events, next.id, this.owner, this.leaseMs);
      if (claimed) return claimed;
    }
    return null;
  }

  private launch(job: Job, lease: JobLease): void {
    const { db, events, engines, jobFiles, logger } = this.options;
    const engine = engines.engine(job.engineId);
    const controller = new AbortController();
    const entry: Running = { engineId: job.engineId, lease, controller, reason: 'cancel', done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = (async () => {
      // A cancel that raced the claim only set the flag; honour it now.
      const fresh = await db.job.findUnique({ where: { id: job.id }, select: { cancelRequested: true } });
      if (fresh?.cancelRequested) controller.abort();
      if (!engine) throw new Error(`engine ${job.engineId} disappeared`);
      logger.info({ jobId: job.id, engine: engine.info.id, mode: job.mode }, 'job started');
      await runJob({ logger, progressIntervalMs: this.options.progressIntervalMs ?? 100 }, localRunIO({ db, events, ...jobFiles }, job, lease), job, engine, {
        signal: controller.signal,
        stopReason: () => entry.reason,
        // An event the log refused: the job is no longer ours to run (canceled, or its lease taken over).
        onRefused: () => {
          if (!controller.signal.aborted) this.abort(job.id, 'lease-lost');
        },
      });
      logger.info({ jobId: job.id }, 'job ended');
    })()
      .catch((err: unknown) => logger.error({ err, jobId: job.id }, 'job run crashed'))
      .finally(() => {
        this.running.delete(job.id);
        this.wake();
      });
  }

  /**
   * An engine went down (reason) or came back (null): its queued jobs say so in their log,
   * and wait instead of failing one by one.
   */
  private async tellWaitingJobs(engineId: string, downReason: string | null): Promise<void> {
    const { db, events, logger } = this.options;
    const waiting = await db.job.findMany({ where: { status: 'queued', engineId }, select: { id: true }, take: 500 });
    logger.warn({ engineId, down: downReason !== null, reason: downReason, waitingJobs: waiting.length }, 'engine health changed');
    await Promise.all(
      waiting.map((w) =>
        events.append(
          w.id,
          downReason !== null
            ? [
                { type: 'log', level: 'warn', message: `Engine "${engineId}" is unreachable (${downReason}); this job waits in the queue until it is back.` },
                { type: 'status', status: 'queued', reason: `engine ${engineId} unreachable` },
              ]
            : [{ type: 'log', level: 'info', message: `Engine "${engineId}" is reachable again.` }],
          { expectStatus: ['queued'] },
        ),
      ),
    );
  }
}
