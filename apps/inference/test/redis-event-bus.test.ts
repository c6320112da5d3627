import { jobSummarySchema, type JobChange, type JobEvent, type JobSummary } from '@chorus/api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../src/drivers/redis-event-bus.ts';
import { redisNames } from '../src/drivers/redis-names.ts';
import { deleteKeys, recordingLogger, SHARED_REDIS_URL, startOwnRedis, subscribers, uniquePrefix, until, type OwnRedis } from './helpers/redis.ts';

const jobId = (n: number): string => `job_${String(n).padStart(26, '0')}`;
const logEvent = (seq: number, message = `line ${seq}`): JobEvent => ({ type: 'log', level: 'info', message, seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() });

/** Everything a listener got, in order. */
function collector<T>(): { got: T[]; listener: (value: T) => void } {
  const got: T[] = [];
  return { got, listener: (value) => got.push(value) };
}

describe('RedisEventBus on the real Redis: two buses are two processes', () => {
  const prefix = uniquePrefix('bus');
  const names = redisNames(prefix);
  const logA = recordingLogger();
  const logB = recordingLogger();
  let a: RedisEventBus;
  let b: RedisEventBus;
  let raw: Redis;

  beforeAll(async () => {
    a = await RedisEventBus.connect({ url: SHARED_REDIS_URL, prefix, logger: logA });
    b = await RedisEventBus.connect({ url: SHARED_REDIS_URL, prefix, logger: logB });
    raw = new Redis(SHARED_REDIS_URL);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    raw?.disconnect();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('carries a job\'s events from one bus to the other in order, and job changes', async () => {
    const id = jobId(1);
    const events = collector<JobEvent>();
    const changes = collector<JobChange>();
    const stopEvents = b.subscribeJobEvents(id, events.listener);
    const stopChanges = b.subscribeJobChanges(changes.listener);
    await until('B subscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 1 && (await subscribers(raw, names.jobChanges)) === 1);

    const sent = Array.from({ length: 50 }, (_, i) => logEvent(i + 1));
    for (const e of sent) a.publishJobEvent(id, e);
    const summary = jobSummaryFixture(id);
    a.publishJobChange({ kind: 'updated', job: summary });
    await until('50 events and a change at B', () => events.got.length === 50 && changes.got.length === 1);
    expect(events.got).toEqual(sent);
    expect(changes.got).toEqual([{ kind: 'updated', job: summary }]);
    // A's own listeners are not involved: it subscribed to nothing.
    expect(a.subscribedChannels).toBe(0);
    stopEvents();
    stopChanges();
    await until('B unsubscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 0 && (await subscribers(raw, names.jobChanges)) === 0);
  });

  it('subscribes to a job\'s channel once however many listeners, and unsubscribes when the last leaves', async () => {
    const id = jobId(2);
    const first = collector<JobEvent>();
    const second = collector<JobEvent>();
    const third = collector<JobEvent>();
    const stops = [b.subscribeJobEvents(id, first.listener), b.subscribeJobEvents(id, second.listener), b.subscribeJobEvents(id, third.listener)];
    await until('B subscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 1);
    expect(b.subscribedChannels).toBe(1);

    a.publishJobEvent(id, logEvent(1));
    await until('three listeners got seq 1', () => [first, second, third].every((c) => c.got.length === 1));
    stops[0]!();
    stops[0]!(); // a second call changes nothing
    stops[1]!();
    a.publishJobEvent(id, logEvent(2));
    await until('the last listener got seq 2', () => third.got.length === 2);
    // Still one subscription in Redis, for the one listener left.
    expect(await subscribers(raw, names.jobEvents(id))).toBe(1);
    expect(first.got.map((e) => e.seq)).toEqual([1]);
    expect(second.got.map((e) => e.seq)).toEqual([1]);

    stops[2]!();
    await until('the channel unsubscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 0);
    expect(b.subscribedChannels).toBe(0);
    // Subscribing again after the last left works (a new SUBSCRIBE).
    const again = collector<JobEvent>();
    const stopAgain = b.subscribeJobEvents(id, again.listener);
    await until('subscribed again', async () => (await subscribers(raw, names.jobEvents(id))) === 1);
    a.publishJobEvent(id, logEvent(3));
    await until('seq 3 arrived', () => again.got.length === 1);
    expect(again.got[0]!.seq).toBe(3);
    stopAgain();
  });

  it('drops a malformed message with a warning and goes on delivering', async () => {
    const id = jobId(3);
    const events = collector<JobEvent>();
    const changes = collector<JobChange>();
    const stop = b.subscribeJobEvents(id, events.listener);
    const stopChanges = b.subscribeJobChanges(changes.listener);
    // A listener that throws must not keep the event from the other one.
    const stopThrowing = b.subscribeJobEvents(id, () => {
      throw new Error('listener bug');
    });
    await until('B subscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 1 && (await subscribers(raw, names.jobChanges)) === 1);
    const before = logB.lines.length;
    await raw.publish(names.jobEvents(id), 'not json {');
    await raw.publish(names.jobEvents(id), JSON.stringify({ type: 'log', level: 'loud', message: 'x', seq: 1, at: 'now' }));
    await raw.publish(names.jobChanges, JSON.stringify({ kind: 'renamed', job: {} }));
    a.publishJobEvent(id, logEvent(1));
    await until('the valid event arrived', () => events.got.length === 1);
    expect(events.got).toEqual([logEvent(1)]);
    expect(changes.got).toEqual([]);
    const warnings = logB.lines.slice(before).filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings).toEqual(['event bus: dropped a message that is not JSON', 'event bus: dropped a malformed message', 'event bus: dropped a malformed message']);
    expect(logB.lines.slice(before).filter((l) => l.msg === 'event bus: a listener failed')).toHaveLength(1);
    stop();
    stopThrowing();
    stopChanges();
  });

  it('keeps different prefixes apart', async () => {
    const other = await RedisEventBus.connect({ url: SHARED_REDIS_URL, prefix: uniquePrefix('bus-other'), logger: recordingLogger() });
    try {
      const id = jobId(4);
      const here = collector<JobEvent>();
      const there = collector<JobEvent>();
      const stopHere = b.subscribeJobEvents(id, here.listener);
      const stopThere = other.subscribeJobEvents(id, there.listener);
      await until('both subscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 1);
      other.publishJobEvent(id, logEvent(1, 'other deployment'));
      a.publishJobEvent(id, logEvent(1, 'this deployment'));
      await until('each got its own', () => here.got.length === 1 && there.got.length === 1);
      expect(here.got[0]!.type === 'log' && here.got[0]!.message).toBe('this deployment');
      expect(there.got[0]!.type === 'log' && there.got[0]!.message).toBe('other deployment');
      stopHere();
      stopThere();
    } finally {
      await other.close();
    }
  });

  it('refuses a prefix that is not a plain word', () => {
    expect(() => new RedisEventBus({ url: SHARED_REDIS_URL, prefix: 'a b*', logger: recordingLogger() })).toThrow(/must be 1-64 letters, digits/);
  });
});

describe('RedisEventBus when its Redis restarts', () => {
  let own: OwnRedis;
  beforeAll(async () => {
    own = await startOwnRedis();
  });
  afterAll(async () => {
    await own?.stop();
  });

  it('resubscribes when Redis is back; what was published while it was down is lost (the log has it)', async () => {
    const prefix = uniquePrefix('bus-restart');
    const names = redisNames(prefix);
    const logA = recordingLogger();
    const logB = recordingLogger();
    const a = await RedisEventBus.connect({ url: own.url, prefix, logger: logA });
    const b = await RedisEventBus.connect({ url: own.url, prefix, logger: logB });
    const raw = new Redis(own.url, { retryStrategy: () => 50 });
    raw.on('error', () => undefined);
    try {
      const id = jobId(5);
      const events = collector<JobEvent>();
      const stop = b.subscribeJobEvents(id, events.listener);
      await until('B subscribed', async () => (await subscribers(raw, names.jobEvents(id))) === 1);
      a.publishJobEvent(id, logEvent(1));
      await until('seq 1 arrived', () => events.got.length === 1);

      await own.kill();
      await until('A noticed', () => logA.lines.some((l) => l.msg === 'Redis connection down; reconnecting'));
      // Published while A's connection is down: refused at once, not buffered for later.
      a.publishJobEvent(id, logEvent(2));
      await until('the publish failed', () => logA.lines.some((l) => l.msg === 'event bus: cannot publish; subscribers read what they miss from the log'));
      await own.start();
      await until('B resubscribed after the restart', async () => (await subscribers(raw, names.jobEvents(id))) === 1);
      await until('A reconnected', () => logA.lines.some((l) => l.msg === 'Redis connection is back'));
      a.publishJobEvent(id, logEvent(3));
      await until('seq 3 arrived', () => events.got.some((e) => e.seq === 3));
      expect(events.got.map((e) => e.seq)).toEqual([1, 3]);
      // The next publish that worked reports how many were lost.
      await until('the loss reported', () => logA.lines.some((l) => l.msg?.startsWith('event bus: messages were not published') === true && (l.obj as { lost?: number }).lost === 1));
      stop();
    } finally {
      await a.close();
      await b.close();
      raw.disconnect();
    }
  });
});

/** A job summary as job.onChange pushes it (checked against the schema the bus validates with). */
function jobSummaryFixture(id: string): JobSummary {
  return jobSummarySchema.parse({
    id,
    createdBy: { id: 'usr_1', name: 'Ada' },
    canceledBy: null,
    parentRelation: null,
    parentId: null,
    mode: 'zero_shot',
    text: 'Hello.',
    promptUploadId: null,
    promptText: null,
    instruct: null,
    speakerId: null,
    speed: 1,
    seed: 4294967295,
    engineId: 'builtin',
    engineKind: 'builtin',
    engineVersion: '1',
    deterministic: true,
    status: 'running',
    queuePosition: null,
    stage: 'synthesize',
    stageIndex: 1,
    stageCount: 2,
    progressStep: 3,
    progressTotal: 10,
    progressPct: 30,
    etaMs: 1200,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z',
    finishedAt: null,
    errorCode: null,
    errorMessage: null,
    errorHint: null,
    failureFingerprint: null,
    audioUrl: null,
    outputSampleRate: null,
    outputDurationMs: null,
    outputSha256: null,
    lastSeq: 7,
  });
}
