import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_SCRYPT_MIN_N, usePasswordHashCostForTests, type AppRouter, type JobEvent, type UploadResult } from '@chorus/api';
import { createTRPCClient, createWSClient, httpLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from '@trpc/client';
import pino from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, startChorus, type RunningChorus } from '../../src/index.ts';
import { voicedWav } from '../helpers/audio.ts';
import { copyMigratedSqlite, createTestPostgresDatabase, testDatabaseProvider } from '@chorus/db/testing';

// In-process test servers hash passwords at scrypt's lowest test cost (hundreds of sign-ins per
// file); auth-races restores the production cost where the slow check is what a race needs.
usePasswordHashCostForTests(TEST_SCRYPT_MIN_N);

export interface Harness {
  chorus: RunningChorus;
  url: string;
  dir: string;
  databaseUrl: string;
  /** An API token of the test admin (empty when the server started without one). */
  token: string;
  stop(): Promise<void>;
}

/** The admin every test server is created with (CHORUS_ADMIN_EMAIL/PASSWORD, the unattended install). */
export const TEST_ADMIN = { email: 'admin@chorus.test', password: 'test-admin-password', name: 'Test Admin' } as const;
export const TEST_ADMIN_ENV = { CHORUS_ADMIN_EMAIL: TEST_ADMIN.email, CHORUS_ADMIN_PASSWORD: TEST_ADMIN.password, CHORUS_ADMIN_NAME: TEST_ADMIN.name };

/** Sign in over HTTP as a browser would; returns the Cookie header value to send back. */
export async function signIn(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => /^(__Host-)?chorus_session=/.test(c));
  if (!cookie) throw new Error('sign-in set no session cookie');
  return cookie.split(';')[0]!;
}

