import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { API_TOKEN_PREFIX, appRouter, AuthService, createApiContext, createCallerFactory, DEFAULT_THROTTLE, JobEventLog, TEST_SCRYPT_MIN_N, usePasswordHashCostForTests, type ApiContext, type ApiServices } from '@chorus/api';
import { InProcessEventBus } from '@chorus/inference';
import { TRPCError } from '@trpc/server';
import { openDb, type Db } from '@chorus/db';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, startChorus, type RunningChorus } from '../src/index.ts';
import { addPerson, bearer, connectClient, issueToken, signIn, sleep, TEST_ADMIN, TEST_ADMIN_ENV, useChorus } from './support/harness.ts';

const post = (url: string, procedure: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/trpc/${procedure}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const me = async (url: string, headers: Record<string, string>): Promise<number> => (await fetch(`${url}/trpc/auth.me`, { headers })).status;

const countOf = (statuses: number[], status: number): number => statuses.filter((s) => s === status).length;

/** Answers and their bodies, read at once (so a 500 shows up in the failure message). */
async function settle(responses: Promise<Response>[]): Promise<{ status: number; text: string; retryAfter: string | null }[]> {
  return Promise.all(responses.map(async (p) => {
    const res = await p;
    return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') };
  }));
}

describe('the sign-in limit holds under parallel attempts', () => {
  // The production scrypt cost here: the slow check is the window parallel attempts race through.
  beforeAll(() => usePasswordHashCostForTests());
  afterAll(() => usePasswordHashCostForTests(TEST_SCRYPT_MIN_N));
  // Behind a "proxy", each test has its own client address (X-Forwarded-For).
  const chorus = useChorus({ CHORUS_TRUST_PROXY: 'true' });
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());
  afterEach(() => vi.useRealTimers());

  it('30 parallel wrong passwords for one account from one address: only the per-account-and-address limit are checked, the rest get 429 with Retry-After; the right one works after the window', async () => {
    const person = await addPerson(chorus.h, 'member');
    const from = { 'x-forwarded-for': '203.0.113.10' };
    const answers = await settle(Array.from({ length: 30 }, () => post(chorus.h.url, 'auth.login', { email: person.email, password: 'wrong password!' }, from)));
    const statuses = answers.map((a) => a.status);
    expect(countOf(statuses, 401)).toBe(DEFAULT_THROTTLE.perAccountPerAddress);
    expect(countOf(statuses, 429)).toBe(30 - DEFAULT_THROTTLE.perAccountPerAddress);
    for (const a of answers.filter((x) => x.status === 429)) {
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(a.text).toMatch(/Too many failed sign-ins; try again in \d+ s/);
    }
    // Each checked password is audited as a failed sign-in: exactly the limit were verified.
    expect(await db.auditEntry.count({ where: { action: 'auth.login_failed', actorEmail: person.email } })).toBe(DEFAULT_THROTTLE.perAccountPerAddress);

    expect((await post(chorus.h.url, 'auth.login', { email: person.email, password: person.password }, from)).status).toBe(429);
    vi.setSystemTime(Date.now() + DEFAULT_THROTTLE.windowMs + 1000);
    const late = await post(chorus.h.url, 'auth.login', { email: person.email, password: person.password }, from);
    expect(late.status).toBe(200);
  });

  it('a stranger cannot lock the admin out: wrong passwords from address A lock A out of the account (the 6th is a 429), the admin still signs in from B', async () => {
    const fromA = { 'x-forwarded-for': '203.0.113.30' };
    const fromB = { 'x-forwarded-for': '203.0.113.31' };
    for (let i = 0; i < DEFAULT_THROTTLE.perAccountPerAddress; i++) {
      expect((await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: `wrong guess ${i}` }, fromA)).status).toBe(401);
    }
    const sixth = await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: 'wrong guess 5' }, fromA);
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    // 24 more from A, in parallel: 30 in all, none checked.
    const rest = await settle(Array.from({ length: 30 - DEFAULT_THROTTLE.perAccountPerAddress - 1 }, (_, i) => post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: `more ${i}` }, fromA)));
    expect(rest.every((a) => a.status === 429)).toBe(true);
    // A is locked out even with the right password; B is not.
    expect((await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: TEST_ADMIN.password }, fromA)).status).toBe(429);
    const owner = await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: TEST_ADMIN.password }, fromB);
    expect(owner.status).toBe(200);
    const cookie = owner.headers.getSetCookie().find((c) => c.startsWith('chorus_session='))!.split(';')[0]!;
    // The signed-in admin's password change is not blocked by the stranger's failures either.
    const change = await post(chorus.h.url, 'auth.changePassword', { currentPassword: TEST_ADMIN.password, newPassword: TEST_ADMIN.password }, { cookie, ...fromA });
    expect(change.status).toBe(200);
  });

  it('a distributed brute force still stops: the account-wide cap over all addresses trips, and the signed-in owner can still change the password', async () => {
    // All 100 guesses are meant to be checked (the cap exactly), so no race needs the slow hash here.
    usePasswordHashCostForTests(TEST_SCRYPT_MIN_N);
    const person = await addPerson(chorus.h, 'member').finally(() => usePasswordHashCostForTests());
    const perAddress = DEFAULT_THROTTLE.perAccountPerAddress - 1;
    const addresses = Math.ceil(DEFAULT_THROTTLE.perAccount / perAddress);
    // Just under the per-address limit from each address, up to the account-wide cap exactly.
    const guesses = Array.from({ length: DEFAULT_THROTTLE.perAccount }, (_, i) =>
      post(chorus.h.url, 'auth.login', { email: person.email, password: `distributed ${i}` }, { 'x-forwarded-for': `198.51.100.${1 + (i % addresses)}` }),
    );
    expect(countOf((await settle(guesses)).map((a) => a.status), 401)).toBe(DEFAULT_THROTTLE.perAccount);
    const fresh = { 'x-forwarded-for': '198.51.100.200' };
    const next = await post(chorus.h.url, 'auth.login', { email: person.email, password: 'one more guess' }, fresh);
    expect(next.status).toBe(429);
    expect(await next.text()).toMatch(/Too many failed sign-ins; try again in \d+ s/);
    expect((await post(chorus.h.url, 'auth.login', { email: person.email, password: person.password }, fresh)).status).toBe(429);
    // Re-authentication has keys of its own: the owner's session is not blocked by strangers.
    const change = await post(chorus.h.url, 'auth.changePassword', { currentPassword: person.password, newPassword: 'a new password after the attack' }, { cookie: person.cookie, 'x-forwarded-for': '198.51.100.1' });
    expect(change.status).toBe(200);
  });

  it('30 parallel wrong sign-ins for 30 accounts from one address: only the per-address limit are checked', async () => {
    const from = { 'x-forwarded-for': '203.0.113.20' };
    const answers = await settle(Array.from({ length: 30 }, (_, i) => post(chorus.h.url, 'auth.login', { email: `spray${i}@chorus.test`, password: 'wrong password!' }, from)));
    const statuses = answers.map((a) => a.status);
    expect(countOf(statuses, 401)).toBe(DEFAULT_THROTTLE.perAddress);
    expect(countOf(statuses, 429)).toBe(30 - DEFAULT_THROTTLE.perAddress);
    // Another address is not affected.
    expect((await post(chorus.h.url, 'auth.login', { email: TEST_ADMIN.email, password: TEST_ADMIN.password }, { 'x-forwarded-for': '203.0.113.21' })).status).toBe(200);
  });

  it('changePassword: a stolen session cannot brute-force the current password (the per-account-and-address limit, 429 with Retry-After)', async () => {
    const person = await addPerson(chorus.h, 'viewer');
    const answers = await settle(
      Array.from({ length: 30 }, (_, i) => post(chorus.h.url, 'auth.changePassword', { currentPassword: `guess number ${i}`, newPassword: 'a brand new password' }, { cookie: person.cookie })),
    );
    const statuses = answers.map((a) => a.status);
    expect(countOf(statuses, 400)).toBe(DEFAULT_THROTTLE.perAccountPerAddress);
    expect(countOf(statuses, 429)).toBe(30 - DEFAULT_THROTTLE.perAccountPerAddress);
    const refused = answers.find((a) => a.status === 429)!;
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.text).toMatch(/Too many wrong current passwords; try again in \d+ s/);
    // Even the right current password waits for the window.
    expect((await post(chorus.h.url, 'auth.changePassword', { currentPassword: person.password, newPassword: 'a brand new password' }, { cookie: person.cookie })).status).toBe(429);
    vi.setSystemTime(Date.now() + DEFAULT_THROTTLE.windowMs + 1000);
    expect((await post(chorus.h.url, 'auth.changePassword', { currentPassword: person.password, newPassword: 'a brand new password' }, { cookie: person.cookie })).status).toBe(200);
  });

  it('a password change keeps the session that made it, ends the others, and leaves API tokens working', async () => {
    const person = await addPerson(chorus.h, 'member');
    const other = await signIn(chorus.h.url, person.email, person.password);
    const res = await post(chorus.h.url, 'auth.changePassword', { currentPassword: person.password, newPassword: 'a changed password' }, { cookie: person.cookie });
    expect(res.status).toBe(200);
    expect(await me(chorus.h.url, { cookie: person.cookie })).toBe(200);
    expect(await me(chorus.h.url, { cookie: other })).toBe(401);
    expect(await me(chorus.h.url, bearer(person.token))).toBe(200);
  });
});

