import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { EngineStatus } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPerson, bearer, collectEvents, connectClient, sleep, uploadReference, useChorus, type Person } from './support/harness.ts';

const post = (url: string, procedure: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/trpc/${procedure}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a configured engine URL may carry that nobody should see again: userinfo and a query. */
const SECRETS = ['p4ssw0rd', 'SECRETKEY', 'svc:', 'api_key'];
const leaks = (value: unknown): string[] => SECRETS.filter((s) => JSON.stringify(value).includes(s));

describe('remote engine URLs: credentials in a configured URL reach nobody', () => {
  let port = 0;
  beforeAll(async () => {
    port = await closedPort();
  });
  const chorus = useChorus(() => ({
    CHORUS_ENGINES: JSON.stringify([
      { id: 'builtin', kind: 'builtin' },
      // Userinfo and a query: Node's fetch refuses the URL, and its own error repeats it whole.
      { id: 'http-userinfo', kind: 'cosyvoice-http', generation: 3, model: 'Fun-CosyVoice3-0.5B', url: 'http://svc:p4ssw0rd@127.0.0.1:9/base?api_key=SECRETKEY' },
      // A query only, at a port nothing listens on: "connection refused", printed with the URL.
      { id: 'triton-query', kind: 'cosyvoice-triton', generation: 2, model: 'CosyVoice2-0.5B', url: `http://127.0.0.1:${port}/base?api_key=SECRETKEY2`, tritonModel: 'cosyvoice2' },
    ]),
    CHORUS_ENGINE_PROBE_MS: '200',
  }));
  let viewer: Person;
  let member: Person;
  let db: Db;
  beforeAll(async () => {
    viewer = await addPerson(chorus.h, 'viewer');
    member = await addPerson(chorus.h, 'member');
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  /** engine.list over HTTP once both remote engines have been probed down. */
  async function engineList(token: string): Promise<EngineStatus[]> {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${chorus.h.url}/trpc/engine.list`, { headers: bearer(token) });
      expect(res.status).toBe(200);
      const engines = ((await res.json()) as { result: { data: EngineStatus[] } }).result.data;
      if (engines.filter((e) => e.id !== 'builtin').every((e) => e.health.status === 'down')) return engines;
      await sleep(100);
    }
    throw new Error('the remote engines were never probed down');
  }

  it('a viewer’s engine.list shows why the engines are down and which host, without userinfo or the query', async () => {
    const engines = await engineList(viewer.token);
    expect(leaks(engines)).toEqual([]);
    const userinfo = engines.find((e) => e.id === 'http-userinfo')!.health.message!;
    expect(userinfo).toContain('http://127.0.0.1:9/base');
    expect(userinfo).toMatch(/carries a user name or password/);
    const query = engines.find((e) => e.id === 'triton-query')!.health.message!;
    expect(query).toContain(`http://127.0.0.1:${port}/base`);
    expect(query).toMatch(/connection refused/);
  });

  it('the engines print only origin + path, so an admin’s engine.list carries no credentials either', async () => {
    const engines = await engineList(chorus.h.token);
    expect(leaks(engines)).toEqual([]);
    expect(engines.find((e) => e.id === 'triton-query')!.health.message).toContain(`http://127.0.0.1:${port}/base`);
  });

  it('the "Engine … is unreachable" job log line carries no credentials, for a viewer or an admin', async () => {
    const memberClient = connectClient(chorus.h.url, member.token);
    const viewerClient = connectClient(chorus.h.url, viewer.token);
    try {
      await engineList(member.token);
      const { id: promptUploadId } = await uploadReference(chorus.h.url, member.token);
      for (const engineId of ['http-userinfo', 'triton-query']) {
        const job = await memberClient.trpc.job.create.mutate({ engineId, mode: 'zero_shot', text: 'Hello.', promptUploadId, promptText: 'A voice.' });
        await memberClient.trpc.job.cancel.mutate({ id: job.id });
        for (const client of [viewerClient, chorus.client]) {
          const stream = collectEvents(client, job.id);
          await stream.done;
          expect(stream.events).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringMatching(/is unreachable \(.*127\.0\.0\.1.*\); this job waits/) }));
          expect([engineId, leaks(stream.events)]).toEqual([engineId, []]);
        }
        // The stored line itself is clean: it was built from the engine's own message.
        expect(leaks(await db.jobEvent.findMany({ where: { jobId: job.id } }))).toEqual([]);
      }
    } finally {
      memberClient.close();
      viewerClient.close();
    }
  });

  it('job.cancel answers a member with the summary redacted (as job.get does), an admin with it as stored', async () => {
    const memberClient = connectClient(chorus.h.url, member.token);
    try {
      const { id: promptUploadId } = await uploadReference(chorus.h.url, member.token);
      /** A job held in the queue by its down engine, carrying error text a worker stored before it was put back in the queue. */
      const queuedWithError = async (): Promise<string> => {
        const job = await memberClient.trpc.job.create.mutate({ engineId: 'http-userinfo', mode: 'zero_shot', text: 'Hello.', promptUploadId, promptText: 'A voice.' });
        const marked = await db.job.updateMany({
          where: { id: job.id, status: 'queued' },
          data: { errorMessage: 'leaky.py failed: token=hf_SECRETTOKEN123 user alice@corp', errorHint: 'Ask alice@corp about /srv/secret/dir/run.log.' },
        });
        expect(marked.count).toBe(1);
        return job.id;
      };
      const own = await memberClient.trpc.job.cancel.mutate({ id: await queuedWithError() });
      expect(own).toMatchObject({ status: 'canceled', errorMessage: 'leaky.py failed: token=[redacted] user [email]', errorHint: 'Ask [email] about …/run.log.' });
      const byAdmin = await chorus.client.trpc.job.cancel.mutate({ id: await queuedWithError() });
      expect(byAdmin).toMatchObject({ status: 'canceled', errorMessage: 'leaky.py failed: token=hf_SECRETTOKEN123 user alice@corp' });
    } finally {
      memberClient.close();
    }
  });
});

