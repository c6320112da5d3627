import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, connectClient, issueToken, LONG_TEXT, range, seqs, sleep, uploadReference, type Client } from './support/harness.ts';
import { startSharedBackends, type SharedBackends } from './support/scale-out.ts';
import { freePort, killSpawnedServers, spawnServer, waitForExit, type ServerProcess } from './support/server-process.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';
import { isAlive, spawnWorker, type WorkerProcess } from './support/worker-process.ts';

/** One of the two servers: its process and a person's client on it. */
interface Node {
  server: ServerProcess;
  client: Client;
}

interface Cluster {
  backends: SharedBackends;
  a: Node;
  b: Node;
  token: string;
  db: Db;
  uploadId: string;
  workers: WorkerProcess[];
  /** Proxies a test opens; closed with the cluster. */
  proxies: TcpProxy[];
  startWorker(name: string, via: { serverUrl: string; redisUrl?: string }): WorkerProcess;
  /** The worker process whose registration holds a job's lease (owner "<workerId>#<tokenId>"). */
  runnerOf(jobId: string): Promise<WorkerProcess | undefined>;
  /** Wait until the named workers registered (and did not say goodbye). */
  registered(names: string[]): Promise<void>;
}

/**
 * The deployment the issue describes: two servers (separate processes on one PostgreSQL
 * database and Redis) that run no jobs themselves, and three standalone workers (`pnpm worker`),
 * w1 and w2 given server A's URL and w3 server B's. Jobs are created on either server.
 * `leaseMs` is the servers' CHORUS_LEASE_MS (workers heartbeat every third of it).
 */
