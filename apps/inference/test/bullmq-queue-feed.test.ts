import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobEventLog, newId } from '@chorus/api';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqJobFeed, type BullmqJobFeedOptions } from '../src/drivers/bullmq-job-feed.ts';
import { bullmqPriority, BullmqJobQueue } from '../src/drivers/bullmq-job-queue.ts';
import { InProcessEventBus } from '../src/drivers/in-process-bus.ts';
import { engineQueueName, redisNames } from '../src/drivers/redis-names.ts';
import { deleteKeys, recordingLogger, SHARED_REDIS_URL, startOwnRedis, subscribers, uniquePrefix, until, type OwnRedis } from './helpers/redis.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The handler a Chorus worker gives its feed, reduced to what the queue is for: claim the
 * job with a conditional status change (the real event log, on a real SQLite file), hold it
 * until the test lets it finish, record it as succeeded. It counts what the test checks:
 * deliveries, claims, and how many handlers ran at once per engine and per job.
 */
class RecordingHandler {
  readonly deliveries: { jobId: string; engineId: string }[] = [];
  readonly claims = new Map<string, number>();
  readonly refused: string[] = [];
  readonly held = new Map<string, () => void>();
  readonly maxAtOnce = new Map<string, number>();
  /** A job delivered to a handler while another handler of it had not returned. */
  readonly overlaps: string[] = [];
  private readonly atOnce = new Map<string, number>();
  private readonly inHandler = new Set<string>();

  constructor(
    private readonly events: JobEventLog,
    private readonly hold: boolean,
  ) {}

