import { announceQueuePositions, type JobEventLog } from '@chorus/api';
import type { Db, Job } from '@chorus/db';
import type { EngineRegistry } from '../engines/registry.ts';
import type { WorkerLogger } from './logger.ts';
import { recoverInterruptedJobs } from './recovery.ts';
import { runJob, type StopReason } from './run-job.ts';

export interface WorkerOptions {
  db: Db;
  events: JobEventLog;
  engines: EngineRegistry;
  dataDir: string;
  logger: WorkerLogger;
  /** Jobs run at once (default 1: one CPU engine saturates a core). */
  concurrency?: number;
  /** Safety-net poll for queued jobs nobody woke us for. */
  pollIntervalMs?: number;
  progressIntervalMs?: number;
}

interface Running {
  engineId: string;
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
  private unwatchHealth: (() => void) | null = null;
  private readonly concurrency: number;

  constructor(private readonly options: WorkerOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  async start(): Promise<void> {
    await recoverInterruptedJobs(this.options.db, this.options.events, this.options.logger);
    this.unwatchHealth = this.options.engines.onHealthChange((engineId, health) => {
      // Waiting jobs hear that the engine is back before any of them is started.
      void this.tellWaitingJobs(engineId, health.status === 'down' ? health.message ?? 'no answer' : null)
        .catch((err: unknown) => this.options.logger.error({ err, engineId }, 'worker: could not tell waiting jobs about an engine change'))
        .finally(() => {
          if (health.status !== 'down') this.wake();
        });
    });
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 2000);
    this.pollTimer.unref();
    this.wake();
  }

  /** Look for work now (a job was queued or a slot freed up). */
  wake(): void {
    if (this.stopping) return;
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
    // A claim in flight either launches (and is waited for below) or goes back to the queue.
    await this.pumping;
    const all = (): Promise<unknown> => Promise.all([...this.running.values()].map((r) => r.done));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([all(), timeout])) === 'timeout') {
      for (const id of this.running.keys()) this.abort(id, 'shutdown');
      await all();
    }
  }

  private async pump(): Promise<void> {
    while (!this.stopping && this.running.size < this.concurrency) {
      const job = await this.claimNext();
      if (!job) return;
      if (this.stopping) {
        // Claimed just as the server began to stop: give it back untouched.
        await this.options.events.append(job.id, [{ type: 'status', status: 'queued', reason: 'server shutdown' }], {
          expectStatus: ['running'],
          patch: { attempts: { decrement: 1 } },
        });
        return;
      }
      this.launch(job);
      await announceQueuePositions(this.options.db, this.options.events);
    }
  }

  private async claimNext(): Promise<Job | null> {
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
      const claimed = await events.append(next.id, [{ type: 'status', status: 'running' }], {
        expectStatus: ['queued'],
        patch: { attempts: { increment: 1 } },
      });
      if (claimed) return db.job.findUniqueOrThrow({ where: { id: next.id } });
    }
    return null;
  }

  private launch(job: Job): void {
    const { db, events, engines, dataDir, logger } = this.options;
    const engine = engines.engine(job.engineId);
    const controller = new AbortController();
    const entry: Running = { engineId: job.engineId, controller, reason: 'cancel', done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = (async () => {
      // A cancel that raced the claim only set the flag; honour it now.
      const fresh = await db.job.findUnique({ where: { id: job.id }, select: { cancelRequested: true } });
      if (fresh?.cancelRequested) controller.abort();
      if (!engine) throw new Error(`engine ${job.engineId} disappeared`);
      logger.info({ jobId: job.id, engine: engine.info.id, mode: job.mode }, 'job started');
      await runJob({ db, events, dataDir, logger, progressIntervalMs: this.options.progressIntervalMs ?? 100 }, job, engine, controller.signal, () => entry.reason);
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