/** A personal access token for a person (signs in, then creates one). */
export async function issueToken(url: string, email: string = TEST_ADMIN.email, password: string = TEST_ADMIN.password): Promise<string> {
  const cookie = await signIn(url, email, password);
  const res = await fetch(`${url}/trpc/auth.createToken`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'test', currentPassword: password }) });
  if (res.status !== 200) throw new Error(`token creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result: { data: { token: string } } }).result.data.token;
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * A real server on a free port with its own database and data dir, and the test admin: a
 * SQLite file, or with CHORUS_TEST_DATABASE=postgresql a fresh PostgreSQL database (the
 * conformance run: the same tests on both databases).
 */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-test-'));
  const postgres = testDatabaseProvider() === 'postgresql' ? await createTestPostgresDatabase({ migrate: false }) : null;
  const databaseUrl = postgres?.url ?? `file:${path.join(dir, 'chorus.db')}`;
  // Migrated once per run and copied: the server's start finds it up to date (no CLI spawn).
  if (!postgres) await copyMigratedSqlite(path.join(dir, 'chorus.db'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, CHORUS_DATA_DIR: path.join(dir, 'data'), CHORUS_SHUTDOWN_GRACE_MS: '0', ...TEST_ADMIN_ENV, ...env });
  const chorus = await startChorus(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return {
    chorus,
    url: chorus.url,
    dir,
    databaseUrl,
    token: config.bootstrapAdmin ? await issueToken(chorus.url, config.bootstrapAdmin.email, config.bootstrapAdmin.password) : '',
    async stop() {
      await chorus.close();
      await postgres?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Client {
  trpc: TRPCClient<AppRouter>;
  ws: ReturnType<typeof createWSClient>;
  close(): void;
}

/**
 * A real tRPC client: queries/mutations over HTTP (Authorization: Bearer), subscriptions over
 * a real WebSocket (the token in connectionParams); no token means anonymous.
 */
export function connectClient(url: string, token: string | null, opts: { retryDelayMs?: (attempt: number) => number } = {}): Client {
  const ws = createWSClient({
    url: url.replace(/^http/, 'ws') + '/trpc',
    ...(token ? { connectionParams: { token } } : {}),
    // Node 20 has no global WebSocket; the ws package implements the same interface.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: opts.retryDelayMs ?? (() => 100),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        false: httpLink({ url: `${url}/trpc`, headers: token ? bearer(token) : {} }),
      }),
    ],
  });
  return { trpc, ws, close: () => ws.close() };
}

/** Upload a 3 s voiced, speech-like reference clip (or the given bytes). */
export async function uploadReference(url: string, token: string, bytes: Uint8Array = voicedWav({ sampleRate: 24000, seconds: 3, f0: 140 })): Promise<UploadResult> {
  const res = await fetch(`${url}/api/uploads`, { method: 'POST', body: bytes, headers: { 'content-type': 'audio/wav', ...bearer(token) } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as UploadResult;
}

export interface Collected {
  events: JobEvent[];
  ids: string[];
  done: Promise<void>;
  unsubscribe(): void;
}

/** Subscribe to job.events and collect every event until the stream completes. */
export function collectEvents(client: Client, id: string, lastEventId?: string, onEvent?: (e: JobEvent) => void): Collected {
  const events: JobEvent[] = [];
  const ids: string[] = [];
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const sub = client.trpc.job.events.subscribe(
    { id, ...(lastEventId ? { lastEventId } : {}) },
    {
      onData(envelope) {
        ids.push(envelope.id);
        events.push(envelope.data);
        onEvent?.(envelope.data);
      },
      onComplete: () => resolve(),
      onError: (err) => reject(err),
    },
  );
  return { events, ids, done, unsubscribe: () => sub.unsubscribe() };
}

/** Subscribe to a job and resolve once it reports its first progress (it is really running). */
export function collectUntilProgress(client: Client, id: string): { stream: Collected; progressing: Promise<void> } {
  let signal!: () => void;
  const progressing = new Promise<void>((r) => (signal = r));
  const stream = collectEvents(client, id, undefined, (e) => {
    if (e.type === 'progress') signal();
  });
  return { stream, progressing };
}

export const seqs = (events: JobEvent[]): number[] => events.map((e) => e.seq);
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ChorusFixture {
  h: Harness;
  client: Client;
  /** A 3 s reference clip uploaded to this server. */
  uploadId: string;
}

/** Start a server, a client and a reference upload for one describe block; stop them after it. */
export function useChorus(env: Record<string, string> | (() => Record<string, string>) = {}): ChorusFixture {
  const fixture = {} as ChorusFixture;
  beforeAll(async () => {
    // A function lets the environment name things started in an earlier beforeAll (stand-in servers).
    fixture.h = await startHarness(typeof env === 'function' ? env() : env);
    fixture.client = connectClient(fixture.h.url, fixture.h.token);
    fixture.uploadId = (await uploadReference(fixture.h.url, fixture.h.token)).id;
  });
  afterAll(async () => {
    fixture.client?.close();
    await fixture.h?.stop();
  });
  return fixture;
}

/** A text long enough (many segments, under the built-in engine's limit) to keep a job running a while. */
export const LONG_TEXT = Array.from({ length: 11 }, (_, i) => `This is sentence number ${i + 1} of a long text that keeps the engine busy for a while.`).join(' ');

export interface Person {
  id: string;
  email: string;
  password: string;
  /** Cookie header value of a fresh session. */
  cookie: string;
  token: string;
}

let people = 0;

/** A new teammate through the real invite flow: the admin invites, the person accepts and signs in. */
export async function addPerson(h: Harness, role: 'admin' | 'member' | 'viewer'): Promise<Person> {
  const admin = connectClient(h.url, h.token);
  try {
    const invite = await admin.trpc.members.createInvite.mutate({ role });
    const email = `${role}${++people}-${Date.now()}@chorus.test`;
    const password = `${role}-password-${people}`;
    const res = await fetch(`${h.url}/trpc/auth.acceptInvite`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inviteToken: invite.token, email, name: `${role} ${people}`, password }),
    });
    if (res.status !== 200) throw new Error(`accepting the invite failed: ${res.status} ${await res.text()}`);
    const id = ((await res.json()) as { result: { data: { id: string } } }).result.data.id;
    return { id, email, password, cookie: await signIn(h.url, email, password), token: await issueToken(h.url, email, password) };
  } finally {
    admin.close();
  }
}

/** The tRPC error a call was refused with (fails the test if the call succeeded). */
export async function refusal(p: Promise<unknown>): Promise<TRPCClientError<never>> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  return err as TRPCClientError<never>;
}
