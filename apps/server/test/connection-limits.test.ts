import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TOO_MANY_CALLS_CLOSE } from '../src/ws/socket-limits.ts';
import { rawTrpcSocket as rawSocket, type Frame } from './support/raw-trpc-socket.ts';
import { bearer, signIn, startHarness, TEST_ADMIN, uploadReference, type Harness } from './support/harness.ts';

const listCall = (id: number) => ({ id, method: 'query', params: { path: 'job.list', input: { limit: 100 } } });
const subscribeCall = (id: number) => ({ id, method: 'subscription', params: { path: 'job.onChange', input: undefined } });
const ids = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const framesFor = (frames: Frame[], id: number): Frame[] => frames.filter((f) => f.id === id);
const answered = (frames: Frame[], id: number): boolean => framesFor(frames, id).some((f) => f.result?.type === 'data' || f.error);

/** The status and body of a refused WebSocket upgrade, or 'open'. */
function upgradeOutcome(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string } | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => undefined);
  });
}

describe('limits on calls per request and per WebSocket', () => {
  let h: Harness;
  let origin: string;
  beforeAll(async () => {
    h = await startHarness();
    origin = h.url;
  });
  afterAll(async () => h?.stop());

  it('answers a 21-call HTTP batch with 400 naming the limit, before running any of it; 20 calls run', async () => {
    const batch = (n: number, path = 'auth.me'): string => `${h.url}/trpc/${Array(n).fill(path).join(',')}?batch=1&input=${encodeURIComponent('{}')}`;
    const tooMany = await fetch(batch(21), { headers: bearer(h.token) });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: { message: expect.stringMatching(/^At most 20 calls per batch; this one has 21\./), data: { code: 'BAD_REQUEST' } } });
    const twenty = await fetch(batch(20), { headers: bearer(h.token) });
    expect(twenty.status).toBe(200);
    expect(((await twenty.json()) as unknown[]).length).toBe(20);

    // A mutation batch: not one of the 21 tokens is made.
    const cookie = await signIn(h.url, TEST_ADMIN.email, TEST_ADMIN.password);
    const tokens = async (): Promise<number> => ((await (await fetch(`${h.url}/trpc/auth.tokens`, { headers: bearer(h.token) })).json()) as { result: { data: unknown[] } }).result.data.length;
    const before = await tokens();
    const inputs = Object.fromEntries(ids(0, 20).map((i) => [i, { name: `batch ${i}`, currentPassword: TEST_ADMIN.password }]));
    const minted = await fetch(`${h.url}/trpc/${Array(21).fill('auth.createToken').join(',')}?batch=1`, { method: 'POST', headers: { 'content-type': 'application/json', origin, cookie }, body: JSON.stringify(inputs) });
    expect(minted.status).toBe(400);
    expect(await tokens()).toBe(before);
  });

  it('refuses a 500-call WebSocket message at once (close 1008) while /healthz answers fast', async () => {
    const s = await rawSocket(h.url, h.token);
    const started = Date.now();
    s.send(ids(1, 500).map(listCall));
    const health = fetch(`${h.url}/healthz`).then((r) => ({ status: r.status, ms: Date.now() - started }));
    const closed = await Promise.race([s.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    expect(closed).toEqual({ code: TOO_MANY_CALLS_CLOSE, reason: 'At most 20 calls per WebSocket message; this one has 500.' });
    expect(Date.now() - started).toBeLessThan(1000);
    const healthz = await health;
    expect(healthz.status).toBe(200);
    expect(healthz.ms).toBeLessThan(1000);
    expect(s.frames.filter((f) => f.result)).toEqual([]);
  });

  it('answers a 21-call WebSocket message with an error per call and runs none of it; a 20-call message runs', async () => {
    const s = await rawSocket(h.url, h.token);
    try {
      s.send(ids(1, 21).map(listCall));
      await s.until((frames) => ids(1, 21).every((id) => answered(frames, id)));
      for (const id of ids(1, 21)) {
        expect(framesFor(s.frames, id)).toEqual([
          expect.objectContaining({ error: expect.objectContaining({ message: 'At most 20 calls per WebSocket message; this one has 21.', data: expect.objectContaining({ code: 'BAD_REQUEST', path: 'job.list' }) }) }),
        ]);
      }
      s.send(ids(31, 50).map(listCall));
      await s.until((frames) => ids(31, 50).every((id) => answered(frames, id)));
      expect(ids(31, 50).every((id) => framesFor(s.frames, id)[0]?.result?.type === 'data')).toBe(true);
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      s.ws.close();
    }
  });

  it('refuses the 51st subscription on a socket while the first 50 still stream; a stopped one frees its place', async () => {
    const s = await rawSocket(h.url, h.token);
    try {
      s.send(ids(1, 20).map(subscribeCall));
      s.send(ids(21, 40).map(subscribeCall));
      s.send(ids(41, 50).map(subscribeCall));
      await s.until((frames) => ids(1, 50).every((id) => framesFor(frames, id).some((f) => f.result?.type === 'started')));
      s.send(subscribeCall(51));
      await s.until((frames) => framesFor(frames, 51).length > 0);
      expect(framesFor(s.frames, 51)).toEqual([expect.objectContaining({ error: expect.objectContaining({ message: 'At most 50 subscriptions per WebSocket; stop one before starting another.', data: expect.objectContaining({ code: 'TOO_MANY_REQUESTS' }) }) })]);

      // A job change reaches all 50.
      const upload = await uploadReference(h.url, h.token);
      const created = await fetch(`${h.url}/trpc/job.create`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(h.token) }, body: JSON.stringify({ mode: 'cross_lingual', text: 'Fifty listeners.', promptUploadId: upload.id }) });
      expect(created.status).toBe(200);
      await s.until((frames) => ids(1, 50).every((id) => framesFor(frames, id).some((f) => f.result?.type === 'data')));

      s.send({ id: 1, method: 'subscription.stop' });
      await s.until((frames) => framesFor(frames, 1).some((f) => f.result?.type === 'stopped'));
      s.send(subscribeCall(52));
      await s.until((frames) => framesFor(frames, 52).some((f) => f.result?.type === 'started'));
    } finally {
      s.ws.close();
    }
  });

  it('refuses a query while 20 on the socket are unanswered, and takes it once they are answered', async () => {
    const s = await rawSocket(h.url, h.token);
    try {
      s.send(ids(101, 120).map(listCall));
      s.send(listCall(121));
      await s.until((frames) => ids(101, 121).every((id) => answered(frames, id)));
      expect(framesFor(s.frames, 121)).toEqual([
        expect.objectContaining({ error: expect.objectContaining({ message: 'At most 20 unanswered queries and mutations per WebSocket; wait for an answer before sending more.', data: expect.objectContaining({ code: 'TOO_MANY_REQUESTS' }) }) }),
      ]);
      expect(ids(101, 120).every((id) => framesFor(s.frames, id)[0]?.result?.type === 'data')).toBe(true);
      s.send(listCall(122));
      await s.until((frames) => answered(frames, 122));
      expect(framesFor(s.frames, 122)[0]?.result?.type).toBe('data');
    } finally {
      s.ws.close();
    }
  });

  it('refuses a 21st socket from one address that announced connectionParams and has not signed in, with 429', async () => {
    const url = `${h.url.replace('http', 'ws')}/trpc?connectionParams=1`;
    const waiting: WebSocket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const ws = new WebSocket(url, { origin });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        waiting.push(ws);
      }
      const refused = await upgradeOutcome(url, { origin });
      expect(refused).toEqual({ status: 429, body: expect.stringContaining('Too many WebSockets from your address are waiting to sign in (at most 20)') });
      // A socket that signs in no longer counts.
      waiting[0]!.send(JSON.stringify({ method: 'connectionParams', data: { token: h.token } }));
      await new Promise((r) => setTimeout(r, 200));
      const next = new WebSocket(url, { origin });
      await new Promise<void>((resolve, reject) => {
        next.once('open', () => resolve());
        next.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      });
      waiting.push(next);
    } finally {
      for (const ws of waiting) ws.close();
    }
  });
});
