import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobEvent } from '@chorus/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { keepAlive } from '../src/ws/keep-alive.ts';
import { guardSends, outgoingStats, TOO_SLOW_CLOSE } from '../src/ws/send-backpressure.ts';
import { loadConfig } from '../src/config.ts';
import { rawTrpcSocket as rawSocket, type Frame } from './support/raw-trpc-socket.ts';
import { bearer, connectClient, collectEvents, sleep, startHarness, type Harness } from './support/harness.ts';

const FLOOD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/event-flood.py');
const MB = 1024 * 1024;

/** A server whose only engine is the event-flood program, with these extra settings. */
async function floodServer(env: Record<string, string>): Promise<Harness> {
  const engine = { id: 'flood', kind: 'command', default: true, generation: 2, model: 'flood', speakers: [{ id: 'flood', name: 'Flood', language: 'en' }], command: ['python3', FLOOD], maxTextChars: 20_000 };
  const h = await startHarness({ CHORUS_ENGINES: JSON.stringify([engine]), ...env });
  const res = await fetch(`${h.url}/trpc/settings.update`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(h.token) }, body: JSON.stringify({ jobsPerMinute: 0 }) });
  expect(res.status).toBe(200);
  return h;
}

async function createJob(h: Harness, params: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${h.url}/trpc/job.create`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(h.token) }, body: JSON.stringify({ mode: 'pretrained', speakerId: 'flood', text: JSON.stringify(params) }) });
  if (res.status !== 200) throw new Error(`job.create: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result: { data: { id: string } } }).result.data.id;
}

async function jobStatus(h: Harness, id: string): Promise<string> {
  const res = await fetch(`${h.url}/trpc/job.get?input=${encodeURIComponent(JSON.stringify({ id }))}`, { headers: bearer(h.token) });
  return ((await res.json()) as { result: { data: { status: string } } }).result.data.status;
}

async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const subscribe = (id: number, jobId: string, lastEventId?: string) => ({ id, method: 'subscription', params: { path: 'job.events', input: { id: jobId }, ...(lastEventId ? { lastEventId } : {}) } });
/** The job events a subscription delivered, in the order they arrived. */
const eventsOf = (frames: Frame[], id: number): JobEvent[] =>
  frames.filter((f) => f.id === id && f.result?.type === 'data').map((f) => (f.result!.data as { data: JobEvent }).data);
const stopped = (frames: Frame[], id: number): boolean => frames.some((f) => f.id === id && (f.result?.type === 'stopped' || f.error));
const increasing = (seqs: number[]): boolean => seqs.every((s, i) => i === 0 || s > seqs[i - 1]!);

/** Every event of a job, read by a client that keeps up. */
async function fullLog(h: Harness, jobId: string): Promise<JobEvent[]> {
  const client = connectClient(h.url, h.token);
  try {
    const all = collectEvents(client, jobId);
    await all.done;
    return all.events;
  } finally {
    client.close();
  }
}

/** What a slow subscriber got against the whole log: nothing but progress may be missing, and the last progress is there. */
function expectCoalescedOnly(got: JobEvent[], all: JobEvent[]): void {
  expect(increasing(got.map((e) => e.seq))).toBe(true);
  const gotSeqs = new Set(got.map((e) => e.seq));
  const missing = all.filter((e) => !gotSeqs.has(e.seq));
  expect(missing.filter((e) => e.type !== 'progress')).toEqual([]);
  const lastProgress = all.filter((e) => e.type === 'progress').at(-1);
  expect(lastProgress && gotSeqs.has(lastProgress.seq)).toBe(true);
  expect(got.at(-1)).toEqual(all.at(-1));
}