describe('the last active admin, under concurrent changes', () => {
  const chorus = useChorus();
  let db: Db;
  let slow: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    // The server's database as a remote or busy one would answer: a count's result arrives a while after it was read.
    const base = await openDb(chorus.h.databaseUrl);
    slow = base.$extends({ query: { user: { count: async ({ args, query }) => { const n = await query(args); await sleep(40); return n; } } } }) as unknown as Db;
  });
  afterAll(async () => {
    await db?.$disconnect();
    await slow?.$disconnect();
  });

  type Change = 'demote' | 'deactivate';
  const ROUNDS: [Change, Change][] = [
    ['demote', 'demote'],
    ['deactivate', 'deactivate'],
    ['demote', 'deactivate'],
    ['deactivate', 'demote'],
  ];

  /** The routers on the slow database, called in-process as the HTTP adapter would. */
  const createCaller = createCallerFactory(appRouter);
  function callerFor(token: string): { ctx: ApiContext; caller: ReturnType<typeof createCaller> } {
    const bus = new InProcessEventBus();
    const services: ApiServices = {
      db: slow,
      auth: new AuthService(slow),
      bus,
      events: new JobEventLog(slow, bus),
      files: { remove: async () => {} },
      queue: { enqueue: async () => {}, abortRunning: async () => {} },
      engines: { list: () => [], get: () => undefined, health: () => ({ status: 'up', message: null, checkedAt: null }) },
    };
    const ctx = createApiContext(services, { transport: 'http', ip: null, userAgent: null }, { kind: 'token', token }, null);
    return { ctx, caller: createCaller(ctx) };
  }

  it('two admins removing each other at once: exactly one succeeds, the other is told they are the last active admin; one active admin remains', async () => {
    const second = await addPerson(chorus.h, 'admin');
    const first = await db.user.findUniqueOrThrow({ where: { email: TEST_ADMIN.email } });
    const tokenOf = (id: string): Promise<string> => (id === first.id ? issueToken(chorus.h.url) : issueToken(chorus.h.url, second.email, second.password));
    /** The survivor restores the other admin, for the next round. */
    const restore = async (): Promise<void> => {
      const survivor = await db.user.findFirstOrThrow({ where: { role: 'admin', active: true } });
      const client = connectClient(chorus.h.url, await tokenOf(survivor.id));
      const other = survivor.id === first.id ? second.id : first.id;
      try {
        await client.trpc.members.reactivate.mutate({ userId: other });
        await client.trpc.members.setRole.mutate({ userId: other, role: 'admin' });
      } finally {
        client.close();
      }
      expect(await db.user.count({ where: { role: 'admin', active: true } })).toBe(2);
    };

    // In-process on the slow database: both checks overlap, only the transaction keeps one admin.
    for (const [a, b] of ROUNDS) {
      const [asA, asB] = [callerFor(await tokenOf(first.id)), callerFor(await tokenOf(second.id))];
      // Both are signed-in admins when their change starts (an HTTP request resolves its identity once).
      for (const { ctx } of [asA, asB]) expect((await ctx.identity())?.user.role).toBe('admin');
      const call = (caller: typeof asA.caller, change: Change, userId: string): Promise<unknown> =>
        change === 'demote' ? caller.members.setRole({ userId, role: 'member' }) : caller.members.deactivate({ userId });
      const results = await Promise.allSettled([call(asA.caller, a, second.id), call(asB.caller, b, first.id)]);
      expect([a, b, results.map((r) => r.status).sort()]).toEqual([a, b, ['fulfilled', 'rejected']]);
      const refusal = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as TRPCError;
      expect(refusal).toBeInstanceOf(TRPCError);
      expect(refusal.code).toBe('PRECONDITION_FAILED');
      expect(refusal.message).toMatch(/they are the last active admin\. Make another member an admin first/);
      expect(await db.user.count({ where: { role: 'admin', active: true } })).toBe(1);
      await restore();
    }

    // Over HTTP the loser is refused as no longer signed in (401: deactivated) or no longer an admin (403), or as the last admin (412); never a 5xx.
    const act = (token: string, userId: string, change: Change): Promise<Response> =>
      change === 'demote' ? post(chorus.h.url, 'members.setRole', { userId, role: 'member' }, bearer(token)) : post(chorus.h.url, 'members.deactivate', { userId }, bearer(token));
    for (const [a, b] of ROUNDS) {
      const [tokenA, tokenB] = [await tokenOf(first.id), await tokenOf(second.id)];
      const answers = await settle([act(tokenA, second.id, a), act(tokenB, first.id, b)]);
      expect(countOf(answers.map((x) => x.status), 200)).toBe(1);
      const loser = answers.find((x) => x.status !== 200)!;
      const why = { 401: /Your session has ended, or the API token is invalid/, 403: /This needs the admin role or higher/, 412: /they are the last active admin/ }[loser.status];
      expect([loser.status, why?.test(loser.text)]).toEqual([loser.status, true]);
      expect(await db.user.count({ where: { role: 'admin', active: true } })).toBe(1);
      await restore();
    }
  });
});

