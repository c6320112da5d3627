import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { eventFromRow, type AppRouter, type MachineResources, type WorkerEngine } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voicedWav } from './helpers/audio.ts';
import { bearer, collectEvents, refusal, signIn, sleep, TEST_ADMIN, useChorus } from './support/harness.ts';

/**
 * The worker API over real HTTP: a standalone worker's whole conversation with the server
 * (register, claim, prompt, events, output, complete, heartbeats, goodbye) and every way it is
 * refused. The server's own engine "gpu" is a command engine whose program does not exist, so
 * the embedded worker never takes its jobs: only the remote workers here do.
 */

const resources: MachineResources = {
  at: new Date().toISOString(),
  cpu: { cores: 16, usagePct: 3.5, loadAverage1m: 0.4 },
  memory: { totalBytes: 64e9, availableBytes: 40e9, processRssBytes: 3e8 },
  gpu: { status: 'ok', message: null, devices: [{ index: 0, name: 'NVIDIA L4', memoryTotalMiB: 23034, memoryUsedMiB: 512, utilizationPct: 7, temperatureC: 41 }] },
};
const gpuEngine = (health: 'up' | 'down' = 'up'): WorkerEngine => ({ id: 'gpu', kind: 'command', version: 'CosyVoice3 test', concurrency: 2, health: { status: health, message: null, checkedAt: new Date().toISOString() } });

type WorkerClient = TRPCClient<AppRouter>;

/** An HTTP-only tRPC client, as the standalone worker has (no WebSocket). */
const workerClient = (url: string, token: string): WorkerClient => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: bearer(token) })] });

async function refused(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  const err = await refusal(p);
  return { code: (err.data as { code?: string } | undefined)?.code, message: err.message };
}