// A command engine whose program prints secrets on stderr and fails (a library echoing its config).
const LEAKY = `#!/usr/bin/env python3
import sys
sys.stdin.read()
sys.stderr.write("downloading with token=hf_SECRETTOKEN123 user alice@corp\\n")
sys.stderr.write("RuntimeError: hub login failed for alice@corp: Authorization: Bearer abcdef123456\\n")
sys.exit(1)
`;
const ENGINE_SECRETS = ['hf_SECRETTOKEN123', 'alice@corp', 'abcdef123456'];
const engineLeaks = (value: unknown): string[] => ENGINE_SECRETS.filter((s) => JSON.stringify(value).includes(s));

describe('non-admins see engine output and errors with secrets masked', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-leaky-'));
  const program = path.join(dir, 'leaky.py');
  fs.writeFileSync(program, LEAKY, { mode: 0o755 });
  const chorus = useChorus({
    CHORUS_ENGINES: JSON.stringify([
      { id: 'builtin', kind: 'builtin' },
      { id: 'leaky', kind: 'command', generation: 3, model: 'Test model', command: [program] },
      // Down: its health message names the missing program by its full path.
      { id: 'missing', kind: 'command', generation: 3, model: 'Test model', command: [path.join(dir, 'private-models', 'runner.py')] },
    ]),
    CHORUS_ENGINE_PROBE_MS: '200',
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('engine.list gives non-admins the health message redacted like a job log (no directories), admins as it is', async () => {
    const viewer = await addPerson(chorus.h, 'viewer');
    const messageFor = async (token: string): Promise<string> => {
      for (let i = 0; i < 50; i++) {
        const engines = ((await (await fetch(`${chorus.h.url}/trpc/engine.list`, { headers: bearer(token) })).json()) as { result: { data: EngineStatus[] } }).result.data;
        const missing = engines.find((e) => e.id === 'missing')!;
        if (missing.health.status === 'down') return missing.health.message!;
        await sleep(100);
      }
      throw new Error('the engine was never probed down');
    };
    expect(await messageFor(chorus.h.token)).toContain(path.join(dir, 'private-models', 'runner.py'));
    const shown = await messageFor(viewer.token);
    expect(shown).toContain('…/runner.py');
    expect(shown).not.toContain('private-models');
  });

  it('a failed job’s log, error event and error message: masked for a viewer and a member, as stored for an admin', async () => {
    const viewer = await addPerson(chorus.h, 'viewer');
    const member = await addPerson(chorus.h, 'member');
    const memberClient = connectClient(chorus.h.url, member.token);
    const viewerClient = connectClient(chorus.h.url, viewer.token);
    try {
      const job = await chorus.client.trpc.job.create.mutate({ engineId: 'leaky', mode: 'cross_lingual', text: 'Hello.', promptUploadId: chorus.uploadId });
      const adminStream = collectEvents(chorus.client, job.id);
      await adminStream.done;
      expect(adminStream.events.at(-1)).toMatchObject({ type: 'status', status: 'failed' });
      // Admins see the stored text: the secrets really are in it.
      expect(engineLeaks(adminStream.events)).toEqual(ENGINE_SECRETS);
      expect((await chorus.client.trpc.job.get.query({ id: job.id })).errorMessage).toContain('alice@corp');
      for (const client of [viewerClient, memberClient]) {
        const stream = collectEvents(client, job.id);
        await stream.done;
        expect(engineLeaks(stream.events)).toEqual([]);
        expect(JSON.stringify(stream.events)).toContain('token=[redacted] user [email]');
        const summary = await client.trpc.job.get.query({ id: job.id });
        expect(summary.errorMessage).toMatch(/\[email\]: Authorization: \[redacted\]/);
        expect(engineLeaks(summary)).toEqual([]);
        expect(engineLeaks((await client.trpc.job.list.query({})).items)).toEqual([]);
      }
    } finally {
      memberClient.close();
      viewerClient.close();
    }
  });
});

describe('auth.createToken needs the current password (a stolen session cannot mint a lasting token)', () => {
  // Behind a "proxy", so each test picks its client address (X-Forwarded-For).
  const chorus = useChorus({ CHORUS_TRUST_PROXY: 'true' });
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  const create = (person: Person, body: Record<string, unknown>, address: string): Promise<Response> =>
    post(chorus.h.url, 'auth.createToken', body, { cookie: person.cookie, 'x-forwarded-for': address });
  const tokenCount = (person: Person): Promise<number> => db.apiToken.count({ where: { userId: person.id } });

  it('without it or with a wrong one: a 400 that says only that, and no token; with the right one: a working token', async () => {
    const person = await addPerson(chorus.h, 'viewer');
    const before = await tokenCount(person);
    const missing = await create(person, { name: 'script' }, '192.0.2.1');
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/Current password must be a string/);
    const wrong = await create(person, { name: 'script', currentPassword: 'not my password' }, '192.0.2.1');
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe('Wrong password.');
    expect(await tokenCount(person)).toBe(before);

    const right = await create(person, { name: 'script', currentPassword: person.password }, '192.0.2.1');
    expect(right.status).toBe(200);
    const { id, token } = ((await right.json()) as { result: { data: { id: string; token: string } } }).result.data;
    expect((await fetch(`${chorus.h.url}/trpc/auth.me`, { headers: bearer(token) })).status).toBe(200);
    // The API keeps its contract: no expiresInDays, no expiry (the web form sends 90 days by default).
    expect((await db.apiToken.findUniqueOrThrow({ where: { id } })).expiresAt).toBeNull();
    const dated = await create(person, { name: 'dated', currentPassword: person.password, expiresInDays: 90 }, '192.0.2.1');
    const datedId = ((await dated.json()) as { result: { data: { id: string } } }).result.data.id;
    const expiresAt = (await db.apiToken.findUniqueOrThrow({ where: { id: datedId } })).expiresAt!.getTime();
    expect(Math.abs(expiresAt - (Date.now() + 90 * 24 * 3600_000))).toBeLessThan(60_000);
  });

  it('wrong passwords are limited per account and address (shared with changePassword); another address, and strangers’ failed sign-ins, do not block it', async () => {
    const person = await addPerson(chorus.h, 'member');
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => create(person, { name: `guess ${i}`, currentPassword: `guess number ${i}` }, '192.0.2.10')));
    const statuses = guesses.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    const late = await create(person, { name: 'right', currentPassword: person.password }, '192.0.2.10');
    expect(late.status).toBe(429);
    expect(Number(late.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await late.text()).toMatch(/Too many wrong current passwords; try again in \d+ s/);
    const change = await post(chorus.h.url, 'auth.changePassword', { currentPassword: person.password, newPassword: 'a different password' }, { cookie: person.cookie, 'x-forwarded-for': '192.0.2.10' });
    expect(change.status).toBe(429);
    expect((await create(person, { name: 'elsewhere', currentPassword: person.password }, '192.0.2.11')).status).toBe(200);

    // Strangers fail the person's sign-in from an address until it is locked out there...
    const strangers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(chorus.h.url, 'auth.login', { email: person.email, password: `stranger ${i}` }, { 'x-forwarded-for': '192.0.2.12' })));
    expect(strangers.map((r) => r.status)).toContain(429);
    // ...and the signed-in person may still create a token from it.
    expect((await create(person, { name: 'after strangers', currentPassword: person.password }, '192.0.2.12')).status).toBe(200);
  });
});