describe('a subscriber that stops reading for a while', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await floodServer({ CHORUS_WS_SOFT_BUFFER_MB: String(64 / 1024), CHORUS_WS_HARD_BUFFER_MB: '64' });
  });
  afterAll(async () => h?.stop());

  it('gets every status, stage, log and result event in seq order and the last progress; progress in between is coalesced', async () => {
    const go = path.join(h.dir, 'go-coalesce');
    const jobId = await createJob(h, { n: 2000, logEvery: 2, logChars: 3000, go });
    const s = await rawSocket(h.url, h.token);
    try {
      s.send([subscribe(1, jobId), subscribe(2, jobId), subscribe(3, jobId)]);
      await until(() => [1, 2, 3].every((id) => s.frames.some((f) => f.id === id && f.result?.type === 'started')), 'subscriptions started');
      s.ws.pause();
      fs.writeFileSync(go, '');
      await until(async () => (await jobStatus(h, jobId)) === 'succeeded', 'the job to finish');
      // The stream has pushed the end onto this socket's queue (or the socket) by now: the backlog holds logs, not every progress.
      await until(() => outgoingStats().backlogBytes > 0, 'frames waiting for the paused reader');
      const all = await fullLog(h, jobId);
      const progressEmitted = all.filter((e) => e.type === 'progress').length;
      // At most one progress frame per subscription waits, beside the other events (~100 bytes of tRPC envelope each).
      const others = all.filter((e) => e.type !== 'progress');
      const othersBytes = others.reduce((sum, e) => sum + JSON.stringify(e).length + 100, 0);
      expect(outgoingStats().backlogBytes).toBeLessThan(3 * (othersBytes + 300));

      s.ws.resume();
      await until(() => [1, 2, 3].every((id) => stopped(s.frames, id)), 'the three streams to end');
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
      for (const id of [1, 2, 3]) {
        const got = eventsOf(s.frames, id);
        expectCoalescedOnly(got, all);
        expect(got.filter((e) => e.type === 'progress').length).toBeLessThan(progressEmitted);
      }
      expect(all.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(all.some((e) => e.type === 'result')).toBe(true);
      expect(outgoingStats().backlogBytes).toBe(0);
    } finally {
      s.ws.close();
    }
  });
});

describe('a subscriber that does not read at all', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await floodServer({ CHORUS_WS_SOFT_BUFFER_MB: String(64 / 1024), CHORUS_WS_HARD_BUFFER_MB: '1' });
  });
  afterAll(async () => h?.stop());

  it('is closed with 4008 naming what it left unread, the server frees its queue, and it resumes with lastEventId', async () => {
    const go = path.join(h.dir, 'go-hard');
    const jobId = await createJob(h, { n: 3000, logEvery: 1, logChars: 2000, go });
    const s = await rawSocket(h.url, h.token);
    s.send(subscribe(1, jobId));
    await until(() => s.frames.some((f) => f.id === 1 && f.result?.type === 'started'), 'subscription started');
    s.ws.pause();
    fs.writeFileSync(go, '');
    const closedBefore = outgoingStats().closedTooSlow;
    await until(() => outgoingStats().closedTooSlow > closedBefore, 'the server to give up on the socket');
    expect(outgoingStats().backlogBytes).toBe(0);
    s.ws.resume();
    const closed = await s.closed;
    expect(closed.code).toBe(TOO_SLOW_CLOSE);
    expect(closed.reason).toMatch(/^Too slow: \d+\.\d MiB unread \(limit 1\.0 MiB\); reconnect and resume\.$/);

    const first = eventsOf(s.frames, 1);
    expect(first.length).toBeGreaterThan(0);
    await until(async () => (await jobStatus(h, jobId)) === 'succeeded', 'the job to finish');
    const again = await rawSocket(h.url, h.token);
    try {
      again.send(subscribe(1, jobId, String(first.at(-1)!.seq)));
      await until(() => stopped(again.frames, 1), 'the resumed stream to end');
      expectCoalescedOnly([...first, ...eventsOf(again.frames, 1)], await fullLog(h, jobId));
    } finally {
      again.ws.close();
    }
  });
});

