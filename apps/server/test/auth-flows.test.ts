import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { openDb, type Db } from '@chorus/db';
import { TRPCClientError } from '@trpc/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startChorus, type RunningChorus } from '../src/index.ts';
import { addPerson, bearer, collectEvents, connectClient, issueToken, signIn, TEST_ADMIN, uploadReference, useChorus, LONG_TEXT } from './support/harness.ts';

const errorOf = async (p: Promise<unknown>): Promise<{ code?: string; message: string }> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  const e = err as { data?: { code?: string }; message: string };
  return { code: e.data?.code, message: e.message };
};

const post = (url: string, procedure: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/trpc/${procedure}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('first start: the setup link', () => {
  let chorus: RunningChorus;
  let dir: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-setup-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${path.join(dir, 'c.db')}`, CHORUS_DATA_DIR: path.join(dir, 'data'), CHORUS_SHUTDOWN_GRACE_MS: '0' });
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    chorus = await startChorus(config, pino({ level: 'info' }, sink));
  });
  afterAll(async () => {
    await chorus?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers every API call but setup and health with 401 saying how to finish setup, then the logged link creates the admin once', async () => {
    const setupLine = lines.find((l) => l.includes('/#/setup?token='));
    expect(setupLine).toBeDefined();
    const token = /#\/setup\?token=([A-Za-z0-9_-]+)/.exec(setupLine!)![1]!;

    expect((await fetch(`${chorus.url}/healthz`)).status).toBe(200);
    const status = await (await fetch(`${chorus.url}/trpc/auth.status`)).json();
    expect(status).toMatchObject({ result: { data: { ready: false, user: null } } });
    for (const res of [
      await fetch(`${chorus.url}/trpc/job.list`),
      await fetch(`${chorus.url}/trpc/engine.list`),
      await fetch(`${chorus.url}/api/uploads`, { method: 'POST', body: 'x' }),
      await fetch(`${chorus.url}/api/jobs/job_00000000000000000000000000/audio`),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(/not set up yet: open the one-time setup link/);
    }

    const bad = await post(chorus.url, 'auth.setup', { setupToken: 'A'.repeat(43), email: 'boss@chorus.test', name: 'Boss', password: 'a good long password' });
    expect(bad.status).toBe(401);
    const weak = await post(chorus.url, 'auth.setup', { setupToken: token, email: 'boss@chorus.test', name: 'Boss', password: 'short' });
    expect(weak.status).toBe(400);
    expect(await weak.text()).toMatch(/Password is too short\. A password has 10 to 200 characters/);

    const ok = await post(chorus.url, 'auth.setup', { setupToken: token, email: 'Boss@Chorus.test', name: 'Boss', password: 'a good long password' });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('chorus_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const me = await (await fetch(`${chorus.url}/trpc/auth.me`, { headers: { cookie: cookie.split(';')[0]! } })).json();
    expect(me).toMatchObject({ result: { data: { email: 'boss@chorus.test', role: 'admin' } } });

    const again = await post(chorus.url, 'auth.setup', { setupToken: token, email: 'other@chorus.test', name: 'Other', password: 'a good long password' });
    expect(again.status).toBe(412);
  });
});

describe('sign-in, sessions, tokens and members', () => {
  const chorus = useChorus({ CHORUS_WS_AUTH_RECHECK_MS: '500' });
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  it('gives one message for an unknown email and a wrong password, and rate-limits failures with 429 and Retry-After', async () => {
    const unknown = await post(chorus.h.url, 'auth.login', { email: 'nobody@chorus.test', password: 'whatever password' });
    const wrong = await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: 'not the password' });
    expect([unknown.status, wrong.status]).toEqual([401, 401]);
    const [a, b] = [(await unknown.json()) as { error: { message: string } }, (await wrong.json()) as { error: { message: string } }];
    expect(a.error.message).toBe('Wrong email or password.');
    expect(b.error.message).toBe(a.error.message);

    const target = await addPerson(chorus.h, 'member');
    let last: Response | null = null;
    for (let i = 0; i < 6; i++) last = await post(chorus.h.url, 'auth.login', { email: target.email, password: 'wrong password!' });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await last!.text()).toMatch(/Too many failed sign-ins; try again in \d+ s/);
    // Even the right password waits until the window passes.
    expect((await post(chorus.h.url, 'auth.login', { email: target.email, password: target.password })).status).toBe(429);
    const audit = await chorus.client.trpc.audit.list.query({ action: 'auth.login_failed' });
    expect(audit.items.some((e) => e.actorEmail === 'nobody@chorus.test')).toBe(true);
  });

  it('issues a new token at every sign-in, ends idle and expired sessions, and lets people revoke their own', async () => {
    const person = await addPerson(chorus.h, 'viewer');
    const second = await signIn(chorus.h.url, person.email, person.password);
    expect(second).not.toBe(person.cookie);
    const me = (cookie: string): Promise<number> => fetch(`${chorus.h.url}/trpc/auth.me`, { headers: { cookie } }).then((r) => r.status);
    expect(await me(second)).toBe(200);

    const sessions = connectClient(chorus.h.url, person.token);
    try {
      // Only the hash of a cookie's token is stored: that is how a test finds its row.
      const sessionIds = new Map<string, string>();
      for (const cookie of [person.cookie, second]) {
        const row = await db.session.findUniqueOrThrow({ where: { tokenHash: createHash('sha256').update(cookie.split('=')[1]!).digest('hex') } });
        sessionIds.set(cookie, row.id);
      }
      const idOf = (cookie: string): string => sessionIds.get(cookie)!;
      expect((await sessions.trpc.auth.sessions.query()).map((s) => s.id)).toEqual(expect.arrayContaining([idOf(person.cookie), idOf(second)]));
      await db.session.update({ where: { id: idOf(person.cookie) }, data: { lastSeenAt: new Date(Date.now() - 8 * 24 * 3600_000) } });
      await db.session.update({ where: { id: idOf(second) }, data: { expiresAt: new Date(Date.now() - 1000) } });
      expect(await Promise.all([me(person.cookie), me(second)])).toEqual([401, 401]);
      expect((await sessions.trpc.auth.sessions.query()).map((s) => s.id)).not.toContain(idOf(second));

      const fresh = await signIn(chorus.h.url, person.email, person.password);
      const freshRow = await db.session.findUniqueOrThrow({ where: { tokenHash: createHash('sha256').update(fresh.split('=')[1]!).digest('hex') } });
      expect(await me(fresh)).toBe(200);
      await sessions.trpc.auth.revokeSession.mutate({ sessionId: freshRow.id });
      expect(await me(fresh)).toBe(401);
    } finally {
      sessions.close();
    }
  });

  it('shows a token once, stores it hashed, records its last use, and refuses it after revocation or expiry with 401', async () => {
    const person = await addPerson(chorus.h, 'member');
    const client = connectClient(chorus.h.url, person.token);
    try {
      const created = await client.trpc.auth.createToken.mutate({ name: 'script', expiresInDays: 30, currentPassword: person.password });
      expect(created.token).toMatch(/^chorus_pat_/);
      const row = await db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
      expect(row.tokenHash).not.toContain(created.token);
      expect(JSON.stringify(await client.trpc.auth.tokens.query())).not.toContain(created.token);
      expect(row.lastUsedAt).toBeNull();
      expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: bearer(created.token) })).status).toBe(200);
      expect((await db.apiToken.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt).not.toBeNull();

      await client.trpc.auth.revokeToken.mutate({ tokenId: created.id });
      for (const authorization of [`Bearer ${created.token}`, 'Bearer chorus_pat_not-a-real-one', 'Bearer', 'Basic abc', `Bearer ${'\u00e9'.repeat(5)}`]) {
        const res = await fetch(`${chorus.h.url}/trpc/job.list`, { headers: { authorization } });
        expect([authorization, res.status]).toEqual([authorization, 401]);
      }
      const expiring = await client.trpc.auth.createToken.mutate({ name: 'short-lived', expiresInDays: 1, currentPassword: person.password });
      await db.apiToken.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1) } });
      expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: bearer(expiring.token) })).status).toBe(401);

      // An admin sees anyone's tokens (never the secrets) and can revoke them.
      const theirs = await chorus.client.trpc.members.tokens.query({ userId: person.id });
      expect(JSON.stringify(theirs)).not.toContain(person.token);
      const live = await client.trpc.auth.createToken.mutate({ name: 'to be revoked by an admin', currentPassword: person.password });
      await chorus.client.trpc.members.revokeToken.mutate({ tokenId: live.id });
      expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: bearer(live.token) })).status).toBe(401);
    } finally {
      client.close();
    }
  });

  it('deactivation stops sessions and tokens at once and ends open subscriptions within 5 s', async () => {
    const person = await addPerson(chorus.h, 'member');
    const client = connectClient(chorus.h.url, person.token);
    const upload = (await uploadReference(chorus.h.url, person.token)).id;
    const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: upload });
    let ended: number | null = null;
    const sub = client.trpc.job.onChange.subscribe(undefined, { onData: () => undefined, onError: () => (ended = Date.now()), onComplete: () => (ended = Date.now()) });
    const events = collectEvents(client, job.id);
    events.done.catch(() => undefined);
    // The subscription's socket is open (its first events arrived).
    while (events.events.length === 0) await new Promise((r) => setTimeout(r, 20));
    const sockets = () => [...(client.ws.connection ? [client.ws.connection] : [])];
    expect(sockets()).toHaveLength(1);
    const closed = new Promise<number>((resolve) => client.ws.connection!.ws!.addEventListener('close', () => resolve(Date.now())));

    const before = Date.now();
    await chorus.client.trpc.members.deactivate.mutate({ userId: person.id });
    expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: { cookie: person.cookie } })).status).toBe(401);
    expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: bearer(person.token) })).status).toBe(401);
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    expect(at).toBeGreaterThan(0);
    expect(at - before).toBeLessThan(5000);
    sub.unsubscribe();
    client.close();
    void ended;
    // Deactivated people cannot sign in either, with the same message as a wrong password.
    const login = await post(chorus.h.url, 'auth.login', { email: person.email, password: person.password });
    expect(login.status).toBe(401);
    expect(await login.text()).toContain('Wrong email or password.');
    const audit = await chorus.client.trpc.audit.list.query({ action: 'member.deactivated' });
    expect(audit.items[0]).toMatchObject({ targetId: person.id, actorEmail: TEST_ADMIN.email });
  });

  it('refuses to demote or deactivate the last admin, and says why', async () => {
    const [me] = (await chorus.client.trpc.members.list.query()).filter((m) => m.email === TEST_ADMIN.email);
    // Made one at a time: a second call started early could be refused before anything awaits it (an unhandled rejection).
    for (const call of [() => chorus.client.trpc.members.setRole.mutate({ userId: me!.id, role: 'member' }), () => chorus.client.trpc.members.deactivate.mutate({ userId: me!.id })]) {
      const err = await errorOf(call());
      expect(err.code).toBe('PRECONDITION_FAILED');
      expect(err.message).toMatch(/they are the last active admin\. Make another member an admin first/);
    }
    expect((await chorus.client.trpc.members.list.query()).find((m) => m.id === me!.id)).toMatchObject({ role: 'admin', active: true });
  });

  it('invites are single-use and expire; a taken email, a weak password and a wrong current password get clear errors', async () => {
    const invite = await chorus.client.trpc.members.createInvite.mutate({ role: 'member' });
    const accept = (body: Record<string, unknown>) => post(chorus.h.url, 'auth.acceptInvite', { inviteToken: invite.token, name: 'Newbie', password: 'a long enough password', ...body });
    const weak = await accept({ email: 'newbie@chorus.test', password: 'short' });
    expect(await weak.text()).toMatch(/A password has 10 to 200 characters/);
    const taken = await accept({ email: TEST_ADMIN.email });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toMatch(/already in use/);
    expect((await accept({ email: 'newbie@chorus.test' })).status).toBe(200);
    const reused = await accept({ email: 'newbie2@chorus.test' });
    expect(reused.status).toBe(412);
    expect(await reused.text()).toMatch(/already been used/);
    expect(await db.user.count({ where: { email: 'newbie2@chorus.test' } })).toBe(0);

    const old = await chorus.client.trpc.members.createInvite.mutate({ role: 'viewer', expiresInHours: 1 });
    await db.invite.update({ where: { id: old.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await post(chorus.h.url, 'auth.acceptInvite', { inviteToken: old.token, email: 'late@chorus.test', name: 'Late', password: 'a long enough password' });
    expect(expired.status).toBe(412);
    expect(await expired.text()).toMatch(/expired on/);

    const person = await addPerson(chorus.h, 'viewer');
    const client = connectClient(chorus.h.url, person.token);
    try {
      const wrong = await errorOf(client.trpc.auth.changePassword.mutate({ currentPassword: 'nope nope nope', newPassword: 'another good password' }));
      expect(wrong.message).toMatch(/current password is wrong/);
      await client.trpc.auth.changePassword.mutate({ currentPassword: person.password, newPassword: 'another good password' });
      expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: { cookie: person.cookie } })).status).toBe(401);
      expect(await signIn(chorus.h.url, person.email, 'another good password')).toMatch(/^chorus_session=/);
    } finally {
      client.close();
    }
  });

  it('a viewer calling a mutation gets 403 naming the role needed; a member deleting another’s job gets 403', async () => {
    const viewer = await addPerson(chorus.h, 'viewer');
    const member = await addPerson(chorus.h, 'member');
    const asViewer = connectClient(chorus.h.url, viewer.token);
    const asMember = connectClient(chorus.h.url, member.token);
    try {
      const err = await errorOf(asViewer.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Hi.', promptUploadId: chorus.uploadId }));
      expect(err).toEqual({ code: 'FORBIDDEN', message: 'This needs the member role or higher; you are a viewer.' });
      const job = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'The admin’s.', promptUploadId: chorus.uploadId });
      await collectEvents(chorus.client, job.id).done;
      const denied = await errorOf(asMember.trpc.job.delete.mutate({ id: job.id }));
      expect(denied).toEqual({ code: 'FORBIDDEN', message: `Only the person who created job "${job.id}" or an admin may delete it.` });
      expect(await db.job.count({ where: { id: job.id } })).toBe(1);
      // …but may re-run it as a job of their own.
      const rerun = await asMember.trpc.job.rerun.mutate({ id: job.id });
      expect((await db.job.findUniqueOrThrow({ where: { id: rerun.id } })).createdById).toBe(member.id);
    } finally {
      asViewer.close();
      asMember.close();
    }
  });

  it('limits jobs per minute and uploads per member with a clear 429', async () => {
    const member = await addPerson(chorus.h, 'member');
    const client = connectClient(chorus.h.url, member.token);
    try {
      await chorus.client.trpc.settings.update.mutate({ jobsPerMinute: 3, uploadsPerHour: 2 });
      const upload = (await uploadReference(chorus.h.url, member.token, (await import('./helpers/audio.ts')).voicedWav({ sampleRate: 24000, seconds: 3, f0: 190 }))).id;
      // A burst on one socket: exactly the limit gets through.
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Burst.', promptUploadId: upload })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((refused.reason as Error).message).toMatch(/You have submitted 3 jobs in the last minute; the limit is 3 per minute \(an admin can change it\)\. Try again in \d+ s\./);
      const http = await post(chorus.h.url, 'job.create', { mode: 'cross_lingual', text: 'Again.', promptUploadId: upload }, bearer(member.token));
      expect(http.status).toBe(429);
      expect(Number(http.headers.get('retry-after'))).toBeGreaterThan(0);

      // The first upload above counts; one more fits the limit of 2 per hour.
      await uploadReference(chorus.h.url, member.token, (await import('./helpers/audio.ts')).voicedWav({ sampleRate: 24000, seconds: 3, f0: 200 }));
      const third = await fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', body: (await import('./helpers/audio.ts')).voicedWav({ sampleRate: 24000, seconds: 3, f0: 210 }), headers: bearer(member.token) });
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/the limit is 2 per hour/) } });
    } finally {
      await chorus.client.trpc.settings.update.mutate({ jobsPerMinute: 30, uploadsPerHour: 60 });
      client.close();
    }
  });
});

describe('deleting a job', () => {
  const chorus = useChorus();
  it('removes its events, its audio and its upload when no other job uses it, and audits it', async () => {
    const db = await openDb(chorus.h.databaseUrl);
    try {
      const voice = (await import('./helpers/audio.ts')).voicedWav({ sampleRate: 24000, seconds: 3, f0: 180 });
      const upload = await uploadReference(chorus.h.url, chorus.h.token, voice);
      const a = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'First.', promptUploadId: upload.id });
      const b = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Second.', promptUploadId: upload.id });
      await Promise.all([collectEvents(chorus.client, a.id).done, collectEvents(chorus.client, b.id).done]);
      const rowA = await db.job.findUniqueOrThrow({ where: { id: a.id } });
      const up = await db.upload.findUniqueOrThrow({ where: { id: upload.id } });
      const dataDir = path.join(chorus.h.dir, 'data');

      await chorus.client.trpc.job.delete.mutate({ id: a.id });
      expect(await db.job.count({ where: { id: a.id } })).toBe(0);
      expect(await db.jobEvent.count({ where: { jobId: a.id } })).toBe(0);
      expect(fs.existsSync(path.join(dataDir, rowA.outputPath!))).toBe(false);
      // Still used by b: the voice stays.
      expect(fs.existsSync(path.join(dataDir, up.pcmPath))).toBe(true);
      expect((await fetch(`${chorus.h.url}/api/jobs/${a.id}/audio`, { headers: bearer(chorus.h.token) })).status).toBe(404);

      await chorus.client.trpc.job.delete.mutate({ id: b.id });
      expect(await db.upload.count({ where: { id: upload.id } })).toBe(0);
      expect(fs.existsSync(path.join(dataDir, up.pcmPath))).toBe(false);
      expect(fs.existsSync(path.join(dataDir, up.originalPath))).toBe(false);
      const audit = await chorus.client.trpc.audit.list.query({ action: 'job.deleted' });
      expect(audit.items.map((e) => e.targetId)).toEqual([b.id, a.id]);

      const running = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: chorus.uploadId });
      const err = await errorOf(chorus.client.trpc.job.delete.mutate({ id: running.id }));
      expect(err.message).toMatch(/cancel it first, then delete it/);
      await chorus.client.trpc.job.cancel.mutate({ id: running.id });
    } finally {
      await db.$disconnect();
    }
  });
});

describe('retention', () => {
  const chorus = useChorus({ CHORUS_RETENTION_SWEEP_MS: '1000' });
  it('deletes finished jobs older than the admin’s setting, and keeps newer ones', async () => {
    const db = await openDb(chorus.h.databaseUrl);
    try {
      const old = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Old.', promptUploadId: chorus.uploadId });
      const recent = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Recent.', promptUploadId: chorus.uploadId });
      await Promise.all([collectEvents(chorus.client, old.id).done, collectEvents(chorus.client, recent.id).done]);
      await db.job.update({ where: { id: old.id }, data: { finishedAt: new Date(Date.now() - 3 * 24 * 3600_000) } });
      await chorus.client.trpc.settings.update.mutate({ retentionDays: 2 });
      const deadline = Date.now() + 10_000;
      while ((await db.job.count({ where: { id: old.id } })) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await db.job.count({ where: { id: old.id } })).toBe(0);
      expect(await db.job.count({ where: { id: recent.id } })).toBe(1);
      // The sweep audits after its last deletion.
      let audit = await chorus.client.trpc.audit.list.query({ action: 'retention.deleted' });
      while (audit.items.length === 0 && Date.now() < deadline + 5000) {
        await new Promise((r) => setTimeout(r, 100));
        audit = await chorus.client.trpc.audit.list.query({ action: 'retention.deleted' });
      }
      expect(audit.items[0]?.detail).toMatchObject({ jobs: 1, olderThanDays: 2 });
    } finally {
      await db.$disconnect();
    }
  });
});

describe('issued tokens work for a restarted client too', () => {
  const chorus = useChorus();
  it('a token from issueToken signs a new client in over HTTP and WebSocket', async () => {
    const token = await issueToken(chorus.h.url);
    const client = connectClient(chorus.h.url, token);
    try {
      const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Token.', promptUploadId: chorus.uploadId });
      const stream = collectEvents(client, job.id);
      await stream.done;
      expect(stream.events.at(-1)).toMatchObject({ status: 'succeeded' });
    } finally {
      client.close();
    }
  });
});
