import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '@chorus/db';
import { collectEvents, connectClient, range, seqs, sleep, startHarness, uploadReference, type Harness } from './support/harness.ts';
import { startRedis } from './support/redis-process.ts';
import { freePort, waitForExit } from './support/server-process.ts';

describe('jobs through BullMQ on Redis (REDIS_URL)', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let h: Harness;

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    h = await startHarness({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      CHORUS_REDIS_PREFIX: 'chorus-test',
      // The reconciler is what brings queued jobs back after Redis lost them: often, for the test.
      CHORUS_QUEUE_RECONCILE_MS: '500',
      CHORUS_EVENTS_IDLE_REREAD_MS: '300',
    });
  });
  afterAll(async () => {
    await h?.stop();
    redis?.kill('SIGKILL');
  });

  it('runs every job once, in order, though Redis is killed and restarted empty mid-run', async () => {
    const client = connectClient(h.url, h.token);
    try {
      const uploadId = (await uploadReference(h.url, h.token)).id;
      const texts = ['The first take.', 'The second take is here.', 'A third one.', 'And the fourth.'];
      const jobs = [];
      for (const [i, text] of texts.entries()) jobs.push(await client.trpc.job.create.mutate({ mode: 'cross_lingual', text, promptUploadId: uploadId, seed: 10 + i }));
      const streams = jobs.map((j) => collectEvents(client, j.id));
      // Once the first job runs, Redis dies (and with it BullMQ's queue and the bus), then comes back empty.
      const started = Date.now();
      while (!streams[0]!.events.some((e) => e.type === 'status' && e.status === 'running')) {
        if (Date.now() - started > 30_000) throw new Error('the first job did not start');
        await sleep(20);
      }
      redis.kill('SIGKILL');
      await waitForExit(redis);
      await sleep(500);
      redis = await startRedis(redisPort);

      await Promise.all(streams.map((s) => s.done));
      const db = await openDb(h.databaseUrl);
      try {
        for (const [i, stream] of streams.entries()) {
          expect(stream.events.at(-1), `job ${i}`).toMatchObject({ type: 'status', status: 'succeeded' });
          // Delivered gap-free (the idle re-read filled what the dead bus lost) and run exactly once.
          expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
          expect(stream.events.filter((e) => e.type === 'status' && e.status === 'running')).toHaveLength(1);
          const row = await db.job.findUniqueOrThrow({ where: { id: jobs[i]!.id } });
          expect(row.attempts).toBe(1);
        }
      } finally {
        await db.$disconnect();
      }
    } finally {
      client.close();
    }
  });

  it('cancels a job running on the feed through the abort channel', async () => {
    const client = connectClient(h.url, h.token);
    try {
      const uploadId = (await uploadReference(h.url, h.token)).id;
      const text = Array.from({ length: 10 }, (_, i) => `Sentence ${i + 1} keeps this job busy for a while.`).join(' ');
      const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text, promptUploadId: uploadId });
      const stream = collectEvents(client, job.id);
      while (!stream.events.some((e) => e.type === 'progress')) await sleep(20);
      await client.trpc.job.cancel.mutate({ id: job.id });
      await stream.done;
      expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'canceled' });
    } finally {
      client.close();
    }
  });
});
