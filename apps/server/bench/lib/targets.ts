/**
 * The two servers under measurement, driven the same way: a real Chorus server process
 * (src/main.ts, SQLite, in-process queue, the emitter as a `command` engine; subscribers are
 * tRPC WebSocket clients on job.events) and the bare `ws` broadcaster (bare-server.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppRouter } from '@chorus/api';
import { createTestPostgresDatabase } from '@chorus/db/testing';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import { openInspector, type Inspector } from './inspector.ts';
import { freePorts, runDir, spawnOwned, waitHealthy, within, type Spawned } from './processes.ts';
import { Tally, type Subscriber } from './tally.ts';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const serverDir = path.resolve(benchDir, '..');
export const EMITTER = path.join(benchDir, 'emitter.py');

/** Connections are opened this many at a time, each batch waiting until it is subscribed. */
const OPEN_BATCH = 50;
const SUBSCRIBE_TIMEOUT_MS = 60_000;
/** The most jobs one engine instance may run at once (Chorus's engine configuration limit). */
const ENGINE_MAX_CONCURRENCY = 64;

export interface RunningTarget {
  name: 'bare' | 'chorus';
  pid: number;
  /** Its base URL (http://127.0.0.1:<port>), for the /healthz probe. */
  url: string;
  /** The DevTools session when started with `inspect` (the memory benchmark forces GC through it). */
  inspector: Inspector | null;
  /** The last lines the server process printed. */
  output(): string;
  /** Start `jobs` emitter runs with these parameters and `perJob` subscribers on each. */
  launch(jobs: number, perJob: number, text: string): Promise<Subscriber[][]>;
  /** More subscribers on job `job` of the last launch. */
  subscribe(job: number, count: number): Promise<Subscriber[]>;
  stop(): Promise<void>;
}