describe('deactivation revokes, so reactivation revives nothing', () => {
  const chorus = useChorus();
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  it('deactivate → reactivate: the old cookie and the old token get 401; signing in again works', async () => {
    const person = await addPerson(chorus.h, 'member');
    await chorus.client.trpc.members.deactivate.mutate({ userId: person.id });
    expect(await db.apiToken.count({ where: { userId: person.id, revokedAt: null } })).toBe(0);
    await chorus.client.trpc.members.reactivate.mutate({ userId: person.id });
    expect(await me(chorus.h.url, { cookie: person.cookie })).toBe(401);
    expect(await me(chorus.h.url, bearer(person.token))).toBe(401);
    expect(await me(chorus.h.url, { cookie: await signIn(chorus.h.url, person.email, person.password) })).toBe(200);
  });

  it('a credential that slipped past the deactivation (a sign-in finishing meanwhile, or an old deactivation) is revoked at reactivation', async () => {
    const person = await addPerson(chorus.h, 'member');
    await chorus.client.trpc.members.deactivate.mutate({ userId: person.id });
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    const cookieSecret = randomBytes(32).toString('base64url');
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await db.session.create({ data: { id: `ses_${'a'.repeat(26)}`, tokenHash: sha(cookieSecret), userId: person.id, expiresAt: new Date(Date.now() + 3600_000) } });
    await db.apiToken.create({ data: { id: `tok_${'a'.repeat(26)}`, tokenHash: sha(token), userId: person.id, name: 'slipped', prefix: token.slice(0, 17) } });
    await chorus.client.trpc.members.reactivate.mutate({ userId: person.id });
    expect(await me(chorus.h.url, { cookie: `chorus_session=${cookieSecret}` })).toBe(401);
    expect(await me(chorus.h.url, bearer(token))).toBe(401);
  });
});

