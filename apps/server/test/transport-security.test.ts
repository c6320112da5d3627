import { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { AuthService, type Identity } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import http from 'node:http';
import { SECURE_SESSION_COOKIE, clearedSessionCookie, cookiePathsFor, sessionCookie } from '../src/auth/cookies.ts';
import { clientAddress, credentialFromRequest, settleSessionCookies } from '../src/auth/request-identity.ts';
import { createOriginPolicy, isOriginAllowed, isWellFormedHost } from '../src/auth/request-origin.ts';
import { ROLE_CHANGED_CLOSE, SESSION_ENDED_CLOSE, SocketGuard } from '../src/ws/socket-guard.ts';
import { SIGN_IN_TIMEOUT_CLOSE } from '../src/ws/websocket-server.ts';
import { voicedWav } from './helpers/audio.ts';
import { addPerson, bearer, connectClient, signIn, startHarness, TEST_ADMIN, type Harness } from './support/harness.ts';

/** A real IncomingMessage (on an unconnected socket) with the given headers. */
function request(headers: Record<string, string>, encrypted = false): IncomingMessage {
  const socket = new Socket();
  if (encrypted) Object.assign(socket, { encrypted: true });
  const req = new IncomingMessage(socket);
  req.headers = headers;
  return req;
}

/** Close code and reason of a client socket once it closes, or null after `ms`. */
function closeOf(ws: WebSocket, ms: number): Promise<{ code: number; reason: string } | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

describe('origins must match exactly (scheme, host and port)', () => {
  const policy = createOriginPolicy({ publicUrl: 'https://chorus.example.com', extraHosts: [], extraOrigins: ['http://studio.example.com:80/'], trustProxy: false });
  const proxied = createOriginPolicy({ publicUrl: null, extraHosts: ['chorus.internal'], extraOrigins: [], trustProxy: true });

  it('accepts the origin the request was addressed to, with default ports compared right', () => {
    expect(isOriginAllowed('http://localhost:8765', request({ host: 'localhost:8765' }), policy)).toBe(true);
    expect(isOriginAllowed('http://localhost', request({ host: 'localhost:80' }), policy)).toBe(true);
    expect(isOriginAllowed('http://localhost:80', request({ host: 'localhost' }), policy)).toBe(true);
    expect(isOriginAllowed('https://localhost:443', request({ host: 'LOCALHOST' }, true), policy)).toBe(true);
    expect(isOriginAllowed('http://[::1]:8765', request({ host: '[::1]:8765' }), policy)).toBe(true);
  });
  it('refuses another port or scheme on the same host, and a host this server does not use', () => {
    expect(isOriginAllowed('http://localhost:3000', request({ host: 'localhost:8765' }), policy)).toBe(false);
    expect(isOriginAllowed('https://localhost:8765', request({ host: 'localhost:8765' }), policy)).toBe(false);
    expect(isOriginAllowed('http://127.0.0.1:8765', request({ host: 'localhost:8765' }), policy)).toBe(false);
    expect(isOriginAllowed('http://evil.example:8765', request({ host: 'evil.example:8765' }), policy)).toBe(false);
    expect(isOriginAllowed('null', request({ host: 'localhost:8765' }), policy)).toBe(false);
    expect(isOriginAllowed('chrome-extension://abc', request({ host: 'localhost:8765' }), policy)).toBe(false);
  });
  it('accepts the public URL and configured origins whatever the Host, normalised', () => {
    expect(isOriginAllowed('https://chorus.example.com', request({ host: '127.0.0.1:8765' }), policy)).toBe(true);
    expect(isOriginAllowed('http://studio.example.com', request({ host: '127.0.0.1:8765' }), policy)).toBe(true);
    expect(isOriginAllowed('https://chorus.example.com:8443', request({ host: '127.0.0.1:8765' }), policy)).toBe(false);
  });
  it('takes the scheme from X-Forwarded-Proto only behind a trusted proxy', () => {
    const req = request({ host: 'chorus.internal', 'x-forwarded-proto': 'https' });
    expect(isOriginAllowed('https://chorus.internal', req, proxied)).toBe(true);
    expect(isOriginAllowed('http://chorus.internal', req, proxied)).toBe(false);
    expect(isOriginAllowed('https://chorus.internal', request({ host: 'chorus.internal', 'x-forwarded-proto': 'https' }), { ...proxied, trustProxy: false })).toBe(false);
  });
});

describe('client address behind a trusted proxy', () => {
  it('is the right-most X-Forwarded-For entry (the one the proxy appended), not the client-chosen first one', () => {
    expect(clientAddress(request({ 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }), true)).toBe('203.0.113.7');
    expect(clientAddress(request({ 'x-forwarded-for': '203.0.113.7' }), true)).toBe('203.0.113.7');
    expect(clientAddress(request({ 'x-forwarded-for': '6.6.6.6,  203.0.113.7 , ' }), true)).toBe('203.0.113.7');
  });
  it('ignores X-Forwarded-For without a trusted proxy', () => {
    expect(clientAddress(request({ 'x-forwarded-for': '6.6.6.6' }), false)).toBeNull();
  });
});

describe('the Secure session cookie is a __Host- cookie', () => {
  it('is named __Host-chorus_session with Secure and Path=/ and no Domain', () => {
    const cookie = sessionCookie('T'.repeat(43), new Date(Date.now() + 60_000), true);
    expect(cookie.startsWith(`${SECURE_SESSION_COOKIE}=`)).toBe(true);
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/; Path=\/;/);
    expect(cookie).not.toMatch(/Domain/i);
    expect(sessionCookie('T'.repeat(43), new Date(), false).startsWith('chorus_session=')).toBe(true);
    expect(clearedSessionCookie(true).map((c) => c.split('=')[0])).toEqual([SECURE_SESSION_COOKIE, 'chorus_session']);
  });
});

