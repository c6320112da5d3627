import type { JobQueue } from '@chorus/api';
import type { Db } from '@chorus/db';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerLogger } from '../worker/logger.ts';
import { closeRedis, openRedis, whenReady, withTimeout } from './redis-connection.ts';
import { bullmqJobId, engineQueueName, redisNames, type RedisNames } from './redis-names.ts';

export interface BullmqJobQueueOptions {
  db: Db;
  /** redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /** Every key and channel starts with it (CHORUS_REDIS_PREFIX). */
  prefix: string;
  logger: WorkerLogger;
  /** How often every queued job row is checked against BullMQ (CHORUS_QUEUE_RECONCILE_MS). */
  reconcileIntervalMs?: number;
  /** How long enqueue and abort wait for Redis before giving up. */
  redisTimeoutMs?: number;
}

export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;
const DEFAULT_REDIS_TIMEOUT_MS = 2000;
/** Queued rows checked per database query and per Redis round trip. */
const RECONCILE_PAGE = 500;
/** The BullMQ job name; the job's id is the Chorus job id and its lease epoch (bullmqJobId), its queue names the engine. */
export const BULLMQ_JOB_NAME = 'run';
/** BullMQ's lowest priority is 2^21; 0 means "no priority" there, which would jump every prioritized job. */
const BULLMQ_MAX_PRIORITY = 2_097_152;

/** Chorus priority (0 high, 1 normal, 2 low; lower first) → BullMQ priority (1 first, all jobs prioritized). */
export function bullmqPriority(chorusPriority: number): number {
  const p = Number.isFinite(chorusPriority) ? Math.trunc(chorusPriority) : 1;
  return Math.min(Math.max(p, 0), BULLMQ_MAX_PRIORITY - 1) + 1;
}

interface QueuedRow {
  id: string;
  engineId: string;
  priority: number;
  leaseEpoch: number;
}


/**
 * The server side of the scale-out queue: one BullMQ queue per engine, the BullMQ job id is
 * the Chorus job id and lease epoch (so a second enqueue of the same wait is a no-op in Redis), and aborts go
 * to every worker over a pub/sub channel.
 *
 * The Job row stays the source of truth. Redis here keeps nothing on disk, so the reconciler
 * (at start, whenever the Redis connection comes back, and every `reconcileIntervalMs`)
 * enqueues again every queued row BullMQ does not hold: after a Redis restart no queued job
 * is lost, and a job put back in the queue while its BullMQ job still ran is picked up too.
 */
export class BullmqJobQueue implements JobQueue {
  private readonly names: RedisNames;
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private reconciling: Promise<number> | null = null;
  private reconcileAgain = false;
  private started = false;
  private closed = false;

  /** Connect, reconcile once and start the reconciler (fails with a clear message when Redis cannot be reached). */
  static async connect(options: BullmqJobQueueOptions): Promise<BullmqJobQueue> {
    const queue = new BullmqJobQueue(options);
    try {
      await whenReady(queue.connection, 'job queue');
      await queue.start();
    } catch (err) {
      await queue.close();
      throw err;
    }
    return queue;
  }

  private constructor(private readonly options: BullmqJobQueueOptions) {
    this.names = redisNames(options.prefix);
    this.timeoutMs = options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    // No offline queue: while Redis is down an enqueue fails at once (the reconciler catches up) instead of hanging job.create.
    this.connection = openRedis(options.url, 'job queue', options.logger, { enableOfflineQueue: false });
    this.connection.on('ready', () => {
      // Redis came back, perhaps empty (it keeps nothing on disk): put the queued jobs back.
      if (this.started && !this.closed) this.reconcileInBackground();
    });
  }