function useCluster(leaseMs: number): Cluster {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-workers-'));
  // Filled in by beforeAll; the tests only run after it.
  const cluster = { workers: [], proxies: [] } as unknown as Cluster;
  let workerToken: string;

  cluster.startWorker = (name, via) => {
    const w = spawnWorker({ name, serverUrl: via.serverUrl, token: workerToken, redisUrl: via.redisUrl ?? cluster.backends.redisUrl, dataDir: path.join(dir, name) });
    cluster.workers.push(w);
    return w;
  };
  cluster.runnerOf = async (jobId) => {
    const job = await cluster.db.job.findUniqueOrThrow({ where: { id: jobId } });
    const workerId = job.leaseOwner?.split('#')[0];
    const node = workerId ? await cluster.db.workerNode.findUnique({ where: { id: workerId } }) : null;
    return cluster.workers.find((w) => w.name === node?.name);
  };
  cluster.registered = async (names) => {
    const deadline = Date.now() + 45_000;
    while ((await cluster.db.workerNode.count({ where: { stoppedAt: null, name: { in: names } } })) < names.length) {
      const mine = cluster.workers.filter((w) => names.includes(w.name));
      if (Date.now() > deadline) throw new Error(`the workers did not register:\n${mine.map((w) => `--- ${w.name}\n${w.output()}`).join('\n')}`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    cluster.backends = await startSharedBackends(dir);
    const env = (name: string): Record<string, string> => cluster.backends.serverEnv(name, { CHORUS_SERVER_RUNS_JOBS: 'false', CHORUS_LEASE_MS: String(leaseMs) });
    // Both at once, as a deployment's replicas start (they race to claim the fresh shared store).
    const [serverA, serverB] = await Promise.all([spawnServer(env('a'), await freePort()), spawnServer(env('b'), await freePort())]);
    cluster.token = await issueToken(serverA.url);
    cluster.a = { server: serverA, client: connectClient(serverA.url, cluster.token) };
    cluster.b = { server: serverB, client: connectClient(serverB.url, cluster.token) };
    workerToken = (await cluster.a.client.trpc.workers.createToken.mutate({ name: 'gpu pool' })).token;
    cluster.db = await openDb(cluster.backends.databaseUrl);
    cluster.uploadId = (await uploadReference(serverA.url, cluster.token)).id;
    cluster.startWorker('w1', { serverUrl: serverA.url });
    cluster.startWorker('w2', { serverUrl: serverA.url });
    cluster.startWorker('w3', { serverUrl: serverB.url });
    await cluster.registered(['w1', 'w2', 'w3']);
  }, 120_000);
  afterAll(async () => {
    for (const p of cluster.proxies) await p.close();
    cluster.a?.client.close();
    cluster.b?.client.close();
    for (const w of cluster.workers) if (isAlive(w)) w.child.kill('SIGKILL');
    // Also a server whose sibling failed to start (the describes run one after the other).
    killSpawnedServers();
    await cluster.db?.$disconnect();
    await cluster.backends?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return cluster;
}

const warnsOf = (events: { type: string; level?: string }[]) => events.filter((e) => e.type === 'log' && e.level === 'warn');

describe('standalone workers on two servers: spreading jobs', () => {
  // A 30 s lease (heartbeats every 10 s). This case proves each job runs once on some worker;
  // with 6 s, a loaded machine (load average 10-15 on 2 cores) once left a job's lease
  // unrenewed for over 6 s, and the re-run that followed failed it with no worker gone. Dead and cut-off workers, where the lease is the point, are the short-lease cases below.
  const c = useCluster(30_000);

  it('spreads jobs created on either server over the workers of both; each runs once, its audio served by both servers', async () => {
    const nodes = [c.a, c.b];
    const jobs = [];
    for (let i = 0; i < 6; i++) {
      const on = nodes[i % 2]!;
      jobs.push({ on, job: await on.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: `Take number ${i + 1}, from a worker.`, promptUploadId: c.uploadId, seed: 100 + i }) });
    }
    // Each subscriber on the server its job was created on.
    const streams = jobs.map(({ on, job }) => collectEvents(on.client, job.id));
    await Promise.all(streams.map((s) => s.done));
    const runners = new Set<string>();
    let crossed = 0;
    for (const [i, stream] of streams.entries()) {
      const { on, job } = jobs[i]!;
      const log = JSON.stringify(stream.events.filter((e) => e.type !== 'progress'));
      expect(stream.events.at(-1), `job ${i}`).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
      expect(stream.events.filter((e) => e.type === 'status' && e.status === 'running'), log).toHaveLength(1);
      expect(warnsOf(stream.events), log).toHaveLength(0);
      const runner = await c.runnerOf(job.id);
      expect(runner, `job ${i} ran on a registered worker`).toBeDefined();
      runners.add(runner!.name);
      if (runner!.serverUrl !== on.server.url) crossed++;
      for (const node of nodes) {
        const audio = await fetch(`${node.server.url}/api/jobs/${job.id}/audio`, { headers: { authorization: `Bearer ${c.token}` } });
        expect(audio.status, `job ${i}'s audio from ${node.server.url}`).toBe(200);
      }
    }
    // Each worker takes one job at a time (the built-in engine's concurrency), so six jobs reach more than one.
    expect(runners.size).toBeGreaterThan(1);
    // Some job was created on one server and run by a worker attached to the other: the log and audio went across.
    expect(crossed).toBeGreaterThan(0);
    // The servers ran none themselves.
    for (const node of nodes) expect(node.server.output()).not.toMatch(/"msg":"job started"/);
  });
});

describe('standalone workers on two servers: losing a worker', () => {
  // A short lease keeps these cases fast: a dead or cut-off worker's job is back after about 6 s.
  const c = useCluster(6_000);

  it('kill -9 a worker mid-job: the job is re-queued within 30 s, finishes on another worker, gap-free with one warn', async () => {
    // Created on B: whichever worker takes it, its subscriber and maybe its next worker are on another server.
    const job = await c.b.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: c.uploadId, seed: 7 });
    let requeuedAt: number | undefined;
    const stream = collectEvents(c.b.client, job.id, undefined, (e) => {
      if (e.type === 'status' && e.status === 'queued' && e.reason === 'lease expired') requeuedAt ??= Date.now();
    });
    while (!stream.events.some((e) => e.type === 'progress')) await sleep(20);
    const victim = await c.runnerOf(job.id);
    expect(victim).toBeDefined();
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    await waitForExit(victim!.child);
    await stream.done;
    expect(requeuedAt, 'the job was re-queued').toBeDefined();
    expect(requeuedAt! - killedAt).toBeLessThan(30_000);
    expect(Date.now() - killedAt).toBeLessThan(90_000);
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    const warns = warnsOf(stream.events);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ message: expect.stringMatching(/lease expired.*re-queued once/) });
    const rerunOn = await c.runnerOf(job.id);
    expect(rerunOn).toBeDefined();
    expect(rerunOn!.name).not.toBe(victim!.name);
    // The killed worker's engine threads died with it: nothing of it is left running.
    expect(isAlive(victim!)).toBe(false);
  });

  it('a partitioned worker loses its lease: its job runs elsewhere, and its late events are refused when the network heals', async () => {
    // This worker reaches server B and Redis only through a network we can cut; the jobs are created on A.
    const toServer = await startTcpProxy(Number(new URL(c.b.server.url).port));
    const toRedis = await startTcpProxy(c.backends.redisPort);
    c.proxies.push(toServer, toRedis);
    const cutOff = c.startWorker('w-partitioned', { serverUrl: toServer.url, redisUrl: `redis://127.0.0.1:${toRedis.port}` });
    await c.registered([cutOff.name]);
    // One long job per free worker (each runs one at a time), so the partitioned one gets one.
    const free = c.workers.filter(isAlive).length;
    const jobs = [];
    for (let i = 0; i < free; i++) jobs.push(await c.a.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: c.uploadId, seed: 200 + i }));
    const streams = jobs.map((j) => collectEvents(c.a.client, j.id));
    let caught: string | undefined;
    const until = Date.now() + 45_000;
    while (!caught) {
      if (Date.now() > until) throw new Error('the partitioned worker took none of the jobs');
      for (const [i, j] of jobs.entries()) if ((await c.runnerOf(j.id))?.name === cutOff.name && streams[i]!.events.some((e) => e.type === 'progress')) caught = j.id;
      await sleep(50);
    }
    toServer.blackhole();
    toRedis.blackhole();

    await Promise.all(streams.map((s) => s.done));
    const stream = streams[jobs.findIndex((j) => j.id === caught)]!;
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    expect(warnsOf(stream.events)).toHaveLength(1);
    expect(stream.events.filter((e) => e.type === 'result')).toHaveLength(1);
    expect((await c.runnerOf(caught))?.name).not.toBe(cutOff.name);

    // The network heals: what the cut-off worker sent meanwhile arrives late and is refused; the log does not change.
    const stored = await c.db.jobEvent.count({ where: { jobId: caught } });
    toServer.heal();
    toRedis.heal();
    const healedUntil = Date.now() + 20_000;
    while (!/lost the lease|longer than a lease/.test(cutOff.output())) {
      if (Date.now() > healedUntil) throw new Error(`the cut-off worker never stopped its run:\n${cutOff.output().slice(-3000)}`);
      await sleep(100);
    }
    await sleep(1500);
    expect(await c.db.jobEvent.count({ where: { jobId: caught } })).toBe(stored);
    const row = await c.db.job.findUniqueOrThrow({ where: { id: caught } });
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
    for (const s of streams) expect(s.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  });
});
