import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiServices, AppendOutcome, AppendRequest, EventLogStore } from '../../src/index.ts';
import { claimJob, createEventLogStore, failureFingerprint, JobEventLog, newId, recoverExpiredLeases, renewLeases } from '../../src/index.ts';
import { streamJobEvents } from '../../src/router/job-events-stream.ts';
import type { JobEvent, JobEventBody } from '../../src/schemas/job-event.ts';
import { memoryBus } from './memory-bus.ts';

/** The real store, with the size of every batch it was given written down (nothing else changed). */
function countingStore(inner: EventLogStore): EventLogStore & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    appendBatch: (requests: readonly AppendRequest[], at: Date): Promise<AppendOutcome[]> => {
      batches.push(requests.length);
      return inner.appendBatch(requests, at);
    },
    read: (...args) => inner.read(...args),
    close: () => inner.close(),
  };
}

export interface SuiteDatabase {
  url: string;
  /** A client on a fresh, migrated database (call again for a second connection to the same one). */
  open(): Promise<Db>;
  drop(): Promise<void>;
}

const log = (message: string): JobEventBody => ({ type: 'log', level: 'info', message });
const seqsOf = (events: readonly JobEvent[]): number[] => events.map((e) => e.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The event log's contract, run against one database (SQLite and PostgreSQL run the same tests). */
export function eventLogSuite(name: string, database: () => Promise<SuiteDatabase>): void {
  describe(`JobEventLog on ${name}`, () => {
    let dbh: SuiteDatabase;
    let db: Db;
    let bus: ReturnType<typeof memoryBus>;
    let store: ReturnType<typeof countingStore>;
    let events: JobEventLog;
    let ctx: Pick<ApiServices, 'db' | 'bus' | 'events'>;
    const extra: { db: Db; log: JobEventLog }[] = [];

    beforeAll(async () => {
      dbh = await database();
      db = await dbh.open();
      bus = memoryBus();
      store = countingStore(createEventLogStore(db));
      // Queue refreshes at once, other pushes never by time alone: push counts below do not depend on the clock.
      events = new JobEventLog(db, bus, undefined, { store, summaries: { intervalMs: 600_000, queueIntervalMs: 0 } });
      ctx = { db, bus, events };
    });
    afterAll(async () => {
      for (const e of extra) {
        await e.log.close();
        await e.db.$disconnect();
      }
      await events?.close();
      await db?.$disconnect();
      await dbh?.drop();
    });

    const newJob = (engineId = 'builtin') =>
      events.createJob(
        { id: newId('job'), mode: 'pretrained', text: 't', speakerId: 's', seed: 1, engineId, engineVersion: 'v', status: 'queued' },
        (position) => [{ type: 'status', status: 'queued', queuePosition: position }],
      );
    const storedSeqs = async (jobId: string): Promise<number[]> =>
      (await db.jobEvent.findMany({ where: { jobId }, orderBy: { seq: 'asc' }, select: { seq: true } })).map((r) => r.seq);

    it('numbers concurrent appends 1, 2, 3… with no gaps, in few transactions, and mirrors the job columns', async () => {
      const { job } = await newJob();
      const before = store.batches.length;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => events.append(job.id, [log(`line ${i}`)])));
      // Appends waiting together share a transaction (the first may go alone while the rest queue up).
      expect(store.batches.length - before).toBeLessThanOrEqual(2);
      expect(results.flatMap((r) => seqsOf(r!))).toEqual(range(2, 41));
      expect(await storedSeqs(job.id)).toEqual(range(1, 41));
      expect((await db.job.findUniqueOrThrow({ where: { id: job.id } })).lastSeq).toBe(41);
    });

    it('commits appends of different jobs in one batch, each job gap-free', async () => {
      const jobs = await Promise.all(Array.from({ length: 5 }, () => newJob()));
      const before = store.batches.length;
      await Promise.all(jobs.flatMap(({ job }) => Array.from({ length: 10 }, (_, i) => events.append(job.id, [log(`${job.id} ${i}`)]))));
      expect(store.batches.length - before).toBeLessThanOrEqual(2);
      for (const { job } of jobs) expect(await storedSeqs(job.id)).toEqual(range(1, 11));
    });

    it('refuses an append whose expected status does not hold, writing nothing', async () => {
      const { job } = await newJob();
      expect(await events.append(job.id, [{ type: 'status', status: 'succeeded' }], { expectStatus: ['running'] })).toBeNull();
      expect(await db.jobEvent.count({ where: { jobId: job.id } })).toBe(1);
      const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.status).toBe('queued');
      expect(row.lastSeq).toBe(1);
    });

    it('checks expectStatus after the appends before it in the same batch', async () => {
      const { job } = await newJob();
      const [claim, second, late] = await Promise.all([
        events.append(job.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] }),
        events.append(job.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] }),
        events.append(job.id, [log('still running')], { expectStatus: ['running'] }),
      ]);
      expect(seqsOf(claim!)).toEqual([2]);
      expect(second).toBeNull();
      expect(seqsOf(late!)).toEqual([3]);
    });

    it('fails only the broken appends of a batch: a job that does not exist, a patch the database refuses', async () => {
      const { job } = await newJob();
      const results = await Promise.allSettled([
        events.append(job.id, [log('before')]),
        events.append('job_does_not_exist', [log('nowhere')]),
        // canceledById must name a user: a foreign-key violation inside the batch.
        events.append(job.id, [log('refused'), log('refused too')], { patch: { canceledById: 'usr_nobody' } }),
        events.append(job.id, [log('after')]),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'Job job_does_not_exist does not exist.' });
      expect(results.flatMap((r) => (r.status === 'fulfilled' ? seqsOf(r.value!) : []))).toEqual([2, 3]);
      const rows = await db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
      expect(rows.map((r) => (r.payload as { message?: string }).message ?? null)).toEqual([null, 'before', 'after']);
      const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.lastSeq).toBe(3);
      expect(row.canceledById).toBeNull();
    });

    it('sets the typed patch with the events: counters, dates, booleans, output columns, read back by Prisma', async () => {
      const { job } = await newJob();
      const [running] = (await events.append(job.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'], patch: { attempts: { increment: 1 } } }))!;
      await events.append(job.id, [{ type: 'stage', name: 'synth', index: 0, count: 1 }, { type: 'progress', stage: 'synth', step: 3, total: 4, percent: 75, etaMs: 120 }]);
      await events.append(job.id, [log('canceling')], { patch: { cancelRequested: true, attempts: { increment: 2 } } });
      let row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row).toMatchObject({ status: 'running', attempts: 3, cancelRequested: true, stage: 'synth', stageIndex: 0, stageCount: 1, progressStep: 3, progressTotal: 4, progressPct: 75, etaMs: 120 });
      expect(row.startedAt?.toISOString()).toBe(running!.at);
      expect(row.updatedAt.getTime()).toBeGreaterThanOrEqual(row.startedAt!.getTime());
      const [, done] = (await events.append(job.id, [{ type: 'result', audioUrl: '/a', sampleRate: 24000, durationMs: 1000, sha256: 'ab' }, { type: 'status', status: 'succeeded' }], {
        expectStatus: ['running'],
        patch: { outputPath: 'outputs/x.wav', outputSampleRate: 24000, outputDurationMs: 1000, outputSha256: 'ab', outputBytes: 48044, progressPct: 100, attempts: { increment: -1 } },
      }))!;
      row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2, outputPath: 'outputs/x.wav', outputBytes: 48044, progressPct: 100, etaMs: null, stage: 'synth' });
      expect(row.finishedAt?.toISOString()).toBe(done!.at);
      // The rows Prisma reads back are the events the log returned.
      const stored = await db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
      expect(stored.at(-1)!.at.toISOString()).toBe(done!.at);
      expect(await events.read(job.id, 0)).toEqual(stored.map((r) => r.payload));
    });

    it('fingerprints a failure with the stage it failed in (before the append cleared it)', async () => {
      const { job } = await newJob('fp-engine');
      await events.append(job.id, [{ type: 'status', status: 'running' }, { type: 'stage', name: 'vocode', index: 1, count: 2 }]);
      await events.append(job.id, [{ type: 'error', code: 'ENGINE_FAILED', message: 'boom 42' }, { type: 'status', status: 'failed' }], { expectStatus: ['running'] });
      const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row).toMatchObject({ status: 'failed', stage: null, errorCode: 'ENGINE_FAILED', errorMessage: 'boom 42' });
      expect(row.failureFingerprint).toBe(failureFingerprint({ code: 'ENGINE_FAILED', engineId: 'fp-engine', stage: 'vocode', message: 'boom 42' }));
    });

    it('gives a re-queued job its place in line in the status event', async () => {
      await db.job.updateMany({ where: { status: { in: ['queued', 'running'] } }, data: { status: 'canceled' } });
      const { job: first } = await newJob();
      const { job: second } = await newJob();
      await events.append(first.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] });
      const [, requeued] = (await events.append(first.id, [log('server stopping'), { type: 'status', status: 'queued', reason: 'server shutdown' }], { expectStatus: ['running'] }))!;
      // It kept its queuedAt, so it is ahead of the job created after it.
      expect(requeued).toMatchObject({ type: 'status', status: 'queued', queuePosition: 1, reason: 'server shutdown' });
      expect((await db.job.findUniqueOrThrow({ where: { id: first.id } })).startedAt).toBeNull();
      expect((await events.read(second.id, 0))[0]).toMatchObject({ queuePosition: 2 });
    });

    it('reads a window of the log', async () => {
      const { job } = await newJob();
      for (let i = 0; i < 5; i++) await events.append(job.id, [log(`l${i}`)]);
      expect(seqsOf(await events.read(job.id, 2))).toEqual([3, 4, 5, 6]);
      expect(seqsOf(await events.read(job.id, 1, 4))).toEqual([2, 3]);
      expect(await events.read('job_none', 0)).toEqual([]);
    });

    it('streams replay + live with no gap and no duplicate while appends race the subscription', async () => {
      const { job } = await newJob();
      await events.append(job.id, [{ type: 'status', status: 'running' }]);
      for (let i = 0; i < 5; i++) await events.append(job.id, [{ type: 'log', level: 'debug', message: `early ${i}` }]);
      const writer = (async () => {
        for (let i = 0; i < 30; i++) await events.append(job.id, [{ type: 'progress', stage: 's', step: i + 1, total: 30, percent: ((i + 1) / 30) * 100, etaMs: null }]);
        await events.append(job.id, [{ type: 'status', status: 'succeeded' }]);
      })();
      const got: JobEvent[] = [];
      for await (const e of streamJobEvents(ctx, job.id, 3, undefined)) got.push(e);
      await writer;
      const last = (await db.job.findUniqueOrThrow({ where: { id: job.id } })).lastSeq;
      expect(seqsOf(got)).toEqual(range(4, last));
      expect(got.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    });

    it('ends a finished job’s stream right after the replay', async () => {
      const { job } = await newJob();
      await events.append(job.id, [{ type: 'status', status: 'canceled' }]);
      const got: JobEvent[] = [];
      for await (const e of streamJobEvents(ctx, job.id, 0, undefined)) got.push(e);
      expect(got.map((e) => e.type)).toEqual(['status', 'status']);
    });

    it('sends a long backlog in slices, letting the event loop run between them (replay and live)', async () => {
      const { job } = await newJob();
      await events.append(job.id, [{ type: 'status', status: 'running' }]);
      await events.append(job.id, Array.from({ length: 300 }, (_, i) => log(`replayed ${i}`)));
      const got: JobEvent[] = [];
      // How many events had been sent each time the event loop got a turn (a setImmediate ran).
      const turns: number[] = [];
      let watching = true;
      const watch = (): void => {
        turns.push(got.length);
        if (watching) setImmediate(watch);
      };
      const stream = (async () => {
        for await (const e of streamJobEvents(ctx, job.id, 0, undefined)) {
          got.push(e);
          // The whole live backlog arrives at once, once the replay has been sent.
          if (e.seq === 302) await events.append(job.id, [...Array.from({ length: 300 }, (_, i) => log(`live ${i}`)), { type: 'status', status: 'succeeded' }]);
        }
      })();
      setImmediate(watch);
      await stream;
      watching = false;
      expect(seqsOf(got)).toEqual(range(1, 603));
      // Neither 300-event run went out in one go: the loop ran inside the replay and inside the live backlog.
      expect(turns.some((n) => n > 0 && n < 300)).toBe(true);
      expect(turns.some((n) => n > 310 && n < 600)).toBe(true);
    });

    it('publishes after commit, per job in seq order', async () => {
      const { job } = await newJob();
      const seen: number[] = [];
      const off = bus.subscribeJobEvents(job.id, (e) => seen.push(e.seq));
      await Promise.all(Array.from({ length: 20 }, (_, i) => events.append(job.id, [log(`p${i}`), log(`q${i}`)])));
      off();
      expect(seen).toEqual(range(2, 41));
    });

    it('two logs on two connections appending to one job at once: gap-free, no duplicate', async () => {
      const otherDb = await dbh.open();
      const other = new JobEventLog(otherDb, memoryBus());
      extra.push({ db: otherDb, log: other });
      const { job } = await newJob();
      const write = (writer: JobEventLog, tag: string) =>
        Promise.all(Array.from({ length: 60 }, (_, i) => writer.append(job.id, i % 3 === 0 ? [log(`${tag} ${i}a`), log(`${tag} ${i}b`)] : [log(`${tag} ${i}`)])));
      const [mine, theirs] = await Promise.all([write(events, 'a'), write(other, 'b')]);
      const a = mine.flatMap((r) => seqsOf(r!));
      const b = theirs.flatMap((r) => seqsOf(r!));
      expect(new Set([...a, ...b]).size).toBe(a.length + b.length);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(range(2, 161));
      expect(await storedSeqs(job.id)).toEqual(range(1, 161));
      expect((await db.job.findUniqueOrThrow({ where: { id: job.id } })).lastSeq).toBe(161);
    });

    it('another process appending to the same job at the same time: gap-free, no duplicate', async () => {
      const { job } = await newJob();
      const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'append-from-another-process.ts');
      const child = promisify(execFile)(process.execPath, ['--import', 'tsx', script, dbh.url, job.id, '200'], { timeout: 60_000 });
      // Keep appending here until the child is done, so the two really overlap.
      const mine: number[] = [];
      let childDone = false;
      const finished = child.finally(() => (childDone = true));
      while (!childDone) {
        const batch = await Promise.all(Array.from({ length: 5 }, (_, i) => events.append(job.id, [log(`parent ${mine.length + i}`)])));
        mine.push(...batch.flatMap((r) => seqsOf(r!)));
        await new Promise((r) => setTimeout(r, 2));
      }
      const theirs = JSON.parse((await finished).stdout) as number[];
      // The two really interleaved: the parent wrote between the child's first and last event.
      expect(mine.some((seq) => seq > Math.min(...theirs) && seq < Math.max(...theirs))).toBe(true);
      expect(theirs).toHaveLength(200);
      const all = [...mine, ...theirs].sort((x, y) => x - y);
      expect(all).toEqual(range(2, all.length + 1));
      expect(await storedSeqs(job.id)).toEqual(range(1, all.length + 1));
    });

    it('pushes summaries coalesced: created and status changes at once, the last push carrying the final state', async () => {
      const { job } = await newJob();
      await vi.waitFor(() => expect(bus.changes.some((c) => c.kind === 'created' && c.job.id === job.id)).toBe(true));
      await events.append(job.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] });
      for (let i = 0; i < 30; i++) await events.append(job.id, [{ type: 'progress', stage: 's', step: i + 1, total: 30, percent: ((i + 1) / 30) * 100, etaMs: null }]);
      await events.append(job.id, [log('done'), { type: 'status', status: 'succeeded' }]);
      await vi.waitFor(() => expect(bus.changes.filter((c) => c.job.id === job.id).at(-1)?.job.status).toBe('succeeded'));
      const mineOnly = bus.changes.filter((c) => c.job.id === job.id);
      expect(mineOnly[0]).toMatchObject({ kind: 'created', job: { status: 'queued', lastSeq: 1 } });
      // Progress alone waits for the (long, in this test) interval; status changes go out at once.
      // (A queue refresh from another job may add an "updated:queued" while it waited; not counted here.)
      const pushes = mineOnly.map((c) => `${c.kind}:${c.job.status}`).filter((p) => p !== 'updated:queued');
      expect(pushes).toEqual(['created:queued', 'updated:running', 'updated:succeeded']);
      expect(mineOnly.at(-1)!.job).toMatchObject({ lastSeq: 34, progressStep: 30 });
    });

    it('leases: a claim fences its worker’s events; only an expired lease is taken over, and the old owner is refused', async () => {
      const quiet = { warn: () => undefined };
      const { job } = await newJob();
      const a = await claimJob(db, events, job.id, 'worker-a#1', 60_000);
      expect(a).not.toBeNull();
      expect(await claimJob(db, events, job.id, 'worker-b#1', 60_000)).toBeNull();
      expect(await events.append(job.id, [log('from a')], { expectStatus: ['running'], lease: a!.lease })).toHaveLength(1);
      // A live lease is left alone; an append under another owner or epoch is refused.
      expect(await recoverExpiredLeases(db, events, quiet)).toEqual({ requeued: [], failed: [] });
      expect(await events.append(job.id, [log('forged')], { expectStatus: ['running'], lease: { owner: 'worker-b#1', epoch: a!.lease.epoch } })).toBeNull();
      expect(await renewLeases(db, 'worker-a#1', [{ jobId: job.id, lease: a!.lease }], 60_000)).toEqual([]);

      // Worker A goes silent: once its lease is past, recovery re-queues the job once, with a warning.
      const later = new Date(Date.now() + 120_000);
      expect(await recoverExpiredLeases(db, events, quiet, { now: later })).toEqual({ requeued: [job.id], failed: [] });
      expect(await recoverExpiredLeases(db, events, quiet, { now: later })).toEqual({ requeued: [], failed: [] });
      const requeued = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(requeued).toMatchObject({ status: 'queued', leaseOwner: null, attempts: 1 });
      const b = await claimJob(db, events, job.id, 'worker-b#1', 60_000);
      expect(b!.lease.epoch).toBeGreaterThan(a!.lease.epoch);
      // A's late events and its renewal are refused; B's go in.
      expect(await events.append(job.id, [log('late from a')], { expectStatus: ['running'], lease: a!.lease })).toBeNull();
      expect(await renewLeases(db, 'worker-a#1', [{ jobId: job.id, lease: a!.lease }], 60_000)).toEqual([job.id]);
      expect(await events.append(job.id, [log('from b')], { expectStatus: ['running'], lease: b!.lease })).toHaveLength(1);

      // The second death fails it with INTERRUPTED; the log stays gap-free with one warn per takeover.
      expect(await recoverExpiredLeases(db, events, quiet, { now: new Date(Date.now() + 240_000) })).toEqual({ requeued: [], failed: [job.id] });
      const rows = await db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
      expect(rows.map((r) => r.seq)).toEqual(range(1, rows.length));
      const bodies = rows.map((r) => r.payload as JobEventBody);
      expect(bodies.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''))).toEqual([
        'from a',
        expect.stringMatching(/lease expired.*re-queued once/),
        'from b',
        expect.stringMatching(/for the second time/),
      ]);
      expect(bodies.at(-2)).toMatchObject({ type: 'error', code: 'INTERRUPTED' });
      expect(await db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'failed', errorCode: 'INTERRUPTED' });
    });

    it('leases: a restarted worker takes back at once the jobs its earlier run held, and leaves other live workers’ jobs alone', async () => {
      const quiet = { warn: () => undefined };
      const mine = (await newJob()).job;
      const theirs = (await newJob()).job;
      await claimJob(db, events, mine.id, 'server-x#old', 60_000);
      await claimJob(db, events, theirs.id, 'worker-y#1', 60_000);
      const deadOwner = (owner: string): boolean => owner.startsWith('server-x#') && owner !== 'server-x#new';
      expect(await recoverExpiredLeases(db, events, quiet, { deadOwner })).toEqual({ requeued: [mine.id], failed: [] });
      expect((await db.job.findUniqueOrThrow({ where: { id: mine.id } })).status).toBe('queued');
      expect((await db.job.findUniqueOrThrow({ where: { id: theirs.id } })).status).toBe('running');
    });

    it('tells waiting jobs their new place when the queue moves, without writing events to them', async () => {
      await db.job.updateMany({ where: { status: { in: ['queued', 'running'] } }, data: { status: 'canceled' } });
      const [{ job: head }, { job: second }, { job: third }] = [await newJob(), await newJob(), await newJob()];
      const positionOf = (id: string): number | null | undefined => bus.changes.filter((c) => c.job.id === id).at(-1)?.job.queuePosition;
      await vi.waitFor(() => expect(positionOf(third.id)).toBe(3));
      await events.append(head.id, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] });
      await vi.waitFor(() => {
        expect(positionOf(second.id)).toBe(1);
        expect(positionOf(third.id)).toBe(2);
      });
      expect(await db.jobEvent.count({ where: { jobId: { in: [second.id, third.id] } } })).toBe(2);
    });
  });
}
