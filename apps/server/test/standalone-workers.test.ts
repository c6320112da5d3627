import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, type Db } from '@chorus/db';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '@chorus/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, connectClient, issueToken, LONG_TEXT, range, seqs, sleep, uploadReference, type Client } from './support/harness.ts';
import { startRedis } from './support/redis-process.ts';
import { freePort, killSpawnedServers, spawnServer, waitForExit, type ServerProcess } from './support/server-process.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const workerMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../worker/src/main.ts');

interface WorkerProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
}

// The deployment the issue describes: a server that runs no jobs itself, and three standalone
// workers (`pnpm worker`) as separate processes with only the server's URL, a worker token,
// Redis and their engines (the built-in one): no database credentials, no shared disk.
describe('standalone workers as separate processes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-workers-'));
  const workers: WorkerProcess[] = [];
  let database: TestPostgresDatabase;
  let redis: ChildProcess;
  let redisUrl: string;
  let server: ServerProcess;
  let token: string;
  let workerToken: string;
  let client: Client;
  let db: Db;
  let uploadId: string;
  let redisPort: number;
  const proxies: TcpProxy[] = [];

  const startWorker = (name: string, via: { serverUrl?: string; redisUrl?: string } = {}): WorkerProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerMain], {
      // tsx resolves from the worker app, as `pnpm worker` runs it.
      cwd: path.dirname(path.dirname(workerMain)),
      // Only what a GPU machine has: no DATABASE_URL, no storage settings.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CHORUS_SERVER_URL: via.serverUrl ?? server.url,
        CHORUS_WORKER_TOKEN: workerToken,
        REDIS_URL: via.redisUrl ?? redisUrl,
        CHORUS_WORKER_NAME: name,
        CHORUS_WORKER_DATA_DIR: path.join(dir, name),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const w = { name, child, output: () => out };
    workers.push(w);
    return w;
  };

  /** The worker process whose registration holds a job's lease (owner "<workerId>#<tokenId>"). */
  const runnerOf = async (jobId: string): Promise<WorkerProcess | undefined> => {
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    const workerId = job.leaseOwner?.split('#')[0];
    const node = workerId ? await db.workerNode.findUnique({ where: { id: workerId } }) : null;
    return workers.find((w) => w.name === node?.name);
  };

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    server = await spawnServer(
      { DATABASE_URL: database.url, REDIS_URL: redisUrl, CHORUS_DATA_DIR: path.join(dir, 'server'), CHORUS_SERVER_RUNS_JOBS: 'false', CHORUS_LEASE_MS: '6000', CHORUS_EVENTS_IDLE_REREAD_MS: '300' },
      await freePort(),
    );
    token = await issueToken(server.url);
    client = connectClient(server.url, token);
    workerToken = (await client.trpc.workers.createToken.mutate({ name: 'gpu pool' })).token;
    db = await openDb(database.url);
    uploadId = (await uploadReference(server.url, token)).id;
    for (const name of ['w1', 'w2', 'w3']) startWorker(name);
    const deadline = Date.now() + 45_000;
    while ((await db.workerNode.count({ where: { stoppedAt: null } })) < 3) {
      if (Date.now() > deadline) throw new Error(`the workers did not register:\n${workers.map((w) => `--- ${w.name}\n${w.output()}`).join('\n')}`);
      await sleep(100);
    }
  }, 120_000);
  afterAll(async () => {
    for (const p of proxies) await p.close();
    client?.close();
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    killSpawnedServers();
    await db?.$disconnect();
    redis?.kill('SIGKILL');
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('spreads jobs over the workers; each runs once and its audio is served by the server', async () => {
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: `Take number ${i + 1}, from a worker.`, promptUploadId: uploadId, seed: 100 + i }));
    const streams = jobs.map((j) => collectEvents(client, j.id));
    await Promise.all(streams.map((s) => s.done));
    const runners = new Set<string>();
    for (const [i, stream] of streams.entries()) {
      expect(stream.events.at(-1), `job ${i}`).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
      expect(stream.events.filter((e) => e.type === 'status' && e.status === 'running'), JSON.stringify(stream.events.filter((e) => e.type !== 'progress'))).toHaveLength(1);
      const runner = await runnerOf(jobs[i]!.id);
      expect(runner, `job ${i} ran on a registered worker`).toBeDefined();
      runners.add(runner!.name);
      const audio = await fetch(`${server.url}/api/jobs/${jobs[i]!.id}/audio`, { headers: { authorization: `Bearer ${token}` } });
      expect(audio.status).toBe(200);
    }
    // Each worker takes one job at a time (the built-in engine's concurrency), so six jobs reach more than one.
    expect(runners.size).toBeGreaterThan(1);
    // The server ran none itself.
    expect(server.output()).not.toMatch(/"msg":"job started"/);
  });

  it('kill -9 a worker mid-job: the job is re-queued after its lease, finishes on another worker, gap-free with one warn', async () => {
    const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: uploadId, seed: 7 });
    const stream = collectEvents(client, job.id);
    while (!stream.events.some((e) => e.type === 'progress')) await sleep(20);
    const victim = await runnerOf(job.id);
    expect(victim).toBeDefined();
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    await waitForExit(victim!.child);
    await stream.done;
    expect(Date.now() - killedAt).toBeLessThan(90_000);
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    const warns = stream.events.filter((e) => e.type === 'log' && e.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ message: expect.stringMatching(/lease expired.*re-queued once/) });
    const rerunOn = await runnerOf(job.id);
    expect(rerunOn).toBeDefined();
    expect(rerunOn!.name).not.toBe(victim!.name);
    // The killed worker's engine threads died with it: nothing of it is left running.
    expect(victim!.child.exitCode ?? victim!.child.signalCode).toBeTruthy();
  });
  it('a partitioned worker loses its lease: its job runs elsewhere, and its late events are refused when the network heals', async () => {
    // This worker reaches the server and Redis only through a network we can cut.
    const toServer = await startTcpProxy(Number(new URL(server.url).port));
    const toRedis = await startTcpProxy(redisPort);
    proxies.push(toServer, toRedis);
    const cutOff = startWorker('w-partitioned', { serverUrl: toServer.url, redisUrl: `redis://127.0.0.1:${toRedis.port}` });
    const deadline = Date.now() + 45_000;
    while (!(await db.workerNode.findFirst({ where: { name: cutOff.name } }))) {
      if (Date.now() > deadline) throw new Error(`the partitioned worker did not register:\n${cutOff.output()}`);
      await sleep(100);
    }
    // One long job per free worker (each runs one at a time), so the partitioned one gets one.
    const free = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length;
    const jobs = [];
    for (let i = 0; i < free; i++) jobs.push(await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: uploadId, seed: 200 + i }));
    const streams = jobs.map((j) => collectEvents(client, j.id));
    let caught: string | undefined;
    const until = Date.now() + 45_000;
    while (!caught) {
      if (Date.now() > until) throw new Error('the partitioned worker took none of the jobs');
      for (const j of jobs) if ((await runnerOf(j.id))?.name === cutOff.name && streams[jobs.indexOf(j)]!.events.some((e) => e.type === 'progress')) caught = j.id;
      await sleep(50);
    }
    toServer.blackhole();
    toRedis.blackhole();

    await Promise.all(streams.map((s) => s.done));
    const stream = streams[jobs.findIndex((j) => j.id === caught)]!;
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    expect(stream.events.filter((e) => e.type === 'log' && e.level === 'warn')).toHaveLength(1);
    expect(stream.events.filter((e) => e.type === 'result')).toHaveLength(1);
    expect((await runnerOf(caught))?.name).not.toBe(cutOff.name);

    // The network heals: what the cut-off worker sent meanwhile arrives late and is refused; the log does not change.
    const stored = await db.jobEvent.count({ where: { jobId: caught } });
    toServer.heal();
    toRedis.heal();
    const healedUntil = Date.now() + 20_000;
    while (!/lost the lease|longer than a lease/.test(cutOff.output())) {
      if (Date.now() > healedUntil) throw new Error(`the cut-off worker never stopped its run:\n${cutOff.output().slice(-3000)}`);
      await sleep(100);
    }
    await sleep(1500);
    expect(await db.jobEvent.count({ where: { jobId: caught } })).toBe(stored);
    const row = await db.job.findUniqueOrThrow({ where: { id: caught } });
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
    for (const s of streams) expect(s.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  });
});
