import { appRouter } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { addPerson, bearer, collectEvents, connectClient, signIn, TEST_ADMIN, uploadReference, useChorus, type Person } from './support/harness.ts';
import { voicedWav } from './helpers/audio.ts';

/**
 * Every procedure and HTTP route × every kind of caller → the answer it must get. The list
 * of procedures comes from the router itself: a new procedure without a row here fails.
 */
type Access = 'public' | 'viewer' | 'member' | 'member-own' | 'admin' | 'worker';
type Caller = 'anonymous' | 'viewer' | 'member-own' | 'member-other' | 'admin' | 'deactivated' | 'expired-session' | 'revoked-token' | 'worker' | 'revoked-worker';
const CALLERS: Caller[] = ['anonymous', 'viewer', 'member-own', 'member-other', 'admin', 'deactivated', 'expired-session', 'revoked-token', 'worker', 'revoked-worker'];
const WORKER_CALLERS: ReadonlySet<Caller> = new Set(['worker', 'revoked-worker']);

interface World {
  /** A finished job of the member's own, and one of the admin's. */
  ownJob: string;
  otherJob: string;
  /** A fresh finished job for destructive calls (delete): owned by the member or by the admin. */
  freshJob(owner: 'member' | 'admin'): Promise<string>;
  /** A fresh upload no job uses (deletable): the member's or the admin's. */
  freshUpload(owner: 'member' | 'admin'): Promise<string>;
  uploadId: string;
}