describe('a client that asks for much and reads nothing', () => {
  let h: Harness;
  beforeAll(async () => {
    // No rate limit here: what is tested is that unread answers are not held.
    h = await floodServer({ CHORUS_WS_CALLS_PER_SECOND: '100000', CHORUS_WS_CALL_BURST: '100000' });
    const pad = 'p'.repeat(3000);
    for (let i = 0; i < 100; i++) await createJob(h, { n: 0, pad });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('gets 3,000 job.list(limit 100) refused once it has 1 MiB unread, the server stays small and /healthz answers', async () => {
    const probe = await fetch(`${h.url}/trpc/job.list?input=${encodeURIComponent(JSON.stringify({ limit: 100 }))}`, { headers: bearer(h.token) });
    const answerBytes = (await probe.text()).length;
    expect(answerBytes).toBeGreaterThan(300_000); // 3,000 of them unread: about 1 GB without the bound

    const s = await rawSocket(h.url, h.token);
    s.ws.pause();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    for (let wave = 0; wave < 150; wave++) {
      s.send(Array.from({ length: 20 }, (_, i) => ({ id: wave * 20 + i + 1, method: 'query', params: { path: 'job.list', input: { limit: 100 } } })));
      await sleep(5);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
    expect(outgoingStats().backlogBytes).toBeLessThan(16 * MB);
    // Without the bound the unread answers alone would be ~1 GB; the test process and the server share this RSS.
    expect(peak - rssBefore).toBeLessThan(300 * MB);

    s.ws.resume();
    await until(() => s.frames.length === 3000 || s.ws.readyState !== WebSocket.OPEN, 'every call answered');
    const refused = s.frames.filter((f) => f.error?.data.code === 'TOO_MANY_REQUESTS');
    const answered = s.frames.filter((f) => f.result?.type === 'data');
    expect(refused.length + answered.length).toBe(3000);
    expect(answered.length).toBeLessThan(100);
    const unread = /^Not run: \d+ KiB sent on this WebSocket is still unread; read the frames you were sent before asking for more\.$/;
    expect(refused.filter((f) => unread.test(f.error!.message)).length).toBeGreaterThan(2000);
    // The rest waited for an answer of their own wave (at most 20 unanswered).
    expect(refused.filter((f) => !unread.test(f.error!.message)).every((f) => f.error!.message.startsWith('At most 20 unanswered'))).toBe(true);
    s.ws.close();
    await s.closed;
    await until(() => outgoingStats().backlogBytes === 0, 'the queue to be freed');
  }, 120_000);
});

describe('calls per second on one WebSocket', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CHORUS_WS_CALLS_PER_SECOND: '1', CHORUS_WS_CALL_BURST: '5' });
  });
  afterAll(async () => h?.stop());

  it('answers calls past the burst with TOO_MANY_REQUESTS naming the limit, keeps the socket, and takes calls again later', async () => {
    const s = await rawSocket(h.url, h.token);
    try {
      s.send(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, method: 'query', params: { path: 'auth.me' } })));
      await until(() => s.frames.length >= 10, 'ten answers');
      expect(s.frames.filter((f) => f.result?.type === 'data').map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
      const refused = s.frames.filter((f) => f.error);
      expect(refused.map((f) => Number(f.id)).sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 10]);
      for (const f of refused) {
        expect(f.error).toMatchObject({ message: 'At most 1 calls per second per WebSocket (bursts of 5); wait a moment before sending more.', data: { code: 'TOO_MANY_REQUESTS' } });
      }
      await sleep(1100);
      s.send({ id: 11, method: 'query', params: { path: 'auth.me' } });
      await until(() => s.frames.some((f) => f.id === 11), 'the next answer');
      expect(s.frames.find((f) => f.id === 11)?.result?.type).toBe('data');
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      s.ws.close();
    }
  });
});

describe('keep-alive on a busy socket', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    // The server's own guard and keep-alive, with short intervals: a frame of 16 KB every millisecond to every client.
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => {
      const outgoing = guardSends(ws, { softBytes: 16 * 1024, hardBytes: 256 * MB }, pino({ level: 'silent' }));
      keepAlive(ws, outgoing, { pingMs: 100, pongWaitMs: 100 });
      const frame = JSON.stringify({ id: 1, result: { type: 'data', data: 'f'.repeat(16 * 1024) } });
      const timer = setInterval(() => ws.send(frame), 1);
      ws.once('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  it('keeps a client that reads slowly and never answers PING (its PONG would wait behind the queue), and drops one that stopped reading', async () => {
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    const slow = await open();
    const stuck = await open();
    let slowClosed = false;
    slow.once('close', () => (slowClosed = true));
    const stuckClosed = new Promise<number>((r) => stuck.once('close', (code) => r(code)));
    stuck.pause();
    let received = 0;
    slow.on('message', () => received++);
    // Reads a little, then nothing for 3 ping periods, over and over: far behind, but reading.
    for (let i = 0; i < 10; i++) {
      slow.pause();
      await sleep(300);
      slow.resume();
      await sleep(30);
    }
    stuck.resume(); // to see the close
    expect(await stuckClosed).toBe(1006);
    expect(slowClosed).toBe(false);
    expect(received).toBeGreaterThan(0);
    slow.close();
  });
});

describe('slow-reader settings', () => {
  it('default to 1 MiB soft, 16 MiB hard, 50 calls a second in bursts of 100, and refuse a hard limit not above the soft one', () => {
    expect(loadConfig({})).toMatchObject({ wsSendLimits: { softBytes: MB, hardBytes: 16 * MB }, wsCallsPerSecond: 50, wsCallBurst: 100 });
    expect(() => loadConfig({ CHORUS_WS_SOFT_BUFFER_MB: '8', CHORUS_WS_HARD_BUFFER_MB: '4' })).toThrow(
      'Invalid configuration: CHORUS_WS_HARD_BUFFER_MB (4) must be larger than CHORUS_WS_SOFT_BUFFER_MB (8).',
    );
    expect(() => loadConfig({ CHORUS_WS_CALLS_PER_SECOND: 'lots' })).toThrow(/^Invalid configuration: CHORUS_WS_CALLS_PER_SECOND: /);
  });
});