describe('the worker API', () => {
  const chorus = useChorus({
    CHORUS_ENGINES: JSON.stringify([
      { id: 'builtin', kind: 'builtin' },
      { id: 'gpu', kind: 'command', generation: 3, model: 'CosyVoice3 test', command: ['/nonexistent/chorus-test-runner'] },
    ]),
    // Long enough that no step here outlives its lease on a busy machine; recovery checks every third of it.
    CHORUS_LEASE_MS: '10000',
  });
  let db: Db;
  let tokenA: string;
  let tokenB: string;
  let a: WorkerClient;
  let b: WorkerClient;

  const newJob = async (seed = 7): Promise<string> =>
    (await chorus.client.trpc.job.create.mutate({ engineId: 'gpu', mode: 'cross_lingual', text: 'Hello from a GPU box.', promptUploadId: chorus.uploadId, seed })).id;
  const outputFile = (jobId: string, epoch: number): string => path.join(chorus.h.dir, 'data', 'outputs', `${jobId}-${epoch}.wav`);
  const putOutput = (jobId: string, epoch: number | null, body: Uint8Array, token = tokenA): Promise<Response> =>
    fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/output${epoch === null ? '' : `?epoch=${epoch}`}`, { method: 'PUT', body, headers: { 'content-type': 'audio/wav', ...bearer(token) } });
  const lastSeq = async (jobId: string): Promise<number> => (await db.job.findUniqueOrThrow({ where: { id: jobId } })).lastSeq;

  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    tokenA = (await chorus.client.trpc.workers.createToken.mutate({ name: 'gpu-pool-a' })).token;
    tokenB = (await chorus.client.trpc.workers.createToken.mutate({ name: 'gpu-pool-b' })).token;
    a = workerClient(chorus.h.url, tokenA);
    b = workerClient(chorus.h.url, tokenB);
  });
  afterAll(async () => db?.$disconnect());

  it('runs a job end to end: register, claim, prompt, events, output, complete; users get its audio', async () => {
    const registered = await a.workerApi.register.mutate({ name: 'gpu-box-1', version: '0.9.0', engines: [gpuEngine()], resources });
    expect(registered).toEqual({ workerId: expect.stringMatching(/^wrk_[0-9a-z]{26}$/), leaseMs: 10000, heartbeatMs: 3333 });
    const { workerId } = registered;
    const jobId = await newJob();

    const claimed = await a.workerApi.claim.mutate({ workerId, jobId });
    expect(claimed).toMatchObject({
      job: { id: jobId, mode: 'cross_lingual', text: 'Hello from a GPU box.', seed: 7, engineId: 'gpu', engineVersion: 'CosyVoice3 test', speed: 1, cancelRequested: false, prompt: { uploadId: chorus.uploadId } },
      lease: { owner: expect.stringMatching(new RegExp(`^${workerId}#wtk_`)), epoch: 1 },
    });
    const epoch = claimed!.lease.epoch;
    // The race is decided by the database: a second claim gets nothing.
    expect(await b.workerApi.claim.mutate({ workerId: (await b.workerApi.register.mutate({ name: 'gpu-box-2', version: '0.9.0', engines: [gpuEngine()], resources })).workerId, jobId })).toBeNull();

    const prompt = await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(tokenA) });
    expect(prompt.status).toBe(200);
    expect(prompt.headers.get('content-type')).toBe('audio/wav');
    expect(prompt.headers.get('x-chorus-upload-sha256')).toBe(claimed!.job.prompt!.sha256);
    const promptBytes = Buffer.from(await prompt.arrayBuffer());
    expect(promptBytes.subarray(0, 4).toString('latin1')).toBe('RIFF');

    expect(
      await a.workerApi.append.mutate({
        workerId,
        jobId,
        epoch,
        events: [
          { type: 'stage', name: 'synthesize', label: 'Synthesizing', index: 0, count: 1 },
          { type: 'progress', stage: 'synthesize', step: 5, total: 10, percent: 50, etaMs: 800 },
          { type: 'log', level: 'info', message: 'CosyVoice3 loaded on cuda:0.' },
        ],
      }),
    ).toEqual({ accepted: true });
    expect(await a.workerApi.heartbeat.mutate({ workerId, engines: [gpuEngine()], resources, running: [{ jobId, epoch }] })).toEqual({ lost: [], cancel: [] });

    // Visible to admins while it runs: the node, its GPU, its current job; and in the engine list and health.
    const node = (await chorus.client.trpc.workers.list.query()).find((w) => w.id === workerId)!;
    expect(node).toMatchObject({ name: 'gpu-box-1', tokenName: 'gpu-pool-a', state: 'online', heartbeatMs: 3333, engines: [expect.objectContaining({ id: 'gpu', concurrency: 2 })], resources: { gpu: { status: 'ok' } } });
    expect(node.currentJobs).toEqual([expect.objectContaining({ id: jobId, engineId: 'gpu', stage: 'synthesize', progressPct: 50 })]);
    const gpu = (await chorus.client.trpc.engine.list.query()).find((e) => e.id === 'gpu')!;
    expect(gpu.remoteWorkers).toEqual({ online: 2, up: 2, concurrency: 4 });
    expect(gpu.health.status).toBe('down');
    const health = (await (await fetch(`${chorus.h.url}/healthz`)).json()) as { engines: unknown[]; remoteEngines: unknown[] };
    expect(health.remoteEngines).toEqual([{ id: 'gpu', workers: 2, up: 2, concurrency: 4 }]);
    expect(health.engines).toContainEqual({ id: 'gpu', version: 'CosyVoice3 test', health: 'down' });

    const wav = voicedWav({ sampleRate: 24000, seconds: 2, f0: 180 });
    const sha256 = createHash('sha256').update(wav).digest('hex');
    const put = await putOutput(jobId, epoch, wav);
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ key: `outputs/${jobId}-${epoch}.wav`, sha256, bytes: wav.byteLength, sampleRate: 24000, durationMs: 2000 });
    expect(await a.workerApi.complete.mutate({ workerId, jobId, epoch, sha256, wallMs: 1500 })).toEqual({ accepted: true });

    const done = await chorus.client.trpc.job.get.query({ id: jobId });
    expect(done).toMatchObject({ status: 'succeeded', outputSha256: sha256, outputSampleRate: 24000, outputDurationMs: 2000 });
    const stream = collectEvents(chorus.client, jobId);
    await stream.done;
    const run = stream.events.slice(stream.events.findIndex((e) => e.type === 'status' && e.status === 'running'));
    expect(run.map((e) => e.type)).toEqual(['status', 'stage', 'progress', 'log', 'log', 'result', 'status']);
    expect(stream.events.find((e) => e.type === 'log' && e.message.startsWith('Done'))).toMatchObject({ message: 'Done on worker "gpu-box-1": 2.00 s of audio in 1.50 s (real-time factor 0.750).' });
    expect(stream.events.at(-2)).toMatchObject({ type: 'result', sha256, sampleRate: 24000, durationMs: 2000, audioUrl: `/api/jobs/${jobId}/audio` });
    const audio = await fetch(`${chorus.h.url}/api/jobs/${jobId}/audio`, { headers: bearer(chorus.h.token) });
    expect(audio.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await audio.arrayBuffer())).digest('hex')).toBe(sha256);

    // The job is over: its lease is gone; the worker says goodbye and shows as stopped.
    expect(await a.workerApi.heartbeat.mutate({ workerId, engines: [gpuEngine()], resources, running: [{ jobId, epoch }] })).toEqual({ lost: [jobId], cancel: [] });
    expect(await a.workerApi.complete.mutate({ workerId, jobId, epoch, sha256, wallMs: 1500 })).toEqual({ accepted: false });
    expect(await a.workerApi.goodbye.mutate({ workerId })).toEqual({ ok: true, requeued: [], canceled: [] });
    expect(await a.workerApi.goodbye.mutate({ workerId })).toEqual({ ok: true, requeued: [], canceled: [] });
    expect((await chorus.client.trpc.workers.list.query()).find((w) => w.id === workerId)).toMatchObject({ state: 'stopped', currentJobs: [] });
    expect(await refused(a.workerApi.heartbeat.mutate({ workerId, engines: [gpuEngine()], resources, running: [] }))).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('register again') });
  });

  it('tells a worker to stop a job someone canceled, and takes its canceled status', async () => {
    const { workerId } = await a.workerApi.register.mutate({ name: 'gpu-box-3', version: '0.9.0', engines: [gpuEngine()], resources });
    const jobId = await newJob();
    const { lease } = (await a.workerApi.claim.mutate({ workerId, jobId }))!;
    await chorus.client.trpc.job.cancel.mutate({ id: jobId });
    expect(await a.workerApi.heartbeat.mutate({ workerId, engines: [gpuEngine()], resources, running: [{ jobId, epoch: lease.epoch }] })).toEqual({ lost: [], cancel: [jobId] });
    const canceled = [{ type: 'log', level: 'info', message: 'Canceled during synthesize.' }, { type: 'status', status: 'canceled' }] as const;
    expect(await a.workerApi.append.mutate({ workerId, jobId, epoch: lease.epoch, events: [...canceled] })).toEqual({ accepted: true });
    expect((await chorus.client.trpc.job.get.query({ id: jobId })).status).toBe('canceled');
    expect(await a.workerApi.append.mutate({ workerId, jobId, epoch: lease.epoch, events: [{ type: 'log', level: 'info', message: 'late' }] })).toEqual({ accepted: false });
  });

  it('takes a job given back on shutdown: queued again, the start not counted, claimable by the next worker', async () => {
    const { workerId } = await a.workerApi.register.mutate({ name: 'leaving-box', version: '0.9.0', engines: [gpuEngine()], resources });
    const jobId = await newJob();
    const { lease } = (await a.workerApi.claim.mutate({ workerId, jobId }))!;
    const events = [{ type: 'log', level: 'warn', message: 'The worker is shutting down; this job goes back to the queue.' }, { type: 'status', status: 'queued', reason: 'worker shutdown' }] as const;
    expect(await a.workerApi.append.mutate({ workerId, jobId, epoch: lease.epoch, events: [...events] })).toEqual({ accepted: true });
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'queued', attempts: 0, leaseOwner: null, leaseEpoch: lease.epoch + 1 });
    await a.workerApi.goodbye.mutate({ workerId });
    const next = (await b.workerApi.register.mutate({ name: 'next-box', version: '0.9.0', engines: [gpuEngine()], resources })).workerId;
    expect((await b.workerApi.claim.mutate({ workerId: next, jobId }))?.lease.epoch).toBe(lease.epoch + 2);
  });

  it('gives back at once the jobs a worker still holds when it says goodbye: queued with a warn, the start not counted; canceled ones end canceled', async () => {
    const { workerId } = await a.workerApi.register.mutate({ name: 'stopping-box', version: '0.9.0', engines: [gpuEngine()], resources });
    const [running, canceling] = [await newJob(21), await newJob(22)];
    const lease = (await a.workerApi.claim.mutate({ workerId, jobId: running }))!.lease;
    const cancelLease = (await a.workerApi.claim.mutate({ workerId, jobId: canceling }))!.lease;
    expect(await a.workerApi.append.mutate({ workerId, jobId: running, epoch: lease.epoch, events: [{ type: 'log', level: 'info', message: 'Model loaded.' }] })).toEqual({ accepted: true });
    await chorus.client.trpc.job.cancel.mutate({ id: canceling });
    const before = await lastSeq(running);

    // Its own give-back did not get through (say), so the server does it: long before the 10 s lease could run out.
    const saidAt = Date.now();
    expect(await a.workerApi.goodbye.mutate({ workerId })).toEqual({ ok: true, requeued: [running], canceled: [canceling] });
    expect(Date.now() - saidAt).toBeLessThan(5000);
    expect(await db.job.findUniqueOrThrow({ where: { id: running } })).toMatchObject({ status: 'queued', attempts: 0, leaseOwner: null, leaseExpiresAt: null, leaseEpoch: lease.epoch + 1 });
    expect(await db.job.findUniqueOrThrow({ where: { id: canceling } })).toMatchObject({ status: 'canceled', leaseOwner: null, leaseEpoch: cancelLease.epoch + 1 });
    const tail = (await db.jobEvent.findMany({ where: { jobId: running, seq: { gt: before } }, orderBy: { seq: 'asc' } })).map(eventFromRow);
    expect(tail).toMatchObject([
      { type: 'log', level: 'warn', message: 'Worker "stopping-box" stopped while running this job; it went back to the queue and will start over.' },
      { type: 'status', status: 'queued', reason: 'worker stopped' },
    ]);
    // The stopped worker writes nothing more; a second goodbye has nothing left to give back.
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId: running, epoch: lease.epoch, events: [{ type: 'log', level: 'info', message: 'late' }] }))).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await a.workerApi.goodbye.mutate({ workerId })).toEqual({ ok: true, requeued: [], canceled: [] });
    expect(await lastSeq(running)).toBe(before + 2);

    // The next worker takes it as a first start.
    const next = (await b.workerApi.register.mutate({ name: 'after-stop-box', version: '0.9.0', engines: [gpuEngine()], resources })).workerId;
    expect((await b.workerApi.claim.mutate({ workerId: next, jobId: running }))?.lease.epoch).toBe(lease.epoch + 2);
    expect(await db.job.findUniqueOrThrow({ where: { id: running } })).toMatchObject({ status: 'running', attempts: 1 });
    await b.workerApi.goodbye.mutate({ workerId: next });
  });

  it('refuses a revoked worker token (401), people on the worker API (403), and workers on people\'s procedures and routes', async () => {
    const revoked = await chorus.client.trpc.workers.createToken.mutate({ name: 'gpu-old' });
    const old = workerClient(chorus.h.url, revoked.token);
    const { workerId } = await old.workerApi.register.mutate({ name: 'old-box', version: '0.9.0', engines: [gpuEngine()], resources });
    await chorus.client.trpc.workers.revokeToken.mutate({ tokenId: revoked.id });
    expect(await refused(old.workerApi.heartbeat.mutate({ workerId, engines: [gpuEngine()], resources, running: [] }))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') });
    expect(await refused(workerClient(chorus.h.url, 'chorus_wk_' + 'x'.repeat(43)).workerApi.register.mutate({ name: 'n', version: '1', engines: [gpuEngine()], resources }))).toMatchObject({ code: 'UNAUTHORIZED' });
    const jobId = await newJob();
    expect((await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(revoked.token) })).status).toBe(401);
    expect((await fetch(`${chorus.h.url}/trpc/workerApi.goodbye`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workerId }) })).status).toBe(401);

    // People: a personal token and a session cookie are refused, whatever their role.
    const person = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${chorus.h.url}/trpc`, headers: bearer(chorus.h.token) })] });
    expect(await refused(person.workerApi.register.mutate({ name: 'sneaky', version: '1', engines: [gpuEngine()], resources }))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('worker token') });
    const cookie = await signIn(chorus.h.url, TEST_ADMIN.email, TEST_ADMIN.password);
    const viaCookie = await fetch(`${chorus.h.url}/trpc/workerApi.goodbye`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ workerId }) });
    expect(viaCookie.status).toBe(403);
    expect((await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(chorus.h.token) })).status).toBe(403);

    // Workers: no person's procedure or route.
    expect(await refused(a.job.list.query({ limit: 5 }))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('worker token') });
    expect(await refused(a.workers.tokens.query())).toMatchObject({ code: 'FORBIDDEN' });
    expect((await fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', body: voicedWav({ sampleRate: 24000, seconds: 2, f0: 150 }), headers: bearer(tokenA) })).status).toBe(403);
    expect(await db.workerNode.count({ where: { name: 'sneaky' } })).toBe(0);
  });

  it('refuses the late events of a worker whose lease was taken over', async () => {
    const first = (await a.workerApi.register.mutate({ name: 'flaky-box', version: '0.9.0', engines: [gpuEngine()], resources })).workerId;
    const second = (await b.workerApi.register.mutate({ name: 'steady-box', version: '0.9.0', engines: [gpuEngine()], resources })).workerId;
    const jobId = await newJob(11);
    const stale = (await a.workerApi.claim.mutate({ workerId: first, jobId }))!.lease.epoch;
    // The first worker went silent: its lease ran out, and the server's recovery re-queues the job.
    await db.job.update({ where: { id: jobId }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    for (let i = 0; i < 300 && (await chorus.client.trpc.job.get.query({ id: jobId })).status !== 'queued'; i++) await sleep(100);
    const fresh = (await b.workerApi.claim.mutate({ workerId: second, jobId }))!.lease.epoch;
    expect(fresh).toBeGreaterThan(stale);

    const before = await lastSeq(jobId);
    expect(await a.workerApi.append.mutate({ workerId: first, jobId, epoch: stale, events: [{ type: 'log', level: 'info', message: 'late news' }] })).toEqual({ accepted: false });
    expect(await a.workerApi.heartbeat.mutate({ workerId: first, engines: [gpuEngine()], resources, running: [{ jobId, epoch: stale }] })).toEqual({ lost: [jobId], cancel: [] });
    const wav = voicedWav({ sampleRate: 24000, seconds: 1, f0: 200 });
    const late = await putOutput(jobId, stale, wav);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: 'LEASE_LOST' } });
    expect(fs.existsSync(outputFile(jobId, stale))).toBe(false);
    expect(await a.workerApi.complete.mutate({ workerId: first, jobId, epoch: stale, sha256: 'a'.repeat(64), wallMs: 1 })).toEqual({ accepted: false });
    // The new holder's token may read the prompt; the old one is told another worker runs it.
    expect((await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(tokenB) })).status).toBe(200);
    const other = await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(tokenA) });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('another worker') } });
    expect(await refused(a.workerApi.append.mutate({ workerId: first, jobId, epoch: fresh, events: [{ type: 'log', level: 'info', message: 'not mine' }] }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await lastSeq(jobId)).toBe(before);
    expect(await b.workerApi.append.mutate({ workerId: second, jobId, epoch: fresh, events: [{ type: 'log', level: 'info', message: 'resumed here' }] })).toEqual({ accepted: true });
  });

  it('gives a clear error for bad input and writes nothing', async () => {
    expect(await refused(a.workerApi.register.mutate({ name: 'x', version: '1', engines: [{ ...gpuEngine(), id: 'Bad Id!' }], resources }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('engine id must be') });
    expect(await refused(a.workerApi.register.mutate({ name: 'x', version: '1', engines: [], resources }))).toMatchObject({ message: expect.stringContaining('at least one engine') });
    expect(await refused(a.workerApi.register.mutate({ name: 'x', version: '1', engines: [{ ...gpuEngine(), concurrency: 0 }], resources }))).toMatchObject({ message: expect.stringContaining('concurrency must be from 1 to 64') });
    expect(await db.workerNode.count({ where: { name: 'x' } })).toBe(0);

    const cpuOnly = (await a.workerApi.register.mutate({ name: 'cpu-box', version: '0.9.0', engines: [{ id: 'other', kind: 'builtin', version: '1', concurrency: 1, health: { status: 'up', message: null, checkedAt: null } }], resources })).workerId;
    const { workerId } = await a.workerApi.register.mutate({ name: 'strict-box', version: '0.9.0', engines: [gpuEngine()], resources });
    const jobId = await newJob(12);
    const seq0 = await lastSeq(jobId);
    expect(await refused(a.workerApi.claim.mutate({ workerId: cpuOnly, jobId }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('engine "gpu", which worker') });
    expect(await refused(b.workerApi.claim.mutate({ workerId, jobId }))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('another worker token') });
    expect(await refused(a.workerApi.claim.mutate({ workerId: 'wrk_00000000000000000000000000', jobId }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('register first') });
    // Not claimed yet: nothing of it is this worker's.
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch: 0, events: [{ type: 'log', level: 'info', message: 'hi' }] }))).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('claim it first') });
    const unclaimed = await fetch(`${chorus.h.url}/api/worker/jobs/${jobId}/prompt`, { headers: bearer(tokenA) });
    expect([unclaimed.status, ((await unclaimed.json()) as { error: { code: string } }).error.code]).toEqual([409, 'LEASE_NOT_HELD']);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('queued');
    expect(await lastSeq(jobId)).toBe(seq0);

    const { epoch } = (await a.workerApi.claim.mutate({ workerId, jobId }))!.lease;
    const seq1 = await lastSeq(jobId);
    const log = { type: 'log', level: 'info', message: 'x' } as const;
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: Array.from({ length: 201 }, () => log) }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('At most 200 events') });
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [] }))).toMatchObject({ message: expect.stringContaining('at least one event') });
    const result = { type: 'result', audioUrl: '/x', sampleRate: 24000, durationMs: 1, sha256: 'a' };
    // @ts-expect-error: a result is not an event a worker may append (the server refuses it too)
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [result] }))).toMatchObject({ message: expect.stringContaining('result comes with workerApi.complete') });
    // @ts-expect-error: succeeded only comes with complete
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [{ type: 'status', status: 'succeeded' }] }))).toMatchObject({ message: expect.stringContaining('succeeded comes with workerApi.complete') });
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [{ type: 'status', status: 'failed' }, log] }))).toMatchObject({ message: expect.stringContaining('must be the last event') });
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [{ type: 'status', status: 'failed' }] }))).toMatchObject({ message: expect.stringContaining('needs an error event') });
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch, events: [{ type: 'error', code: 'ENGINE_FAILED', message: 'boom' }] }))).toMatchObject({ message: expect.stringContaining('with status "failed"') });
    expect(await refused(a.workerApi.append.mutate({ workerId, jobId, epoch: epoch + 5, events: [log] }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('never issued') });

    // Outputs: a WAV, with its epoch, within the size limit; complete only after it.
    const notWav = await putOutput(jobId, epoch, new TextEncoder().encode('this is not audio at all, just text'));
    expect(notWav.status).toBe(415);
    expect(await notWav.json()).toMatchObject({ error: { code: 'NOT_WAV', message: expect.stringContaining('not a WAV file') } });
    const truncated = await putOutput(jobId, epoch, voicedWav({ sampleRate: 24000, seconds: 1, f0: 150 }).slice(0, 60));
    expect(truncated.status).toBe(415);
    expect((await putOutput(jobId, null, voicedWav({ sampleRate: 24000, seconds: 1, f0: 150 }))).status).toBe(400);
    expect(await tooLargeStatus(chorus.h.url, `/api/worker/jobs/${jobId}/output?epoch=${epoch}`, tokenA)).toBe(413);
    expect(fs.existsSync(outputFile(jobId, epoch))).toBe(false);
    expect(await refused(a.workerApi.complete.mutate({ workerId, jobId, epoch, sha256: 'b'.repeat(64), wallMs: 10 }))).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('PUT the WAV') });
    const wav = voicedWav({ sampleRate: 24000, seconds: 1, f0: 150 });
    expect((await putOutput(jobId, epoch, wav)).status).toBe(201);
    expect(await refused(a.workerApi.complete.mutate({ workerId, jobId, epoch, sha256: 'b'.repeat(64), wallMs: 10 }))).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('upload the WAV again') });
    expect(await lastSeq(jobId)).toBe(seq1);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('running');
  });
});

/** A PUT announcing a body over the limit: refused from its Content-Length, before a byte is read. */
function tooLargeStatus(base: string, pathname: string, token: string): Promise<number> {
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-type': 'audio/wav', 'content-length': String(100 * 1024 * 1024), ...bearer(token) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}