describe('invite acceptance under races', () => {
  const chorus = useChorus();
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  const accept = (inviteToken: string, email: string): Promise<Response> =>
    post(chorus.h.url, 'auth.acceptInvite', { inviteToken, email, name: 'Racer', password: 'a long enough password' });

  it('two invites accepted at once with the same email: one account, the other a 409 "That email is already in use", never a 500', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = [await chorus.client.trpc.members.createInvite.mutate({ role: 'member' }), await chorus.client.trpc.members.createInvite.mutate({ role: 'viewer' })];
      const email = `same${round}@chorus.test`;
      const answers = await settle([accept(a.token, email), accept(b.token, email)]);
      expect(answers.map((x) => x.status).sort()).toEqual([200, 409]);
      expect(answers.find((x) => x.status === 409)!.text).toMatch(/That email is already in use/);
      expect(await db.user.count({ where: { email } })).toBe(1);
      // The loser's invite was not used up: it still works for another address.
      const loser = answers[0]!.status === 409 ? a : b;
      expect((await accept(loser.token, `other${round}@chorus.test`)).status).toBe(200);
    }
    // The same without a race: the second acceptance is a 409 too.
    const late = await chorus.client.trpc.members.createInvite.mutate({ role: 'member' });
    const answer = await accept(late.token, 'same0@chorus.test');
    expect(answer.status).toBe(409);
    expect(await answer.text()).toMatch(/That email is already in use/);
  });

  it('one invite accepted twice at once: exactly one account (with different emails, or the same one)', async () => {
    const invite = await chorus.client.trpc.members.createInvite.mutate({ role: 'member' });
    const answers = await settle([accept(invite.token, 'first-racer@chorus.test'), accept(invite.token, 'second-racer@chorus.test'), accept(invite.token, 'third-racer@chorus.test')]);
    expect(answers.map((x) => x.status).sort()).toEqual([200, 412, 412]);
    expect(answers.filter((x) => x.status === 412).every((x) => /already been used/.test(x.text))).toBe(true);
    expect(await db.user.count({ where: { email: { endsWith: '-racer@chorus.test' } } })).toBe(1);

    const again = await chorus.client.trpc.members.createInvite.mutate({ role: 'member' });
    const same = await settle([accept(again.token, 'twin@chorus.test'), accept(again.token, 'twin@chorus.test')]);
    // The loser is told the invite is used (412) or, if it got past that check first, that the email is taken (409).
    expect(countOf(same.map((x) => x.status), 200)).toBe(1);
    expect([409, 412]).toContain(same.find((x) => x.status !== 200)!.status);
    expect(await db.user.count({ where: { email: 'twin@chorus.test' } })).toBe(1);
    expect((await db.invite.findUniqueOrThrow({ where: { id: again.id } })).usedById).toBe((await db.user.findUniqueOrThrow({ where: { email: 'twin@chorus.test' } })).id);
  });
});