  private async start(): Promise<void> {
    await this.reconcile();
    this.started = true;
    this.timer = setInterval(() => this.reconcileInBackground(), this.options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async enqueue(jobId: string): Promise<void> {
    const row = await this.options.db.job.findUnique({ where: { id: jobId }, select: { id: true, status: true, engineId: true, priority: true, leaseEpoch: true } });
    if (!row || row.status !== 'queued') return;
    try {
      await withTimeout(this.add([row]), this.timeoutMs, `enqueue ${jobId}`);
    } catch (err) {
      // The row is committed and stays queued: the reconciler hands it over once Redis answers.
      this.options.logger.warn({ jobId, err: err instanceof Error ? err.message : String(err) }, 'job queue: could not hand the job to BullMQ now; the reconciler will');
    }
  }

  async abortRunning(jobId: string): Promise<void> {
    try {
      await withTimeout(this.connection.publish(this.names.abort, jobId), this.timeoutMs, `abort ${jobId}`);
    } catch (err) {
      throw new Error(`Could not ask the workers to stop job ${jobId}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /**
   * Enqueue every queued job row BullMQ does not hold; returns how many were enqueued.
   * Calls while one runs share it and run it once more after (so nothing queued meanwhile waits a full interval).
   */
  reconcile(): Promise<number> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    const run = this.reconcileOnce().finally(() => {
      this.reconciling = null;
      if (this.reconcileAgain && !this.closed) {
        this.reconcileAgain = false;
        this.reconcileInBackground();
      }
    });
    this.reconciling = run;
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.reconciling?.catch(() => undefined);
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    await closeRedis(this.connection);
  }

  private reconcileInBackground(): void {
    this.reconcile().catch((err: unknown) =>
      this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'job queue: reconciling queued jobs with BullMQ failed; retrying at the next interval'),
    );
  }

  private async reconcileOnce(): Promise<number> {
    let after: string | null = null;
    let enqueued = 0;
    for (;;) {
      // Paged by id on the (status, id) index: one indexed range read per page.
      const rows: QueuedRow[] = await this.options.db.job.findMany({
        where: { status: 'queued', ...(after ? { id: { gt: after } } : {}) },
        select: { id: true, engineId: true, priority: true, leaseEpoch: true },
        orderBy: { id: 'asc' },
        take: RECONCILE_PAGE,
      });
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const missing = await this.notHeld(rows);
      if (missing.length > 0) {
        await this.add(missing);
        enqueued += missing.length;
      }
      if (rows.length < RECONCILE_PAGE) break;
    }
    if (enqueued > 0) this.options.logger.warn({ jobs: enqueued }, 'job queue: enqueued queued jobs that BullMQ did not hold (Redis restarted or lost them)');
    return enqueued;
  }

  /** The rows whose BullMQ job does not exist (one pipelined EXISTS per row). */
  private async notHeld(rows: QueuedRow[]): Promise<QueuedRow[]> {
    const pipeline = this.connection.pipeline();
    for (const row of rows) pipeline.exists(this.queueFor(row.engineId).toKey(bullmqJobId(row.id, row.leaseEpoch)));
    const replies = (await pipeline.exec()) ?? [];
    return rows.filter((_, i) => {
      const [err, exists] = replies[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return exists === 0;
    });
  }

  /** Add to each engine's queue; BullMQ keeps one job per id, so a job it still holds is not added twice. */
  private async add(rows: QueuedRow[]): Promise<void> {
    const byEngine = new Map<string, QueuedRow[]>();
    for (const row of rows) {
      const group = byEngine.get(row.engineId);
      if (group) group.push(row);
      else byEngine.set(row.engineId, [row]);
    }
    await Promise.all(
      [...byEngine].map(([engineId, group]) =>
        this.queueFor(engineId).addBulk(
          group.map((r) => ({
            name: BULLMQ_JOB_NAME,
            data: {},
            // Finished BullMQ jobs are removed, so a job re-queued later (recovery, shutdown) can be added again.
            opts: { jobId: bullmqJobId(r.id, r.leaseEpoch), priority: bullmqPriority(r.priority), removeOnComplete: true, removeOnFail: true },
          })),
        ),
      ),
    );
  }

  private queueFor(engineId: string): Queue {
    let queue = this.queues.get(engineId);
    if (!queue) {
      queue = new Queue(engineQueueName(engineId), { connection: this.connection, prefix: this.names.bullmqPrefix });
      queue.on('error', (err: Error) => this.options.logger.warn({ engineId, err: err.message }, 'job queue: BullMQ error'));
      this.queues.set(engineId, queue);
    }
    return queue;
  }
}