describe('one session cookie per request (another app on this host can plant a second)', () => {
  const P = 'P'.repeat(43);
  const H = 'H'.repeat(43);
  it('never picks one of two session cookies, whichever names they have', () => {
    expect(credentialFromRequest(request({ cookie: `chorus_session=${P}; chorus_session=${H}` }))).toEqual({ kind: 'session', token: '' });
    expect(credentialFromRequest(request({ cookie: `chorus_session=${P}; ${SECURE_SESSION_COOKIE}=${H}` }))).toEqual({ kind: 'session', token: '' });
    expect(credentialFromRequest(request({ cookie: `other=1; chorus_session=${P}` }))).toEqual({ kind: 'session', token: P });
    expect(settleSessionCookies(request({ cookie: `chorus_session=${P}; chorus_session=${H}` }), false)).toBe('conflict');
    expect(settleSessionCookies(request({ cookie: `chorus_session=${P}; ${SECURE_SESSION_COOKIE}=${H}` }), false)).toBe('conflict');
    expect(settleSessionCookies(request({ cookie: `${SECURE_SESSION_COOKIE}=${P}; ${SECURE_SESSION_COOKIE}=${H}` }), true)).toBe('conflict');
  });
  it('over https counts only the __Host- cookie and drops plain ones from the request', () => {
    const both = request({ cookie: `chorus_session=${P}; a=b; ${SECURE_SESSION_COOKIE}=${H}` });
    expect(settleSessionCookies(both, true)).toBe('ok');
    expect(credentialFromRequest(both)).toEqual({ kind: 'session', token: H });
    const plainOnly = request({ cookie: `chorus_session=${P}` });
    expect(settleSessionCookies(plainOnly, true)).toBe('ok');
    expect(credentialFromRequest(plainOnly)).toBeNull();
  });
  it('clears cookies at every Path that could have sent one to the request', () => {
    expect(cookiePathsFor('/trpc/auth.me')).toEqual(['/', '/trpc', '/trpc/', '/trpc/auth.me']);
    expect(cookiePathsFor('/')).toEqual(['/']);
    expect(cookiePathsFor('/a;b')).toEqual(['/']);
  });
});

describe('the Host header must be host[:port]', () => {
  it('accepts names, IPv4 and [IPv6] with optional ports; refuses userinfo, paths and spaces', () => {
    for (const ok of ['localhost', 'localhost:8765', '127.0.0.1:80', '[::1]:8765', '[::1]', 'chorus.example.com', 'host_name.internal:1']) expect(isWellFormedHost(ok), ok).toBe(true);
    for (const bad of ['evil.com@localhost:8765', 'localhost/x', 'localhost\\x', 'localhost?x', 'localhost#x', 'local host', 'localhost:99999', 'localhost:', '[::1', 'localhost:80:80', '::1']) expect(isWellFormedHost(bad), bad).toBe(false);
  });
});

/** Status and body of a request sent with exactly these headers (fetch cannot set Host). */
function rawRequest(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status, body and Set-Cookie headers of a WebSocket upgrade, or 'open'. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; setCookie: string[] } | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => (ws.close(), resolve('open')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    ws.once('error', () => undefined);
  });
}

