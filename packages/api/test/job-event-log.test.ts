import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServices, JobEventBus } from '../src/index.ts';
import { JobEventLog, newId } from '../src/index.ts';
import { streamJobEvents } from '../src/router/job-events-stream.ts';
import type { JobEvent } from '../src/schemas/job-event.ts';

/** A minimal in-memory bus for this test (the real drivers live in apps/inference). */
function memoryBus(): JobEventBus {
  const ee = new EventEmitter();
  return {
    publishJobEvent: (id, e) => ee.emit(id, e),
    subscribeJobEvents: (id, l) => (ee.on(id, l), () => ee.off(id, l)),
    publishJobChange: (c) => ee.emit('changes', c),
    subscribeJobChanges: (l) => (ee.on('changes', l), () => ee.off('changes', l)),
  };
}

describe('JobEventLog on a real SQLite file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-api-'));
  const url = `file:${path.join(dir, 'api.db')}`;
  let db: Db;
  let log: JobEventLog;
  let ctx: Pick<ApiServices, 'db' | 'bus' | 'events'>;

  beforeAll(async () => {
    await migrateDatabase(url);
    db = await openDb(url);
    const bus = memoryBus();
    log = new JobEventLog(db, bus);
    ctx = { db, bus, events: log };
  });
  afterAll(async () => {
    await db?.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const newJob = () =>
    log.createJob(
      { id: newId('job'), mode: 'pretrained', text: 't', speakerId: 's', seed: 1, engineId: 'builtin', engineVersion: 'v', status: 'queued' },
      (position) => [{ type: 'status', status: 'queued', queuePosition: position }],
    );

  it('numbers concurrent appends 1, 2, 3… with no gaps and mirrors the job columns', async () => {
    const { job } = await newJob();
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(job.id, [{ type: 'log', level: 'info', message: `line ${i}` }])));
    const rows = await db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect((await db.job.findUniqueOrThrow({ where: { id: job.id } })).lastSeq).toBe(41);
  });

  it('refuses an append whose expected status does not hold, writing nothing', async () => {
    const { job } = await newJob();
    expect(await log.append(job.id, [{ type: 'status', status: 'succeeded' }], { expectStatus: ['running'] })).toBeNull();
    expect(await db.jobEvent.count({ where: { jobId: job.id } })).toBe(1);
    expect((await db.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('queued');
  });

  it('streams replay + live with no gap and no duplicate while appends race the subscription', async () => {
    const { job } = await newJob();
    await log.append(job.id, [{ type: 'status', status: 'running' }]);
    for (let i = 0; i < 5; i++) await log.append(job.id, [{ type: 'log', level: 'debug', message: `early ${i}` }]);
    const writer = (async () => {
      for (let i = 0; i < 30; i++) await log.append(job.id, [{ type: 'progress', stage: 's', step: i + 1, total: 30, percent: ((i + 1) / 30) * 100, etaMs: null }]);
      await log.append(job.id, [{ type: 'status', status: 'succeeded' }]);
    })();
    const got: JobEvent[] = [];
    for await (const e of streamJobEvents(ctx, job.id, 3, undefined)) got.push(e);
    await writer;
    const last = (await db.job.findUniqueOrThrow({ where: { id: job.id } })).lastSeq;
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: last - 3 }, (_, i) => i + 4));
    expect(got.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  });

  it('ends a finished job’s stream right after the replay', async () => {
    const { job } = await newJob();
    await log.append(job.id, [{ type: 'status', status: 'canceled' }]);
    const got: JobEvent[] = [];
    for await (const e of streamJobEvents(ctx, job.id, 0, undefined)) got.push(e);
    expect(got.map((e) => e.type)).toEqual(['status', 'status']);
  });
});
