import { appRouter } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { voicedWav } from './helpers/audio.ts';
import { bearer, signIn, TEST_ADMIN, useChorus } from './support/harness.ts';

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: 'query' | 'mutation' | 'subscription' } }>;
const ofType = (type: string): string[] => Object.keys(procedures).filter((p) => procedures[p]!._def.type === type);

/** Rows any mutation could write: a cross-site request must change none of them. */
async function snapshot(db: Db): Promise<number[]> {
  return Promise.all([db.job.count(), db.jobEvent.count(), db.upload.count(), db.user.count(), db.session.count(), db.apiToken.count(), db.invite.count(), db.setting.count(), db.failureGroup.count()]);
}

describe('cross-site requests that ride on the session cookie', () => {
  const chorus = useChorus();
  let db: Db;
  let cookie: string;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    cookie = await signIn(chorus.h.url, TEST_ADMIN.email, TEST_ADMIN.password);
  });
  afterAll(async () => db?.$disconnect());

  const attacks: Record<string, Record<string, string>> = {
    'text/plain from a foreign Origin': { 'content-type': 'text/plain', origin: 'https://evil.example' },
    'a form post from a foreign Origin': { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    'a cross-site fetch without Origin': { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
    'an opaque (sandboxed) origin': { 'content-type': 'text/plain', origin: 'null' },
  };

  it('refuses every mutation and the upload route, and creates nothing', async () => {
    const before = await snapshot(db);
    const mutations = ofType('mutation');
    expect(mutations.length).toBeGreaterThan(20);
    for (const [attack, headers] of Object.entries(attacks)) {
      for (const path of mutations) {
        const res = await fetch(`${chorus.h.url}/trpc/${path}`, { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ mode: 'cross_lingual', text: 'x', promptUploadId: chorus.uploadId, role: 'admin' }) });
        expect([attack, path, res.status]).toEqual([attack, path, 403]);
        expect(await res.json()).toMatchObject({ error: { code: 'CROSS_SITE' } });
      }
      const upload = await fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', headers: { ...headers, cookie }, body: voicedWav({ sampleRate: 24000, seconds: 3, f0: 222 }) });
      expect([attack, upload.status]).toEqual([attack, 403]);
    }
    expect(await snapshot(db)).toEqual(before);
  });

  it('still serves the same page’s own requests and scripts with a token', async () => {
    const own = await fetch(`${chorus.h.url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', origin: chorus.h.url, 'sec-fetch-site': 'same-origin', cookie }, body: JSON.stringify({ name: 'from the page', currentPassword: TEST_ADMIN.password }) });
    expect(own.status).toBe(200);
    const script = await fetch(`${chorus.h.url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://elsewhere.example', ...bearer(chorus.h.token) }, body: JSON.stringify({ name: 'from a script', currentPassword: TEST_ADMIN.password }) });
    expect(script.status).toBe(200);
  });
});

/** What an answer must never carry: a stack, database internals, or a server path. */
const LEAK = /\bat \S+ \(|\bat file:|node_modules|\/work\/|\/tmp\/|\/root\/|[Pp]risma|SQLITE|\.ts:\d+|invocation/;

// 300 per procedure by default (about 15 s over every procedure); CHORUS_FUZZ_RUNS=1000 or more for a longer soak.
const RUNS = Number(process.env.CHORUS_FUZZ_RUNS ?? 300);

/** Hostile inputs: anything JSON can say, plus strings with lone surrogates, NUL bytes and 10 kB runs. */
const nasty = fc.oneof(
  fc.string(),
  fc.constantFrom('\ud800', 'job_\u0000', 'x'.repeat(10_000), 'job_' + '\udfff'.repeat(26), '../../etc/passwd', '%00', 'usr_' + 'z'.repeat(26)),
  fc.integer(),
  fc.double(),
  fc.constant(null),
);
const hostileInput = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('id', 'text', 'mode', 'instruct', 'promptText', 'cursor', 'email', 'password', 'role', 'userId', 'fingerprint', 'seed', 'limit', 'lastEventId', 'jobIds', 'note', 'name'), nasty),
  fc.record({ id: nasty, text: nasty, cursor: nasty, promptText: nasty, instruct: nasty, mode: fc.constantFrom('zero_shot', 'instruct', 'x') }),
);