async function openInBatches(count: number, open: () => Subscriber, what: string): Promise<Subscriber[]> {
  const all: Subscriber[] = [];
  while (all.length < count) {
    const batch = Array.from({ length: Math.min(OPEN_BATCH, count - all.length) }, open);
    all.push(...batch);
    await within(Promise.all(batch.map((s) => s.subscribed)), SUBSCRIBE_TIMEOUT_MS, `${what}: ${all.length} subscribers opened, the last ${batch.length} not subscribed within ${SUBSCRIBE_TIMEOUT_MS / 1000} s`);
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// Chorus

const ADMIN = { email: 'bench@chorus.test', password: 'bench-admin-password', name: 'Bench Admin' };

async function adminToken(url: string): Promise<string> {
  const login = await fetch(`${url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) });
  if (login.status !== 200) throw new Error(`Chorus sign-in failed: ${login.status} ${await login.text()}`);
  const cookie = login.headers.getSetCookie().find((c) => /^(__Host-)?chorus_session=/.test(c))?.split(';')[0];
  if (!cookie) throw new Error('Chorus sign-in set no session cookie');
  const res = await fetch(`${url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'bench', currentPassword: ADMIN.password }) });
  if (res.status !== 200) throw new Error(`Chorus token creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result: { data: { token: string } } }).result.data.token;
}

export interface StartOptions {
  /** Start node with --inspect on a free loopback port and attach to it. */
  inspect?: boolean;
}

/** A port for the server and node's arguments, with --inspect on a second port when asked for. */
async function nodeArgs(options: StartOptions, script: (port: number) => string[]): Promise<{ port: number; args: string[]; inspectPort: number | null }> {
  const [port, inspectPort = null] = await freePorts(options.inspect ? 2 : 1);
  return { port: port!, args: [...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []), '--import', 'tsx', ...script(port!)], inspectPort };
}

/** BENCH_SCALE_OUT=1: PostgreSQL + Redis (bus and BullMQ) instead of SQLite and the in-process drivers. */
export const scaleOut = process.env.BENCH_SCALE_OUT === '1';

export interface ChorusServerOptions extends StartOptions {
  /** The engine program (argv); the emitter by default. */
  command?: string[];
  /** An existing SQLite file to serve (kept when the server stops); a fresh one by default. */
  sqliteFile?: string;
  /** More environment for the server (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
}

/** A running Chorus server process, signed in as its admin over HTTP. */
export interface ChorusServer {
  url: string;
  pid: number;
  token: string;
  http: ReturnType<typeof createTRPCClient<AppRouter>>;
  /** The engine ids, one per ENGINE_MAX_CONCURRENCY jobs of concurrency. */
  engineIds: string[];
  /** The DevTools session when started with `inspect`. */
  inspector: Inspector | null;
  output(): string;
  /** Things to close before the server stops (subscriber sockets). */
  onStop(close: () => void): void;
  stop(): Promise<void>;
}

/** A real Chorus server process with its own SQLite file (or PostgreSQL database) whose only engine is `command`. */
export async function startChorusServer(concurrency: number, options: ChorusServerOptions = {}): Promise<ChorusServer> {
  const dir = fs.mkdtempSync(path.join(runDir, 'chorus-'));
  // BENCH_SCALE_OUT=1: the scale-out drivers instead of the embedded default (a fresh PostgreSQL database, the machine's Redis).
  const database = scaleOut && !options.sqliteFile ? await createTestPostgresDatabase() : null;
  // BENCH_CPU_PROF=dir: a V8 CPU profile of each Chorus server, written when it stops (open in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const { port, args, inspectPort } = await nodeArgs(options, () => [...profile, 'src/main.ts']);
  const url = `http://127.0.0.1:${port}`;
  // An engine runs at most ENGINE_MAX_CONCURRENCY jobs at once: more jobs get more copies of the engine.
  const engineIds = Array.from({ length: Math.ceil(concurrency / ENGINE_MAX_CONCURRENCY) }, (_, i) => (i === 0 ? 'bench' : `bench-${i + 1}`));
  const engines = engineIds.map((id, i) => ({
    id,
    kind: 'command',
    default: i === 0,
    generation: 2,
    model: 'bench-emitter',
    speakers: [{ id: 'bench', name: 'Bench', language: 'en' }],
    command: options.command ?? ['python3', EMITTER],
    concurrency: Math.min(ENGINE_MAX_CONCURRENCY, concurrency - i * ENGINE_MAX_CONCURRENCY),
  }));
  let proc: Spawned | undefined;
  let inspector: Inspector | null = null;
  const clients: Array<() => void> = [];
  const stop = async (): Promise<void> => {
    for (const close of clients) close();
    inspector?.close();
    await proc?.stop();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    proc = spawnOwned('Chorus server', process.execPath, args, {
      cwd: serverDir,
      // Chorus does not watch its stdin, so a watchdog stops it if the benchmark is killed.
      watchdog: true,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: database?.url ?? `file:${options.sqliteFile ?? path.join(dir, 'chorus.db')}`,
        ...(scaleOut ? { REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', CHORUS_REDIS_PREFIX: `bench-${path.basename(dir)}` } : {}),
        CHORUS_DATA_DIR: path.join(dir, 'data'),
        CHORUS_ENGINES: JSON.stringify(engines),
        CHORUS_WORKER_CONCURRENCY: String(concurrency),
        CHORUS_SHUTDOWN_GRACE_MS: '0',
        CHORUS_ADMIN_EMAIL: ADMIN.email,
        CHORUS_ADMIN_PASSWORD: ADMIN.password,
        CHORUS_ADMIN_NAME: ADMIN.name,
        // Every bench subscriber connects from this one address, many at once: not an attack to refuse.
        CHORUS_WS_MAX_PENDING_PER_ADDRESS: '5000',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
        ...options.env,
      },
    });
    const server = proc;
    await waitHealthy(server, `${url}/healthz`);
    if (inspectPort) inspector = await openInspector(inspectPort);
    const token = await adminToken(url);
    const http = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })] });
    // The many-jobs scenarios submit more than the default 30 jobs a minute.
    await http.settings.update.mutate({ jobsPerMinute: 0 });
    return { url, pid: server.pid, token, http, engineIds, inspector, output: () => server.output(), onStop: (close) => clients.push(close), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A real Chorus server process with its own SQLite file (or PostgreSQL database); its only engine is the emitter. */
export async function startChorus(concurrency: number, options: StartOptions = {}): Promise<RunningTarget> {
  const chorus = await startChorusServer(concurrency, options);
  const { url, token, http, engineIds, stop } = chorus;
  let jobIds: string[] = [];

  const open = (jobId: string): Subscriber => {
    const tally = new Tally();
    let first!: () => void;
    const subscribed = new Promise<void>((r) => (first = r));
    const ws = createWSClient({
      url: `${url.replace(/^http/, 'ws')}/trpc`,
      connectionParams: { token },
      // Node 20 has no global WebSocket; the ws package implements the same interface.
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      onClose: () => tally.closed(),
    });
    const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
    const sub = trpc.job.events.subscribe(
      { id: jobId },
      {
        onData(envelope) {
          first();
          const event = envelope.data;
          if (event.type === 'log') tally.message(event.message);
          if (event.type === 'log' && (event.level === 'warn' || event.level === 'error')) tally.notes.push(`job ${jobId}: ${event.message}`);
          else if (event.type === 'error') tally.notes.push(`job ${jobId} failed: ${event.code} ${event.message}`);
        },
        onError(err) {
          console.error(`chorus subscriber error: ${err.message}`);
          tally.closed();
        },
      },
    );
    const close = (): void => {
      tally.closing = true;
      sub.unsubscribe();
      ws.close();
    };
    chorus.onStop(close);
    return { tally, subscribed, close };
  };

  return {
    name: 'chorus',
    pid: chorus.pid,
    url,
    inspector: chorus.inspector,
    output: chorus.output,
    async launch(jobs, perJob, text) {
      jobIds = [];
      for (let j = 0; j < jobs; j++) {
        jobIds.push((await http.job.create.mutate({ engineId: engineIds[j % engineIds.length], mode: 'pretrained', speakerId: 'bench', text })).id);
      }
      const subs: Subscriber[][] = [];
      for (const id of jobIds) subs.push(await openInBatches(perJob, () => open(id), `chorus job ${id}`));
      return subs;
    },
    subscribe(job, count) {
      const id = jobIds[job];
      if (!id) throw new Error(`no job ${job} in the last launch`);
      return openInBatches(count, () => open(id), `chorus job ${id}`);
    },
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// Bare ws

/** The baseline broadcaster in its own process (bare-server.ts). */
export async function startBare(options: StartOptions = {}): Promise<RunningTarget> {
  const { port, args, inspectPort } = await nodeArgs(options, (p) => ['bench/bare-server.ts', String(p)]);
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnOwned('bare ws server', process.execPath, args, { cwd: serverDir, env: process.env });
  let inspector: Inspector | null = null;
  const sockets: WebSocket[] = [];
  const stop = async (): Promise<void> => {
    for (const ws of sockets) ws.terminate();
    inspector?.close();
    await proc.stop();
  };
  try {
    await waitHealthy(proc, `${url}/healthz`);
    if (inspectPort) inspector = await openInspector(inspectPort);
  } catch (err) {
    await stop();
    throw err;
  }

  const open = (job: number): Subscriber => {
    const tally = new Tally();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/jobs/${job}`);
    sockets.push(ws);
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data: Buffer) => {
      const line = data.toString();
      // The emitter's own protocol line: `@chorus {"type":"log",…,"message":"…"}`.
      if (line.startsWith('@chorus ')) tally.message((JSON.parse(line.slice(8)) as { message: string }).message);
    });
    ws.on('close', () => tally.closed());
    return {
      tally,
      subscribed,
      close: () => {
        tally.closing = true;
        ws.close();
      },
    };
  };

  return {
    name: 'bare',
    pid: proc.pid,
    url,
    inspector,
    output: () => proc.output(),
    async launch(jobs, perJob, text) {
      // No replay here: subscribe first, then start the emitters.
      const subs: Subscriber[][] = [];
      for (let j = 0; j < jobs; j++) subs.push(await openInBatches(perJob, () => open(j), `bare job ${j}`));
      const res = await fetch(`${url}/run`, { method: 'POST', body: JSON.stringify({ jobs, text }) });
      if (!res.ok) throw new Error(`bare server refused the run: ${res.status} ${await res.text()}`);
      return subs;
    },
    subscribe: (job, count) => openInBatches(count, () => open(job), `bare job ${job}`),
    stop,
  };
}