describe('transport security against a running server', () => {
  let h: Harness;
  let cookie: string;
  let wsUrl: string;
  let otherPort: string;
  beforeAll(async () => {
    h = await startHarness({ CHORUS_WS_AUTH_TIMEOUT_MS: '400', CHORUS_WS_AUTH_RECHECK_MS: '60000' });
    cookie = await signIn(h.url, TEST_ADMIN.email, TEST_ADMIN.password);
    wsUrl = h.url.replace('http', 'ws') + '/trpc';
    otherPort = String(h.chorus.port === 3000 ? 3001 : 3000);
  });
  afterAll(async () => h?.stop());

  it('answers a subscription over HTTP (server-sent events) with a 405 instead of an event stream', async () => {
    const member = await addPerson(h, 'member');
    const calls: Array<[string, Record<string, string>]> = [
      ['job.onChange', { cookie }],
      ['job.onChange', bearer(member.token)],
      ['failures.onFailure', { cookie }],
      [`job.events?input=${encodeURIComponent(JSON.stringify({ id: 'job_aaaaaaaaaaaaaaaaaaaaaaaaaa' }))}`, { cookie }],
      ['job%2EonChange', { cookie }],
    ];
    for (const [path, headers] of calls) {
      const abort = new AbortController();
      try {
        const res = await fetch(`${h.url}/trpc/${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
        expect(res.status, path).toBe(405);
        expect(res.headers.get('content-type'), path).not.toMatch(/event-stream/);
        expect(await res.json(), path).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED', message: expect.stringMatching(/ is a subscription: subscribe over the WebSocket at \/trpc/) } });
      } finally {
        abort.abort();
      }
    }
    // Queries still work over HTTP.
    expect((await fetch(`${h.url}/trpc/auth.me`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses another port’s origin on the same host (WebSocket upgrade, mutation, upload) even with an admin cookie', async () => {
    const foreign = `http://localhost:${otherPort}`;
    const upgrade = await new Promise<number | 'open'>((resolve) => {
      const ws = new WebSocket(wsUrl, { origin: foreign, headers: { cookie } });
      ws.once('open', () => (ws.close(), resolve('open')));
      ws.once('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
      ws.once('error', () => undefined);
    });
    expect(upgrade).toBe(403);
    const mutation = await fetch(`${h.url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', origin: foreign, 'sec-fetch-site': 'same-site', cookie }, body: JSON.stringify({ name: 'from another app' }) });
    expect(mutation.status).toBe(403);
    expect(await mutation.json()).toMatchObject({ error: { code: 'CROSS_SITE', message: expect.stringContaining(`Origin ${foreign} is not allowed`) } });
    const upload = await fetch(`${h.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'audio/wav', origin: foreign, cookie }, body: voicedWav({ sampleRate: 24000, seconds: 3, f0: 140 }) });
    expect(upload.status).toBe(403);
    // The wrong scheme on the right host and port is another origin too.
    const https = await fetch(`${h.url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', origin: h.url.replace('http:', 'https:'), cookie }, body: JSON.stringify({ name: 'x' }) });
    expect(https.status).toBe(403);
    // The page's own origin still works.
    const own = await fetch(`${h.url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', origin: h.url, 'sec-fetch-site': 'same-origin', cookie }, body: JSON.stringify({ name: 'from the page', currentPassword: TEST_ADMIN.password }) });
    expect(own.status).toBe(200);
    const ws = new WebSocket(wsUrl, { origin: h.url, headers: { cookie } });
    await opened(ws);
    ws.close();
  });

  it('closes a ?connectionParams=1 socket that sends no credential in time, and keeps one that signed in', async () => {
    const silent = new WebSocket(`${wsUrl}?connectionParams=1`, { origin: h.url });
    await opened(silent);
    const closed = await closeOf(silent, 3000);
    expect(closed).toEqual({ code: SIGN_IN_TIMEOUT_CLOSE, reason: expect.stringMatching(/No sign-in within 400 ms: send \{ token \} in connectionParams first/) });

    const client = connectClient(h.url, h.token);
    try {
      let started = false;
      const sub = client.trpc.job.onChange.subscribe(undefined, { onStarted: () => (started = true), onData: () => undefined });
      while (!started) await new Promise((r) => setTimeout(r, 20));
      const ws = client.ws.connection!.ws!;
      await new Promise((r) => setTimeout(r, 1000));
      expect(ws.readyState).toBe(WebSocket.OPEN);
      sub.unsubscribe();
    } finally {
      client.close();
    }
  });

  it('closes an admin’s socket with 4403 within 5 s of a demotion; the client reconnects and its admin-only subscription is refused', async () => {
    const person = await addPerson(h, 'admin');
    const admin = connectClient(h.url, h.token);
    const client = connectClient(h.url, person.token);
    try {
      let started = false;
      let refused: string | null = null;
      const sub = client.trpc.failures.onFailure.subscribe(undefined, { onStarted: () => (started = true), onData: () => undefined, onError: (err) => (refused = err.data?.code ?? err.message) });
      while (!started) await new Promise((r) => setTimeout(r, 20));
      const closed = new Promise<{ code: number; at: number }>((resolve) => client.ws.connection!.ws!.addEventListener('close', (e) => resolve({ code: e.code, at: Date.now() })));
      const before = Date.now();
      await admin.trpc.members.setRole.mutate({ userId: person.id, role: 'member' });
      const at = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(at).not.toBeNull();
      expect(at!.code).toBe(ROLE_CHANGED_CLOSE);
      expect(at!.at - before).toBeLessThan(5000);
      // wsLink reconnects by itself and resubscribes: now as a member, who may not watch failures.
      const deadline = Date.now() + 5000;
      while (refused === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(refused).toBe('FORBIDDEN');
      sub.unsubscribe();
    } finally {
      client.close();
      admin.close();
    }
  });

  it('a member demoted to viewer keeps a viewer subscription after the reconnect', async () => {
    const person = await addPerson(h, 'member');
    const admin = connectClient(h.url, h.token);
    const client = connectClient(h.url, person.token);
    try {
      let starts = 0;
      let failed = false;
      const sub = client.trpc.job.onChange.subscribe(undefined, { onStarted: () => starts++, onData: () => undefined, onError: () => (failed = true) });
      while (starts === 0) await new Promise((r) => setTimeout(r, 20));
      const closed = new Promise<number>((resolve) => client.ws.connection!.ws!.addEventListener('close', (e) => resolve(e.code)));
      await admin.trpc.members.setRole.mutate({ userId: person.id, role: 'viewer' });
      expect(await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))])).toBe(ROLE_CHANGED_CLOSE);
      const deadline = Date.now() + 5000;
      while (starts < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(starts).toBe(2);
      expect(failed).toBe(false);
      sub.unsubscribe();
    } finally {
      client.close();
      admin.close();
    }
  });

  it('refuses a request or upgrade with two session cookies (401, cookies cleared at every path), instead of answering as the first', async () => {
    const viewer = await addPerson(h, 'viewer');
    const shadowed = `${viewer.cookie}; ${cookie}`;
    const me = await fetch(`${h.url}/trpc/auth.me`, { headers: { cookie: shadowed } });
    expect(me.status).toBe(401);
    expect(await me.json()).toMatchObject({ error: { message: 'Two session cookies came with this request; sign in again.', data: { code: 'UNAUTHORIZED' } } });
    const cleared = me.headers.getSetCookie();
    for (const path of ['/', '/trpc', '/trpc/', '/trpc/auth.me']) expect(cleared).toContainEqual(expect.stringMatching(new RegExp(`^chorus_session=; Path=${path.replace(/[/.]/g, '\\$&')}; .*Max-Age=0`)));
    const upload = await fetch(`${h.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'audio/wav', cookie: shadowed }, body: voicedWav({ sampleRate: 24000, seconds: 3, f0: 140 }) });
    expect(upload.status).toBe(401);
    expect(await upload.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Two session cookies came with this request; sign in again.' } });
    const ws = await upgrade(wsUrl, { origin: h.url, cookie: shadowed });
    expect(ws).toMatchObject({ status: 401, body: expect.stringContaining('Two session cookies came with this request; sign in again.') });
    expect(ws !== 'open' && ws.setCookie).toContainEqual(expect.stringMatching(/^chorus_session=; Path=\/trpc; .*Max-Age=0/));
    // Either cookie alone still works.
    expect(await (await fetch(`${h.url}/trpc/auth.me`, { headers: { cookie: viewer.cookie } })).json()).toMatchObject({ result: { data: { id: viewer.id } } });
    expect((await fetch(`${h.url}/trpc/auth.me`, { headers: { cookie } })).status).toBe(200);
  });

  it('answers a malformed Host header with 400 before anything else (HTTP and the WebSocket upgrade)', async () => {
    const host = `evil.com@localhost:${h.chorus.port}`;
    for (const path of ['/trpc/auth.me', '/healthz', '/']) {
      const res = await rawRequest(`${h.url}${path}`, { host, cookie });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body), path).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^Malformed Host header/) } });
    }
    expect(await upgrade(wsUrl, { host, origin: h.url, cookie })).toMatchObject({ status: 400, body: expect.stringMatching(/^Malformed Host header/) });
  });

  it('serves the __Host- cookie when cookies are Secure, and reads it back', async () => {
    const secure = await startHarness({ CHORUS_SECURE_COOKIES: 'true' });
    try {
      const login = await fetch(`${secure.url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }) });
      expect(login.status).toBe(200);
      const set = login.headers.getSetCookie();
      expect(set.some((c) => c.startsWith('chorus_session='))).toBe(false);
      const session = set.find((c) => c.startsWith(`${SECURE_SESSION_COOKIE}=`))!;
      expect(session).toMatch(/; Secure/);
      const sent = session.split(';')[0]!;
      expect((await fetch(`${secure.url}/trpc/auth.me`, { headers: { cookie: sent } })).status).toBe(200);
      const ws = new WebSocket(secure.url.replace('http', 'ws') + '/trpc', { origin: secure.url, headers: { cookie: sent } });
      await opened(ws);
      ws.close();
      // Only the __Host- name counts: a plain cookie (another app on this host may have planted it) is ignored, alone or beside it.
      const plain = `chorus_session=${sent.split('=')[1]}`;
      expect((await fetch(`${secure.url}/trpc/auth.me`, { headers: { cookie: plain } })).status).toBe(401);
      expect(await upgrade(secure.url.replace('http', 'ws') + '/trpc', { origin: secure.url, cookie: plain })).toMatchObject({ status: 401 });
      const viewer = await addPerson(secure, 'viewer');
      const planted = `${viewer.cookie.replace(SECURE_SESSION_COOKIE, 'chorus_session')}; ${sent}`;
      expect(await (await fetch(`${secure.url}/trpc/auth.me`, { headers: { cookie: planted } })).json()).toMatchObject({ result: { data: { email: TEST_ADMIN.email } } });
      expect(await upgrade(secure.url.replace('http', 'ws') + '/trpc', { origin: secure.url, cookie: planted })).toBe('open');
      // Two __Host- cookies are refused like two plain ones.
      const twoHost = await fetch(`${secure.url}/trpc/auth.me`, { headers: { cookie: `${viewer.cookie}; ${sent}` } });
      expect(twoHost.status).toBe(401);
      expect(twoHost.headers.getSetCookie()).toContainEqual(expect.stringMatching(/^__Host-chorus_session=; Path=\/; .*Secure/));
    } finally {
      await secure.stop();
    }
  });
});