  readonly handle = async (jobId: string, engineId: string): Promise<void> => {
    this.deliveries.push({ jobId, engineId });
    if (this.inHandler.has(jobId)) this.overlaps.push(jobId);
    this.inHandler.add(jobId);
    const now = (this.atOnce.get(engineId) ?? 0) + 1;
    this.atOnce.set(engineId, now);
    this.maxAtOnce.set(engineId, Math.max(now, this.maxAtOnce.get(engineId) ?? 0));
    try {
      const claimed = await this.events.append(jobId, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'], patch: { attempts: { increment: 1 } } });
      if (!claimed) {
        this.refused.push(jobId);
        return;
      }
      this.claims.set(jobId, (this.claims.get(jobId) ?? 0) + 1);
      if (this.hold) await new Promise<void>((resolve) => this.held.set(jobId, resolve));
      await this.events.append(jobId, [{ type: 'status', status: 'succeeded' }], { expectStatus: ['running'] });
    } finally {
      this.held.delete(jobId);
      this.inHandler.delete(jobId);
      this.atOnce.set(engineId, (this.atOnce.get(engineId) ?? 1) - 1);
    }
  };

  /** Let every held job finish. */
  releaseAll(): void {
    for (const release of [...this.held.values()]) release();
  }

  heldOn(engineId: string): number {
    return this.deliveries.filter((d) => d.engineId === engineId && this.held.has(d.jobId)).length;
  }
}

interface Fixture {
  db: Db;
  dbUrl: string;
  logger: ReturnType<typeof recordingLogger>;
  events: JobEventLog;
  url: string;
  prefix: string;
  /** Queued job rows on an engine (created one after the other, so oldest first). */
  createJobs(engineId: string, count: number, priority?: number): Promise<string[]>;
  statusOf(ids: readonly string[]): Promise<Map<string, string>>;
  /** BullMQ's count of jobs an engine's queue holds (waiting, prioritized, active, delayed). */
  held(engineId: string): Promise<number>;
  feed(options?: Partial<BullmqJobFeedOptions>): BullmqJobFeed;
  queue(reconcileIntervalMs?: number, redisTimeoutMs?: number): Promise<BullmqJobQueue>;
}

/** A real SQLite file and a Redis prefix of their own for one describe block; all closed and removed after. */
function useFixture(name: string, redisUrl: () => string): Fixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chorus-${name}-`));
  const dbUrl = `file:${path.join(dir, 'chorus.db')}`;
  const prefix = uniquePrefix(name);
  const logger = recordingLogger();
  const feeds: BullmqJobFeed[] = [];
  const queues: BullmqJobQueue[] = [];
  const inspectors: Queue[] = [];
  let inspectorConnection: Redis | null = null;
  const fixture = { prefix, dbUrl, logger } as Fixture;
  beforeAll(async () => {
    await migrateDatabase(dbUrl);
    fixture.db = await openDb(dbUrl);
    fixture.events = new JobEventLog(fixture.db, new InProcessEventBus());
    fixture.url = redisUrl();
  });
  afterAll(async () => {
    for (const feed of feeds) await feed.closed();
    for (const queue of queues) await queue.close();
    for (const inspector of inspectors) await inspector.close();
    inspectorConnection?.disconnect();
    await fixture.events?.close();
    await fixture.db?.$disconnect();
    await deleteKeys(fixture.url, prefix).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fixture.createJobs = async (engineId, count, priority = 1) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const job = await fixture.db.job.create({
        data: { id: newId('job'), mode: 'pretrained', text: `job ${i}`, seed: i, engineId, engineVersion: '1', status: 'queued', priority, lastSeq: 0 },
      });
      ids.push(job.id);
    }
    return ids;
  };
  fixture.statusOf = async (ids) => {
    const rows = await fixture.db.job.findMany({ where: { id: { in: [...ids] } }, select: { id: true, status: true } });
    return new Map(rows.map((r) => [r.id, r.status]));
  };
  const inspectorFor = new Map<string, Queue>();
  fixture.held = async (engineId) => {
    inspectorConnection ??= new Redis(fixture.url, { maxRetriesPerRequest: null });
    let inspector = inspectorFor.get(engineId);
    if (!inspector) {
      inspector = new Queue(engineQueueName(engineId), { connection: inspectorConnection, prefix: redisNames(prefix).bullmqPrefix });
      inspectorFor.set(engineId, inspector);
      inspectors.push(inspector);
    }
    const counts = await inspector.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  fixture.feed = (options = {}) => {
    const feed = new BullmqJobFeed({ url: fixture.url, prefix, logger, ...options });
    feeds.push(feed);
    return feed;
  };
  fixture.queue = async (reconcileIntervalMs = 600_000, redisTimeoutMs?: number) => {
    const queue = await BullmqJobQueue.connect({ db: fixture.db, url: fixture.url, prefix, logger, reconcileIntervalMs, redisTimeoutMs });
    queues.push(queue);
    return queue;
  };
  return fixture;
}

describe('BullMQ queue and feed on the real Redis and a real SQLite file', () => {
  const f = useFixture('bullmq', () => SHARED_REDIS_URL);

  it('dispatches per engine, at most each engine\'s concurrency at once', async () => {
    const onA = await f.createJobs('a', 5);
    const onB = await f.createJobs('b', 3);
    const onC = await f.createJobs('c', 2); // no feed serves engine c
    const queue = await f.queue();
    for (const id of [...onA, ...onB, ...onC]) await queue.enqueue(id);
    const handler = new RecordingHandler(f.events, true);
    const feed = f.feed();
    await feed.start([{ id: 'a', concurrency: 2 }, { id: 'b', concurrency: 1 }], handler.handle);

    // Both engines fill their slots before anything finishes…
    await until('a at 2 and b at 1', () => handler.heldOn('a') === 2 && handler.heldOn('b') === 1);
    // …and then drain, each job let go as soon as it is seen.
    await until('all a and b jobs succeeded', async () => {
      handler.releaseAll();
      return [...(await f.statusOf([...onA, ...onB])).values()].every((s) => s === 'succeeded');
    });

    const rows = new Map((await f.db.job.findMany({ select: { id: true, engineId: true } })).map((r) => [r.id, r.engineId]));
    for (const d of handler.deliveries) expect(d.engineId, d.jobId).toBe(rows.get(d.jobId));
    expect(handler.deliveries.map((d) => d.jobId).sort()).toEqual([...onA, ...onB].sort());
    expect(handler.maxAtOnce.get('a')).toBe(2);
    expect(handler.maxAtOnce.get('b')).toBe(1);
    expect(handler.overlaps).toEqual([]);
    // Engine c's jobs wait in BullMQ for a worker that serves c, and in the database as queued.
    expect(await f.held('c')).toBe(2);
    expect([...(await f.statusOf(onC)).values()]).toEqual(['queued', 'queued']);
    await until('a and b hold nothing', async () => (await f.held('a')) + (await f.held('b')) === 0);
    await feed.stop();
    await feed.closed();
  });

  it('keeps one BullMQ job per Chorus job however often it is enqueued, and runs it once', async () => {
    const [id] = await f.createJobs('d', 1);
    const queue = await f.queue();
    await Promise.all([queue.enqueue(id!), queue.enqueue(id!), queue.enqueue(id!)]);
    expect(await queue.reconcile()).toBe(0); // BullMQ holds it already
    expect(await f.held('d')).toBe(1);

    const handler = new RecordingHandler(f.events, false);
    const feed = f.feed();
    await feed.start([{ id: 'd', concurrency: 4 }], handler.handle);
    await until('the job succeeded', async () => (await f.statusOf([id!])).get(id!) === 'succeeded');
    await until('d holds nothing', async () => (await f.held('d')) === 0);
    // Nothing is left that could deliver it again: the row is finished and BullMQ holds no job.
    expect(await queue.reconcile()).toBe(0);
    await queue.enqueue(id!); // a finished job is not enqueued
    expect(await f.held('d')).toBe(0);
    expect(handler.deliveries).toEqual([{ jobId: id, engineId: 'd' }]);
    await feed.closed();
  });

  it('passes the priority through: lower first, FIFO within one', async () => {
    expect([0, 1, 2].map(bullmqPriority)).toEqual([1, 2, 3]);
    const low = await f.createJobs('p', 2, 2);
    const normal = await f.createJobs('p', 1, 1);
    const high = await f.createJobs('p', 2, 0);
    const queue = await f.queue();
    for (const id of [...low, ...normal, ...high]) await queue.enqueue(id);
    const handler = new RecordingHandler(f.events, false);
    const feed = f.feed();
    await feed.start([{ id: 'p', concurrency: 1 }], handler.handle);
    await until('all five ran', () => handler.claims.size === 5);
    expect(handler.deliveries.map((d) => d.jobId)).toEqual([...high, ...normal, ...low]);
    await feed.closed();
  });

  it('brings an abort to the feed that runs the job, and to no one else', async () => {
    const [id] = await f.createJobs('x', 1);
    const [other] = await f.createJobs('z', 1); // queued for an engine nobody serves
    const queue = await f.queue();
    await queue.enqueue(id!);
    const handler = new RecordingHandler(f.events, true);
    const feed = f.feed();
    const log = recordingLogger();
    const bystander = f.feed({ logger: log }); // serves another engine: hears every abort, runs none of these
    await feed.start([{ id: 'x', concurrency: 1 }], handler.handle);
    await bystander.start([{ id: 'y', concurrency: 1 }], async () => undefined);
    const heard: string[] = [];
    const heardByBystander: string[] = [];
    const stopListening = feed.onAbort((jobId) => {
      heard.push(jobId);
      handler.held.get(jobId)?.();
    });
    bystander.onAbort((jobId) => heardByBystander.push(jobId));
    await until('the job is held', () => handler.held.has(id!));

    const raw = new Redis(f.url);
    try {
      await until('both feeds listen', async () => (await subscribers(raw, redisNames(f.prefix).abort)) === 2);
      await raw.publish(redisNames(f.prefix).abort, 'not a job id');
      await queue.abortRunning(other!); // queued, runs nowhere
      await queue.abortRunning(id!);
    } finally {
      raw.disconnect();
    }
    await until('the abort arrived', () => heard.length > 0);
    expect(heard).toEqual([id]);
    expect(heardByBystander).toEqual([]);
    await until('the malformed one was dropped with a warning', () => log.lines.some((l) => l.msg === 'job feed: dropped a malformed abort request'));
    stopListening();
    await until('the job finished', async () => (await f.statusOf([id!])).get(id!) === 'succeeded');
    await feed.closed();
    await bystander.closed();
  });

  it('stops fetching for a paused engine and starts again on resume', async () => {
    const handler = new RecordingHandler(f.events, false);
    const feed = f.feed();
    await feed.start([{ id: 'q', concurrency: 1 }, { id: 'r', concurrency: 1 }], handler.handle);
    await feed.pause('q');
    const queue = await f.queue();
    const [paused] = await f.createJobs('q', 1);
    await queue.enqueue(paused!);
    const [running] = await f.createJobs('r', 1);
    await queue.enqueue(running!);
    await until('engine r ran its job', async () => (await f.statusOf([running!])).get(running!) === 'succeeded');
    expect(handler.deliveries.map((d) => d.jobId)).toEqual([running]);
    expect(await f.held('q')).toBe(1);
    await feed.resume('q');
    await until('the paused engine\'s job ran after resume', async () => (await f.statusOf([paused!])).get(paused!) === 'succeeded');
    expect(handler.deliveries.map((d) => d.jobId)).toEqual([running, paused]);
    await feed.closed();
  });
});

describe('a feed killed mid-job (SIGKILL of its process)', () => {
  const f = useFixture('bullmq-stall', () => SHARED_REDIS_URL);
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('its job stalls and comes back to another feed; the database claim decides that it does not run twice', async () => {
    const [taken, untouched] = await f.createJobs('s', 2);
    const queue = await f.queue();
    await queue.enqueue(taken!);
    // The dying worker: its handler claims the job and never returns. Every worker of a queue
    // must share one stalled-check interval: a check keeps others from checking for that long.
    child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'feed-process.ts'), f.url, f.prefix, f.dbUrl, 's', '1000', '300'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until('the other process claimed the job', () => out.includes(`claimed ${taken}`));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child!.once('exit', () => resolve()));

    // A live feed notices the expired lock and gets the job again.
    const handler = new RecordingHandler(f.events, false);
    const survivor = f.feed({ lockDurationMs: 1000, stalledIntervalMs: 300 });
    await survivor.start([{ id: 's', concurrency: 1 }], handler.handle);
    await until('the stalled job came back', () => handler.deliveries.some((d) => d.jobId === taken));
    // Its row is running (the dead worker's claim): the claim is refused and it does not run again here.
    expect(handler.refused).toEqual([taken]);
    expect((await f.statusOf([taken!])).get(taken!)).toBe('running');
    await until('BullMQ holds nothing for engine s', async () => (await f.held('s')) === 0);
    // The feed goes on with other work.
    await queue.enqueue(untouched!);
    await until('the next job ran', async () => (await f.statusOf([untouched!])).get(untouched!) === 'succeeded');
    expect(handler.claims.get(taken!)).toBeUndefined();
    await survivor.closed();
  });
});

describe('Redis restarted mid-run (a redis-server the test owns, keeping nothing on disk)', () => {
  let own: OwnRedis;
  beforeAll(async () => {
    own = await startOwnRedis();
  });
  afterAll(async () => {
    await own?.stop();
  });
  const f = useFixture('bullmq-restart', () => own.url);

  it('the reconciler enqueues every queued row again; none is lost, none runs twice or twice at once', async () => {
    const onA = await f.createJobs('a', 8);
    const onB = await f.createJobs('b', 4);
    // A long interval: what brings the jobs back is the reconcile when Redis reconnects.
    const queue = await f.queue(600_000, 300);
    for (const id of [...onA, ...onB]) await queue.enqueue(id);
    const handler = new RecordingHandler(f.events, true);
    const feed = f.feed();
    await feed.start([{ id: 'a', concurrency: 2 }, { id: 'b', concurrency: 1 }], handler.handle);
    await until('three jobs running', () => handler.heldOn('a') === 2 && handler.heldOn('b') === 1);
    expect(await f.held('a')).toBe(8);

    await own.kill(); // it comes back empty
    await until('the queue saw Redis go', () => f.logger.lines.some((l) => l.msg === 'Redis connection down; reconnecting' && (l.obj as { role?: string }).role === 'job queue'));
    // A job created while Redis is down: enqueue gives up at once (job.create does not hang); the row waits.
    const [duringOutage] = await f.createJobs('b', 1);
    await queue.enqueue(duringOutage!);
    expect(f.logger.lines.some((l) => l.msg === 'job queue: could not hand the job to BullMQ now; the reconciler will')).toBe(true);
    const all = [...onA, ...onB, duringOutage!];
    await own.start();
    // The running jobs finish while their BullMQ jobs are gone; the queued ones come back from the database.
    await until(
      'every job succeeded',
      async () => {
        handler.releaseAll();
        return [...(await f.statusOf(all)).values()].every((s) => s === 'succeeded');
      },
      60_000,
    );
    // All twelve went in at start; the reconcile on reconnect put back the ten rows still queued (nine, and the one created meanwhile).
    expect(f.logger.lines.filter((l) => l.msg === 'job queue: enqueued queued jobs that BullMQ did not hold (Redis restarted or lost them)').map((l) => (l.obj as { jobs: number }).jobs)).toEqual([12, 10]);
    expect([...handler.claims.keys()].sort()).toEqual([...all].sort());
    expect([...handler.claims.values()].every((n) => n === 1)).toBe(true);
    expect(handler.overlaps).toEqual([]);
    expect(handler.maxAtOnce.get('a')).toBeLessThanOrEqual(2);
    expect(handler.maxAtOnce.get('b')).toBe(1);
    const attempts = await f.db.job.findMany({ where: { id: { in: all } }, select: { attempts: true } });
    expect(attempts.every((r) => r.attempts === 1)).toBe(true);
    await until('nothing left in BullMQ', async () => (await f.held('a')) + (await f.held('b')) === 0);
    await feed.closed();
  });
});