describe('no answer leaks internals, whatever the input', () => {
  const chorus = useChorus();

  it(`answers ${RUNS} hostile inputs per query and mutation over HTTP without a 5xx, a stack or a path`, async () => {
    const failures: string[] = [];
    const paths = [...ofType('query'), ...ofType('mutation')].filter((p) => p !== 'auth.logout');
    for (const path of paths) {
      const type = procedures[path]!._def.type;
      const inputs = fc.sample(hostileInput, RUNS).map((input) => JSON.stringify(input) ?? 'null');
      // tRPC's HTTP batching (many calls per request) keeps 1,000 inputs per procedure quick.
      const batches: string[][] = [];
      for (const body of inputs) {
        const last = batches.at(-1);
        const size = (last ?? []).reduce((n, b) => n + b.length, 0);
        if (!last || last.length >= 25 || size + body.length > 6000) batches.push([body]);
        else last.push(body);
      }
      for (let i = 0; i < batches.length; i += 4) {
        await Promise.all(
          batches.slice(i, i + 4).map(async (batch) => {
            const targets = batch.map(() => path).join(',');
            const payload = `{${batch.map((b, n) => `"${n}":${b}`).join(',')}}`;
            const res =
              type === 'query'
                ? await fetch(`${chorus.h.url}/trpc/${targets}?batch=1&input=${encodeURIComponent(payload)}`, { headers: bearer(chorus.h.token) })
                : await fetch(`${chorus.h.url}/trpc/${targets}?batch=1`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(chorus.h.token) }, body: payload });
            const text = await res.text();
            const answers = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { error?: { data?: { httpStatus?: number } } }[]) : [];
            const serverError = res.status >= 500 || (Array.isArray(answers) && answers.some((a) => (a.error?.data?.httpStatus ?? 200) >= 500));
            if (serverError || LEAK.test(text)) failures.push(`${path} ${payload.slice(0, 120)} → ${res.status} ${text.slice(0, 300)}`);
          }),
        );
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  }, 600_000);

  it('answers hostile subscription inputs over the WebSocket the same way, and a lone-surrogate id gets a 400', async () => {
    const failures: string[] = [];
    const ws = new WebSocket(chorus.h.url.replace('http', 'ws') + '/trpc?connectionParams=1');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: chorus.h.token } }));
    const answers = new Map<number, (msg: string) => void>();
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const msg = JSON.parse(text) as { id: number; result?: { type: string } };
      answers.get(msg.id)?.(text);
    });
    let id = 0;
    const ask = (path: string, input: unknown): Promise<string> =>
      new Promise((resolve) => {
        const n = ++id;
        answers.set(n, (text) => {
          answers.delete(n);
          ws.send(JSON.stringify({ id: n, method: 'subscription.stop' }));
          resolve(text);
        });
        ws.send(JSON.stringify({ id: n, method: 'subscription', params: { path, input } }));
      });
    const surrogate = JSON.parse(await ask('job.events', { id: '\ud800' })) as { error?: { message: string; data: { httpStatus: number } } };
    expect(surrogate.error?.data.httpStatus).toBe(400);
    expect(surrogate.error?.message).toMatch(/A job id is "job_" followed by 26/);
    for (const input of fc.sample(hostileInput, Math.min(RUNS, 300))) {
      const text = await ask('job.events', input);
      const msg = JSON.parse(text) as { error?: { data?: { httpStatus?: number } } };
      if ((msg.error?.data?.httpStatus ?? 200) >= 500 || LEAK.test(text)) failures.push(`${JSON.stringify(input).slice(0, 100)} → ${text.slice(0, 300)}`);
    }
    ws.close();
    expect(failures.slice(0, 5)).toEqual([]);
  }, 120_000);
});