describe('SocketGuard', () => {
  let h: Harness;
  let db: Db;
  let wss: WebSocketServer;
  beforeAll(async () => {
    h = await startHarness();
    db = await openDb(h.databaseUrl);
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
  });
  afterAll(async () => {
    wss?.close();
    await db?.$disconnect();
    await h?.stop();
  });

  /** A real socket pair: the server side is what the guard tracks, the client side sees the close code. */
  async function socketPair(): Promise<{ server: WebSocket; client: WebSocket }> {
    const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await opened(client);
    return { server: await serverSide, client };
  }

  it('runs another check right after one that a revocation interrupted, instead of waiting for the timer', async () => {
    const auth = new AuthService(db);
    const a = await addPerson(h, 'member');
    const b = await addPerson(h, 'member');
    const idA = (await auth.resolve({ kind: 'token', token: a.token })) as Identity;
    const idB = (await auth.resolve({ kind: 'token', token: b.token })) as Identity;
    // The first check reads the database, then waits on this gate, so b's revocation lands mid-check.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const real = auth.invalidCredentials.bind(auth);
    let calls = 0;
    auth.invalidCredentials = async (sessions, tokens) => {
      const result = await real(sessions, tokens);
      if (++calls === 1) await gate;
      return result;
    };
    const guard = new SocketGuard(auth, 60_000, pino({ level: 'silent' }));
    try {
      const pa = await socketPair();
      const pb = await socketPair();
      guard.track(pa.server, idA);
      guard.track(pb.server, idB);
      const first = guard.check();
      while (calls === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      const closedB = closeOf(pb.client, 3000);
      expect(await auth.revokeToken(b.id, idB.credentialId)).toBe(true); // emits 'revoked' while the first check runs
      release();
      await first;
      expect(await closedB).toMatchObject({ code: SESSION_ENDED_CLOSE });
      expect(pa.client.readyState).toBe(WebSocket.OPEN);
      pa.client.close();
    } finally {
      guard.close();
    }
  });
});