const missingUser = 'usr_00000000000000000000000000';
/** A node nobody registered: a worker gets NOT_FOUND (allowed past the access check), everyone else 401/403 first. */
const missingWorker = 'wrk_00000000000000000000000000';
const workerEngines = [{ id: 'builtin', kind: 'builtin', version: '1', concurrency: 1, health: { status: 'up', message: null, checkedAt: null } }];
const workerResources = { at: '2026-01-01T00:00:00.000Z', cpu: { cores: 2, usagePct: null, loadAverage1m: 0 }, memory: { totalBytes: 1, availableBytes: 1, processRssBytes: 1 }, gpu: { status: 'none', message: null, devices: [] } };
const RULES: Record<string, { access: Access; input: (w: World, caller: Caller) => Promise<unknown> | unknown }> = {
  'auth.status': { access: 'public', input: () => undefined },
  'auth.setup': { access: 'public', input: () => ({ setupToken: 'x'.repeat(43), email: 'a@b.cd', name: 'A', password: 'long enough password' }) },
  'auth.login': { access: 'public', input: () => ({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }) },
  'auth.logout': { access: 'public', input: () => undefined },
  'auth.invite': { access: 'public', input: () => ({ inviteToken: 'y'.repeat(43) }) },
  'auth.acceptInvite': { access: 'public', input: () => ({ inviteToken: 'y'.repeat(43), email: 'new@chorus.test', name: 'New', password: 'long enough password' }) },
  'auth.me': { access: 'viewer', input: () => undefined },
  'auth.people': { access: 'viewer', input: () => undefined },
  'auth.changePassword': { access: 'viewer', input: () => ({ currentPassword: 'not the password', newPassword: 'another long password' }) },
  'auth.sessions': { access: 'viewer', input: () => undefined },
  'auth.revokeSession': { access: 'viewer', input: () => ({ sessionId: 'ses_00000000000000000000000000' }) },
  'auth.tokens': { access: 'viewer', input: () => undefined },
  'auth.createToken': { access: 'viewer', input: () => ({ name: 'matrix', currentPassword: 'not the password' }) },
  'auth.revokeToken': { access: 'viewer', input: () => ({ tokenId: 'tok_00000000000000000000000000' }) },
  'engine.list': { access: 'viewer', input: () => undefined },
  'job.create': { access: 'member', input: (w) => ({ mode: 'cross_lingual', text: 'Matrix.', promptUploadId: w.uploadId }) },
  'job.get': { access: 'viewer', input: (w, c) => ({ id: c === 'member-own' ? w.ownJob : w.otherJob }) },
  'job.list': { access: 'viewer', input: () => ({ limit: 5 }) },
  'job.rerun': { access: 'member', input: (w, c) => ({ id: c === 'member-own' ? w.ownJob : w.otherJob }) },
  'job.cancel': { access: 'member-own', input: (w, c) => ({ id: c === 'member-own' ? w.ownJob : w.otherJob }) },
  'job.delete': { access: 'member-own', input: async (w, c) => ({ id: await w.freshJob(c === 'member-own' ? 'member' : 'admin') }) },
  'job.events': { access: 'viewer', input: (w, c) => ({ id: c === 'member-own' ? w.ownJob : w.otherJob }) },
  'job.onChange': { access: 'viewer', input: () => undefined },
  'members.list': { access: 'admin', input: () => undefined },
  'members.setRole': { access: 'admin', input: () => ({ userId: missingUser, role: 'viewer' }) },
  'members.deactivate': { access: 'admin', input: () => ({ userId: missingUser }) },
  'members.reactivate': { access: 'admin', input: () => ({ userId: missingUser }) },
  'members.invites': { access: 'admin', input: () => undefined },
  'members.tokens': { access: 'admin', input: () => ({ userId: missingUser }) },
  'members.revokeToken': { access: 'admin', input: () => ({ tokenId: 'tok_00000000000000000000000000' }) },
  'members.createInvite': { access: 'admin', input: () => ({ role: 'viewer' }) },
  'members.revokeInvite': { access: 'admin', input: () => ({ inviteId: 'inv_00000000000000000000000000' }) },
  'audit.list': { access: 'admin', input: () => ({ limit: 5 }) },
  'workers.tokens': { access: 'admin', input: () => undefined },
  'workers.createToken': { access: 'admin', input: () => ({ name: 'gpu-1' }) },
  'workers.revokeToken': { access: 'admin', input: () => ({ tokenId: 'wtk_00000000000000000000000000' }) },
  'workers.list': { access: 'admin', input: () => undefined },
  'settings.get': { access: 'admin', input: () => undefined },
  'settings.update': { access: 'admin', input: () => ({}) },
  'failures.groups': { access: 'admin', input: () => ({}) },
  'failures.runs': { access: 'admin', input: () => ({ fingerprint: 'ffffffffffffffff' }) },
  'failures.retry': { access: 'admin', input: () => ({ fingerprint: 'ffffffffffffffff' }) },
  'failures.resolve': { access: 'admin', input: () => ({ fingerprint: 'ffffffffffffffff', note: 'n' }) },
  'failures.setState': { access: 'admin', input: () => ({ fingerprint: 'ffffffffffffffff', state: 'ignored' }) },
  'failures.noteRun': { access: 'admin', input: (w) => ({ jobId: w.otherJob, note: 'n' }) },
  'failures.onFailure': { access: 'admin', input: () => undefined },
  'upload.list': { access: 'viewer', input: () => ({}) },
  'workerApi.register': { access: 'worker', input: () => ({ name: 'matrix-box', version: '1', engines: workerEngines, resources: workerResources }) },
  'workerApi.heartbeat': { access: 'worker', input: () => ({ workerId: missingWorker, engines: workerEngines, resources: workerResources, running: [] }) },
  'workerApi.claim': { access: 'worker', input: (w) => ({ workerId: missingWorker, jobId: w.otherJob }) },
  'workerApi.append': { access: 'worker', input: (w) => ({ workerId: missingWorker, jobId: w.otherJob, epoch: 0, events: [{ type: 'log', level: 'info', message: 'm' }] }) },
  'workerApi.complete': { access: 'worker', input: (w) => ({ workerId: missingWorker, jobId: w.otherJob, epoch: 0, sha256: 'a'.repeat(64), wallMs: 1 }) },
  'workerApi.goodbye': { access: 'worker', input: () => ({ workerId: missingWorker }) },
  // Viewer level for one's own (a member made viewer may still remove their voice); the matrix's callers own none but the member.
  'upload.delete': { access: 'member-own', input: async (w, c) => ({ id: await w.freshUpload(c === 'member-own' ? 'member' : 'admin') }) },
};

/**
 * 401 for callers without a working sign-in; 403 for too small a role or someone else's job; else allowed.
 * The worker API is the other way round: only a working worker token passes, a person's credential
 * (valid or not) gets 403, and workers get 403 on every person's procedure and route.
 */
