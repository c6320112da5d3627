import { jobIdSchema } from '@chorus/api';
import { WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerLogger } from '../worker/logger.ts';
import type { JobFeed } from './job-feed.ts';
import { closeRedis, openRedis, whenReady } from './redis-connection.ts';
import { chorusJobIdOf, engineQueueName, redisNames, type RedisNames } from './redis-names.ts';

export interface BullmqJobFeedOptions {
  /** redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /** The same prefix as the server's BullmqJobQueue (CHORUS_REDIS_PREFIX). */
  prefix: string;
  logger: WorkerLogger;
  /** BullMQ's lock on a job being handled here, renewed every half of it while the handler runs. */
  lockDurationMs?: number;
  /** How often this process looks for stalled jobs (their lock expired: the process handling them died). */
  stalledIntervalMs?: number;
  /** How many times a job may stall and come back before BullMQ drops it (the Job row still decides). */
  maxStalledCount?: number;
}

type Handler = (jobId: string, engineId: string) => Promise<void>;

/**
 * The worker side of the scale-out queue: a BullMQ Worker per engine, with that engine's
 * concurrency, delivering Chorus job ids to the handler. BullMQ's lock renewal and stalled
 * job detection are on.
 *
 * What delivery means here: the handler claims the job in the database (a conditional
 * status change) and runs it only if the claim wins. A *stalled* job (its process died or
 * lost Redis mid-run, so the lock expired) is delivered again, to any feed; the claim then
 * decides: a job whose row is no longer queued is completed here without running (its
 * lease recovery, not BullMQ, puts it back in the queue). A BullMQ job ends (and is
 * removed) when the handler returns, whatever the handler did; a handler error is logged.
 */