describe('first admin: only active admins count', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-first-admin-'));
  const databaseUrl = `file:${path.join(dir, 'c.db')}`;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A server on this directory's database, with the log lines it wrote. */
  async function start(env: Record<string, string>): Promise<{ chorus: RunningChorus; lines: string[] }> {
    const lines: string[] = [];
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, CHORUS_DATA_DIR: path.join(dir, 'data'), CHORUS_SHUTDOWN_GRACE_MS: '0', ...env });
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    return { chorus: await startChorus(config, pino({ level: 'info' }, sink)), lines };
  }
  const setupToken = (lines: string[]): string => /#\/setup\?token=([A-Za-z0-9_-]+)/.exec(lines.find((l) => l.includes('/#/setup?token=')) ?? '')?.[1] ?? '';
  async function deactivateAll(): Promise<void> {
    const db = await openDb(databaseUrl);
    await db.user.updateMany({ data: { active: false, deactivatedAt: new Date() } });
    await db.$disconnect();
  }

  it('a deactivated admin neither blocks nor completes setup (environment and setup page); concurrent setups make exactly one admin', async () => {
    // An install whose only admin was deactivated (by hand in the database).
    let s = await start(TEST_ADMIN_ENV);
    await s.chorus.close();
    await deactivateAll();

    // CHORUS_ADMIN_EMAIL creates a new admin.
    s = await start({ CHORUS_ADMIN_EMAIL: 'second-boss@chorus.test', CHORUS_ADMIN_PASSWORD: 'a good long password' });
    try {
      expect(await me(s.chorus.url, { cookie: await signIn(s.chorus.url, 'second-boss@chorus.test', 'a good long password') })).toBe(200);
    } finally {
      await s.chorus.close();
    }
    await deactivateAll();

    // The setup page works; several setups at once with the valid link make exactly one admin.
    s = await start({});
    try {
      const token = setupToken(s.lines);
      expect(token).not.toBe('');
      // The deactivated admin's email is taken: a clear 409, not a 500.
      const taken = await post(s.chorus.url, 'auth.setup', { setupToken: token, email: TEST_ADMIN.email, name: 'Again', password: 'a good long password' });
      expect(taken.status).toBe(409);
      expect(await taken.text()).toMatch(/That email is already in use/);
      const answers = await settle(Array.from({ length: 4 }, (_, i) => post(s.chorus.url, 'auth.setup', { setupToken: token, email: `boss${i}@chorus.test`, name: `Boss ${i}`, password: 'a good long password' })));
      const statuses = answers.map((a) => a.status);
      expect(countOf(statuses, 200)).toBe(1);
      expect(statuses.every((x) => x === 200 || x === 412 || x === 401)).toBe(true);
      const db = await openDb(databaseUrl);
      try {
        expect(await db.user.count({ where: { role: 'admin', active: true } })).toBe(1);
      } finally {
        await db.$disconnect();
      }
    } finally {
      await s.chorus.close();
    }
  });
});