function expected(access: Access, caller: Caller): 401 | 403 | 'allowed' {
  if (access === 'public') return 'allowed';
  if (access === 'worker') return caller === 'worker' ? 'allowed' : caller === 'anonymous' || caller === 'revoked-worker' ? 401 : 403;
  if (WORKER_CALLERS.has(caller)) return 403;
  if (['anonymous', 'deactivated', 'expired-session', 'revoked-token'].includes(caller)) return 401;
  const rank = { viewer: 1, 'member-own': 2, 'member-other': 2, admin: 3 }[caller as 'viewer' | 'member-own' | 'member-other' | 'admin'];
  const needed = { viewer: 1, member: 2, 'member-own': 2, admin: 3 }[access];
  if (rank < needed) return 403;
  if (access === 'member-own' && caller === 'member-other') return 403;
  return 'allowed';
}

describe('access matrix: every procedure and route × every kind of caller', () => {
  const chorus = useChorus();
  let db: Db;
  let world: World;
  const credentials = {} as Record<Caller, Record<string, string>>;
  let member: Person;
  let uploads = 0;

  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    const viewer = await addPerson(chorus.h, 'viewer');
    member = await addPerson(chorus.h, 'member');
    const gone = await addPerson(chorus.h, 'member');
    const expiring = await addPerson(chorus.h, 'member');
    const revoking = await addPerson(chorus.h, 'member');
    const memberClient = connectClient(chorus.h.url, member.token);
    const memberUpload = (await uploadReference(chorus.h.url, member.token, voicedWav({ sampleRate: 24000, seconds: 3, f0: 170 }))).id;
    const finished = async (client: typeof chorus.client, uploadId: string): Promise<string> => {
      const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Done.', promptUploadId: uploadId });
      await collectEvents(client, job.id).done;
      return job.id;
    };
    world = {
      ownJob: await finished(memberClient, memberUpload),
      otherJob: await finished(chorus.client, chorus.uploadId),
      freshJob: (owner) => (owner === 'member' ? finished(memberClient, memberUpload) : finished(chorus.client, chorus.uploadId)),
      uploadId: memberUpload,
      freshUpload: async (owner) => (await uploadReference(chorus.h.url, owner === 'member' ? member.token : chorus.h.token, voicedWav({ sampleRate: 24000, seconds: 3, f0: 120 + ++uploads }))).id,
    };
    // Deactivated: their session cookie; expired: a session past its absolute expiry; revoked: a revoked token.
    await chorus.client.trpc.members.deactivate.mutate({ userId: gone.id });
    await db.session.updateMany({ where: { userId: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const revoker = connectClient(chorus.h.url, revoking.token);
    const [tokenRow] = await revoker.trpc.auth.tokens.query();
    await revoker.trpc.auth.revokeToken.mutate({ tokenId: tokenRow!.id });
    revoker.close();
    const workerToken = (await chorus.client.trpc.workers.createToken.mutate({ name: 'matrix-worker' })).token;
    const revokedWorker = await chorus.client.trpc.workers.createToken.mutate({ name: 'matrix-revoked' });
    await chorus.client.trpc.workers.revokeToken.mutate({ tokenId: revokedWorker.id });
    Object.assign(credentials, {
      anonymous: {},
      viewer: { cookie: viewer.cookie },
      'member-own': { cookie: member.cookie },
      'member-other': { authorization: `Bearer ${member.token}` },
      admin: { cookie: await signIn(chorus.h.url, TEST_ADMIN.email, TEST_ADMIN.password) },
      deactivated: { cookie: gone.cookie },
      'expired-session': { cookie: expiring.cookie },
      'revoked-token': bearer(revoking.token),
      worker: bearer(workerToken),
      'revoked-worker': bearer(revokedWorker.token),
    });
    memberClient.close();
  }, 120_000);
  afterAll(async () => db?.$disconnect());

  it('has an access rule for every procedure in the router', () => {
    expect(Object.keys(appRouter._def.procedures).sort()).toEqual(Object.keys(RULES).sort());
  });

  /** HTTP for queries and mutations; a WebSocket (cookie at the upgrade, or the token in connectionParams) for subscriptions. */
  async function call(path: string, input: unknown, headers: Record<string, string>): Promise<number> {
    const procedure = (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[path]!;
    if (procedure._def.type === 'subscription') return subscribe(path, input, headers);
    const url = `${chorus.h.url}/trpc/${path}`;
    const res =
      procedure._def.type === 'query'
        ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
        : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input ?? null) });
    await res.arrayBuffer();
    return res.status;
  }

  /**
   * tRPC's WebSocket protocol spoken directly, so every way of being refused is seen: the
   * upgrade's HTTP status, an error answer, or the connection closed before any answer.
   */
  function subscribe(path: string, input: unknown, headers: Record<string, string>): Promise<number> {
    const token = headers.authorization?.replace('Bearer ', '');
    const url = chorus.h.url.replace('http', 'ws') + '/trpc' + (token ? '?connectionParams=1' : '');
    return new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: headers.cookie ? { cookie: headers.cookie } : {} });
      const done = (status: number): void => {
        clearTimeout(timer);
        resolve(status);
        ws.terminate();
      };
      const timer = setTimeout(() => done(-1), 5000);
      ws.once('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
      ws.once('error', () => undefined);
      ws.once('open', () => {
        if (token) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
        ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input } }));
      });
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { result?: { type: string }; error?: { data?: { httpStatus?: number } } };
        if (msg.error) done(msg.error.data?.httpStatus ?? 500);
        else if (msg.result) done(200);
      });
      ws.once('close', () => done(401));
    });
  }

  it('applies the same rules to the HTTP routes', async () => {
    const wav = voicedWav({ sampleRate: 24000, seconds: 3, f0: 123 });
    for (const caller of CALLERS) {
      const upload = await fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', body: wav, headers: { 'content-type': 'audio/wav', ...credentials[caller] } });
      expect([caller, upload.status]).toEqual([caller, { allowed: upload.status, 401: 401, 403: 403 }[expected('member', caller)]]);
      if (expected('member', caller) === 'allowed') expect([200, 201]).toContain(upload.status);
      const job = caller === 'member-own' ? world.ownJob : world.otherJob;
      const audio = await fetch(`${chorus.h.url}/api/jobs/${job}/audio`, { headers: credentials[caller] });
      const wantAudio = expected('viewer', caller);
      expect([caller, wantAudio === 'allowed' ? 200 : wantAudio]).toEqual([caller, audio.status]);
      expect((await fetch(`${chorus.h.url}/healthz`, { headers: credentials[caller] })).status).toBe(200);
      // A worker's routes: a finished job is held by no lease, so a worker gets 409 (past the access check).
      const wantWorker = expected('worker', caller);
      const prompt = await fetch(`${chorus.h.url}/api/worker/jobs/${world.otherJob}/prompt`, { headers: credentials[caller] });
      expect([caller, prompt.status]).toEqual([caller, wantWorker === 'allowed' ? 409 : wantWorker]);
      const output = await fetch(`${chorus.h.url}/api/worker/jobs/${world.otherJob}/output?epoch=1`, { method: 'PUT', body: wav, headers: { 'content-type': 'audio/wav', ...credentials[caller] } });
      expect([caller, output.status]).toEqual([caller, wantWorker === 'allowed' ? 409 : wantWorker]);
    }
  });

  for (const caller of CALLERS) {
    it(`answers ${caller} as the rules say`, async () => {
      const wrong: string[] = [];
      // Signing out ends the caller's session, so it goes last.
      const rows = Object.entries(RULES).sort(([a], [b]) => Number(a === 'auth.logout') - Number(b === 'auth.logout'));
      for (const [path, rule] of rows) {
        const want = expected(rule.access, caller);
        const status = await call(path, await rule.input(world, caller), credentials[caller]);
        const got = status === 401 || status === 403 ? status : status === -1 ? 'timeout' : 'allowed';
        // A worker token cannot open a WebSocket at all: its subscriptions end at the sign-in (401).
        const isSubscription = (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[path]!._def.type === 'subscription';
        if (WORKER_CALLERS.has(caller) && want === 403 && isSubscription && got === 401) continue;
        if (got !== want) wrong.push(`${path}: expected ${want}, got ${status}`);
      }
      expect(wrong).toEqual([]);
    }, 120_000);
  }

});
