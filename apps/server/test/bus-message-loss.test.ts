import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTerminalStatus, type JobChange, type JobEvent, type JobEventBus } from '@chorus/api';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startChorus, type RunningChorus } from '../src/index.ts';
import { collectEvents, connectClient, issueToken, LONG_TEXT, range, seqs, TEST_ADMIN_ENV, uploadReference, type Client } from './support/harness.ts';

const REDIS_URL = process.env.CHORUS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A test double of a lossy network around the real Redis bus (only here, in the test): it
 * drops every third job event the server publishes, and every final status, which is the
 * last message a job's subscribers ever get.
 */
function droppingBus(inner: JobEventBus): JobEventBus & { dropped: JobEvent[]; passed: number } {
  let published = 0;
  const bus = {
    dropped: [] as JobEvent[],
    passed: 0,
    publishJobEvent(jobId: string, event: JobEvent): void {
      published++;
      if (published % 3 === 0 || (event.type === 'status' && isTerminalStatus(event.status))) {
        bus.dropped.push(event);
        return;
      }
      bus.passed++;
      inner.publishJobEvent(jobId, event);
    },
    subscribeJobEvents: (jobId: string, listener: (event: JobEvent) => void) => inner.subscribeJobEvents(jobId, listener),
    publishJobChange: (change: JobChange) => inner.publishJobChange(change),
    subscribeJobChanges: (listener: (change: JobChange) => void) => inner.subscribeJobChanges(listener),
  };
  return bus;
}

describe('bus messages lost between the server and Redis, over a real WebSocket', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-bus-loss-'));
  let chorus: RunningChorus;
  let bus: ReturnType<typeof droppingBus>;
  let token: string;
  let clients: Client[] = [];

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${path.join(dir, 'chorus.db')}`,
      CHORUS_DATA_DIR: path.join(dir, 'data'),
      CHORUS_SHUTDOWN_GRACE_MS: '0',
      REDIS_URL,
      CHORUS_REDIS_PREFIX: `test-bus-loss-${process.pid}-${randomBytes(4).toString('hex')}`,
      // Short, so the lost last event is found quickly; the default is 1 s.
      CHORUS_EVENTS_IDLE_REREAD_MS: '200',
      ...TEST_ADMIN_ENV,
    });
    chorus = await startChorus(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), {
      decorateBus: (inner) => (bus = droppingBus(inner)),
    });
    token = await issueToken(chorus.url);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await chorus?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every subscriber still gets every event exactly once, in order, and the stream ends', async () => {
    const uploadId = (await uploadReference(chorus.url, token)).id;
    clients = [connectClient(chorus.url, token), connectClient(chorus.url, token)];
    const created = await clients[0]!.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: uploadId, seed: 11 });
    // One subscriber from the start, one from its third event on (a reconnecting browser).
    const fromStart = collectEvents(clients[0]!, created.id);
    const resumed = collectEvents(clients[1]!, created.id, '3');
    await Promise.all([fromStart.done, resumed.done]);

    const job = await clients[0]!.trpc.job.get.query({ id: created.id });
    expect(job.status).toBe('succeeded');
    expect(seqs(fromStart.events)).toEqual(range(1, job.lastSeq));
    expect(seqs(resumed.events)).toEqual(range(4, job.lastSeq));
    expect(fromStart.ids).toEqual(seqs(fromStart.events).map(String));
    expect(fromStart.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    // The wrapper really lost messages, the final status among them, and let others through.
    expect(bus.dropped.length).toBeGreaterThan(2);
    expect(bus.dropped.some((e) => e.type === 'status' && e.status === 'succeeded')).toBe(true);
    expect(bus.passed).toBeGreaterThan(2);
  });
});
