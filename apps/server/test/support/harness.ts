import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AppRouter, JobEvent, UploadResult } from '@chorus/api';
import { createTRPCClient, createWSClient, httpLink, splitLink, wsLink, type TRPCClient } from '@trpc/client';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, startChorus, type RunningChorus } from '../../src/index.ts';
import { voicedWav } from '../helpers/audio.ts';

export interface Harness {
  chorus: RunningChorus;
  url: string;
  dir: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** A real server on a free port with its own SQLite file and data dir. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-test-'));
  const databaseUrl = `file:${path.join(dir, 'chorus.db')}`;
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, CHORUS_DATA_DIR: path.join(dir, 'data'), CHORUS_SHUTDOWN_GRACE_MS: '0', ...env });
  const chorus = await startChorus(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return {
    chorus,
    url: chorus.url,
    dir,
    databaseUrl,
    async stop() {
      await chorus.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Client {
  trpc: TRPCClient<AppRouter>;
  ws: ReturnType<typeof createWSClient>;
  close(): void;
}

/** A real tRPC client: queries/mutations over HTTP, subscriptions over a real WebSocket. */
export function connectClient(url: string, opts: { retryDelayMs?: (attempt: number) => number } = {}): Client {
  const ws = createWSClient({
    url: url.replace(/^http/, 'ws') + '/trpc',
    // Node 20 has no global WebSocket; the ws package implements the same interface.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: opts.retryDelayMs ?? (() => 100),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        false: httpLink({ url: `${url}/trpc` }),
      }),
    ],
  });
  return { trpc, ws, close: () => ws.close() };
}

/** Upload a 3 s voiced, speech-like reference clip (or the given bytes). */
export async function uploadReference(url: string, bytes: Uint8Array = voicedWav({ sampleRate: 24000, seconds: 3, f0: 140 })): Promise<UploadResult> {
  const res = await fetch(`${url}/api/uploads`, { method: 'POST', body: bytes, headers: { 'content-type': 'audio/wav' } });
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
    fixture.client = connectClient(fixture.h.url);
    fixture.uploadId = (await uploadReference(fixture.h.url)).id;
  });
  afterAll(async () => {
    fixture.client?.close();
    await fixture.h?.stop();
  });
  return fixture;
}

/** A text long enough (many segments, under the built-in engine's limit) to keep a job running a while. */
export const LONG_TEXT = Array.from({ length: 11 }, (_, i) => `This is sentence number ${i + 1} of a long text that keeps the engine busy for a while.`).join(' ');