export class BullmqJobFeed implements JobFeed {
  private readonly names: RedisNames;
  /** Shared by this feed's Workers (each opens its own blocking connection from it). */
  private readonly connection: Redis;
  /** Subscriber-mode connection for the abort channel. */
  private readonly subscriber: Redis;
  private readonly workers = new Map<string, Worker>();
  private readonly paused = new Set<string>();
  /** Chorus job ids whose handler runs in this process. */
  private readonly inHand = new Set<string>();
  private readonly abortListeners = new Set<(jobId: string) => void>();
  private stopping = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: BullmqJobFeedOptions) {
    this.names = redisNames(options.prefix);
    this.connection = openRedis(options.url, 'job feed', options.logger);
    this.subscriber = openRedis(options.url, 'job feed aborts', options.logger);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.names.abort) this.abortRequested(message);
    });
  }

  async start(engines: { id: string; concurrency: number }[], handler: Handler): Promise<void> {
    if (this.workers.size > 0 || this.stopping) throw new Error('This job feed was already started.');
    const ids = new Set<string>();
    for (const engine of engines) {
      if (ids.has(engine.id)) throw new Error(`Engine "${engine.id}" is listed twice.`);
      if (!Number.isInteger(engine.concurrency) || engine.concurrency < 1) throw new Error(`Engine "${engine.id}": concurrency must be a positive integer, got ${engine.concurrency}.`);
      ids.add(engine.id);
    }
    await Promise.all([whenReady(this.connection, 'job feed'), whenReady(this.subscriber, 'job feed')]);
    // Listen for aborts before any job arrives, so an abort can never reach a running job unheard.
    await this.subscriber.subscribe(this.names.abort);
    for (const engine of engines) this.workers.set(engine.id, this.startWorker(engine.id, engine.concurrency, handler));
  }

  async pause(engineId: string): Promise<void> {
    this.paused.add(engineId);
    // Running jobs go on; only fetching stops.
    await this.workers.get(engineId)?.pause(true);
  }

  async resume(engineId: string): Promise<void> {
    this.paused.delete(engineId);
    if (!this.stopping) await this.workers.get(engineId)?.resume();
  }

  onAbort(listener: (jobId: string) => void): () => void {
    this.abortListeners.add(listener);
    return () => this.abortListeners.delete(listener);
  }

  /** Job ids whose handler runs here now. */
  get handling(): string[] {
    return [...this.inHand];
  }

  /**
   * Stop fetching at once. The Workers close, and the connections with them, once the
   * running handlers have returned (their BullMQ jobs are completed first); `closed()` says when.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const workers = [...this.workers.values()];
    await Promise.all(workers.map((w) => w.pause(true)));
    this.closing = (async () => {
      await Promise.all(workers.map((w) => w.close().catch((err: unknown) => this.options.logger.warn({ err }, 'job feed: a BullMQ worker did not close cleanly'))));
      await Promise.all([closeRedis(this.subscriber), closeRedis(this.connection)]);
    })();
  }

  /** Resolves once a stopped feed's handlers returned and its connections are closed. */
  async closed(): Promise<void> {
    if (!this.stopping) await this.stop();
    await this.closing;
  }

  private startWorker(engineId: string, concurrency: number, handler: Handler): Worker {
    const { logger } = this.options;
    const worker = new Worker(engineQueueName(engineId), (job: Job, token?: string) => this.process(engineId, job, token, handler), {
      connection: this.connection,
      prefix: this.names.bullmqPrefix,
      concurrency,
      lockDuration: this.options.lockDurationMs ?? 30_000,
      stalledInterval: this.options.stalledIntervalMs ?? 30_000,
      maxStalledCount: this.options.maxStalledCount ?? 1,
      // A failed or completed BullMQ job is nothing to keep: the Job row and its log hold the story.
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
      autorun: false,
    });
    worker.on('error', (err: Error) => logger.warn({ engineId, err: err.message }, 'job feed: BullMQ worker error'));
    worker.on('stalled', (jobId: string) => logger.warn({ engineId, jobId }, 'job feed: a job stalled (its worker stopped renewing the lock) and goes back to the queue; its database claim decides whether it runs again'));
    // Paused before start (its engine is down): resume() starts it.
    if (this.paused.has(engineId)) void worker.pause(true);
    else worker.run().catch((err: unknown) => logger.error({ err, engineId }, 'job feed: BullMQ worker stopped'));
    return worker;
  }

  private async process(engineId: string, job: Job, token: string | undefined, handler: Handler): Promise<void> {
    const { logger } = this.options;
    const id = jobIdSchema.safeParse(chorusJobIdOf(job.id ?? ''));
    if (!id.success) {
      logger.warn({ engineId, bullmqJobId: job.id }, 'job feed: dropped a BullMQ job whose id is not a Chorus job id');
      return;
    }
    if (this.stopping || this.paused.has(engineId)) {
      // Fetched just as this engine paused or the feed stopped: back to the queue for another worker.
      if (token) await job.moveToWait(token);
      throw new WaitingError();
    }
    const jobId = id.data;
    if (this.inHand.has(jobId)) {
      // Enqueued again (the reconciler after a Redis restart) while this process still handles it.
      logger.info({ engineId, jobId }, 'job feed: this job is already being handled here; the second delivery is dropped');
      return;
    }
    this.inHand.add(jobId);
    try {
      await handler(jobId, engineId);
    } catch (err) {
      logger.error({ err, engineId, jobId }, 'job feed: the handler failed; the job row decides what happens next');
    } finally {
      this.inHand.delete(jobId);
    }
  }

  private abortRequested(message: string): void {
    const id = jobIdSchema.safeParse(message);
    if (!id.success) {
      this.options.logger.warn({ message: message.slice(0, 100) }, 'job feed: dropped a malformed abort request');
      return;
    }
    if (!this.inHand.has(id.data)) return; // runs elsewhere
    for (const listener of [...this.abortListeners]) {
      try {
        listener(id.data);
      } catch (err) {
        this.options.logger.error({ err, jobId: id.data }, 'job feed: an abort listener failed');
      }
    }
  }
}
