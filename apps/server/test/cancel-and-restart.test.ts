import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '@chorus/db';
import { copyMigratedSqlite } from '@chorus/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectEvents, collectUntilProgress, connectClient, issueToken, LONG_TEXT, range, seqs, uploadReference, useChorus } from './support/harness.ts';
import { freePort, killSpawnedServers, spawnServer, waitForExit } from './support/server-process.ts';

describe('cancel', () => {
  const chorus = useChorus();

  it('stops a running job within 1 s and ends it canceled', async () => {
    const job = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: chorus.uploadId });
    const { stream, progressing } = collectUntilProgress(chorus.client, job.id);
    await progressing;
    const t0 = performance.now();
    await chorus.client.trpc.job.cancel.mutate({ id: job.id });
    await stream.done;
    const stoppedAfterMs = performance.now() - t0;
    expect(stoppedAfterMs).toBeLessThan(1000);
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'canceled' });
    expect(stream.events.some((e) => e.type === 'result')).toBe(false);
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    const after = await chorus.client.trpc.job.get.query({ id: job.id });
    expect(after.status).toBe('canceled');
    expect(after.audioUrl).toBeNull();
  });

  it('cancels a queued job at once', async () => {
    const running = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: chorus.uploadId });
    const queued = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Waiting.', promptUploadId: chorus.uploadId });
    expect(queued.queuePosition).toBeGreaterThanOrEqual(1);
    const third = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Third in line.', promptUploadId: chorus.uploadId });
    expect(third.queuePosition).toBe(queued.queuePosition! + 1);
    const thirdPositions: (number | null)[] = [];
    const changes = chorus.client.trpc.job.onChange.subscribe(undefined, { onData: (c) => c.job.id === third.id && thirdPositions.push(c.job.queuePosition) });
    const canceled = await chorus.client.trpc.job.cancel.mutate({ id: queued.id });
    expect(canceled.status).toBe('canceled');
    // The job behind it is told its new place in line (a pushed summary; no event is written to it).
    // (The first job is running by then, so only this one waits.)
    await vi.waitFor(() => expect(thirdPositions.at(-1)).toBe(1), { timeout: 5000 });
    changes.unsubscribe();
    expect((await chorus.client.trpc.job.get.query({ id: third.id })).queuePosition).toBe(1);
    await chorus.client.trpc.job.cancel.mutate({ id: running.id });
    const events = collectEvents(chorus.client, queued.id);
    await events.done;
    expect(events.events.map((e) => (e.type === 'status' ? e.status : e.type))).toEqual(['queued', 'log', 'log', 'canceled']);
    const behind = collectEvents(chorus.client, third.id);
    await behind.done;
    const positions = behind.events.flatMap((e) => (e.type === 'status' && e.status === 'queued' ? [e.queuePosition] : []));
    expect(positions).toEqual([third.queuePosition]);
  });
});

describe('restart recovery', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-restart-'));
  const env = { DATABASE_URL: `file:${path.join(dir, 'chorus.db')}`, CHORUS_DATA_DIR: path.join(dir, 'data'), CHORUS_WORKER_CONCURRENCY: '1' };
  // Already migrated: what is tested is the restart, not a first migration (~2 s of CLI).
  beforeAll(() => copyMigratedSqlite(path.join(dir, 'chorus.db')));
  afterAll(() => {
    killSpawnedServers();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('after a kill, the running job is re-queued once with a warning and both it and the queued job finish', async () => {
    const port = await freePort();
    const first = await spawnServer(env, port);
    const token = await issueToken(first.url);
    const client = connectClient(first.url, token);
    const uploadId = (await uploadReference(first.url, token)).id;
    const running = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: uploadId, seed: 5 });
    const queued = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'I was waiting in line.', promptUploadId: uploadId, seed: 6 });
    const { stream, progressing } = collectUntilProgress(client, running.id);
    stream.done.catch(() => undefined); // the server is killed mid-stream on purpose
    await progressing;
    first.child.kill('SIGKILL');
    await waitForExit(first.child);
    client.close();

    const db = await openDb(env.DATABASE_URL);
    expect((await db.job.findUniqueOrThrow({ where: { id: running.id } })).status).toBe('running');
    expect((await db.job.findUniqueOrThrow({ where: { id: queued.id } })).status).toBe('queued');
    await db.$disconnect();

    const second = await spawnServer(env, port);
    const again = connectClient(second.url, token);
    try {
      const a = collectEvents(again, running.id);
      const b = collectEvents(again, queued.id);
      await Promise.all([a.done, b.done]);
      expect(a.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(b.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(a.events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringMatching(/re-queued once/) }));
      expect(seqs(a.events)).toEqual(range(1, a.events.length));
      const runningStatuses = a.events.filter((e) => e.type === 'status').map((e) => e.status);
      expect(runningStatuses.filter((s) => s === 'running')).toHaveLength(2);
    } finally {
      again.close();
      second.child.kill('SIGTERM');
      expect(await waitForExit(second.child)).toBe(0);
    }
  });

  it('on SIGTERM puts a running job back in the queue, consistently, and exits 0', async () => {
    const port = await freePort();
    const server = await spawnServer({ ...env, CHORUS_SHUTDOWN_GRACE_MS: '0' }, port);
    const token = await issueToken(server.url);
    const client = connectClient(server.url, token);
    const uploadId = (await uploadReference(server.url, token)).id;
    const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: uploadId });
    const { stream, progressing } = collectUntilProgress(client, job.id);
    stream.done.catch(() => undefined); // the server is killed mid-stream on purpose
    await progressing;
    server.child.kill('SIGTERM');
    expect(await waitForExit(server.child)).toBe(0);
    client.close();
    const db = await openDb(env.DATABASE_URL);
    try {
      const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.status).toBe('queued');
      const events = await db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
      expect(events.map((e) => e.seq)).toEqual(range(1, row.lastSeq));
      expect(events.at(-1)!.payload).toMatchObject({ type: 'status', status: 'queued', reason: 'server shutdown' });
      expect((events.at(-2)!.payload as { message: string }).message).toMatch(/shutting down/);
    } finally {
      await db.$disconnect();
    }
  });
});
