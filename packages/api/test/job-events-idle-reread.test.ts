import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleRereads } from '../src/router/job-events-idle-reread.ts';
import type { JobEvent } from '../src/schemas/job-event.ts';

const event = (seq: number): JobEvent => ({ type: 'log', level: 'info', message: `e${seq}`, seq, at: '2026-01-01T00:00:00.000Z' });

/** The log as the re-reader sees it: events 1..lastSeq per job, and every read written down. */
function fakeLog(lastSeq: Record<string, number>) {
  const reads: { jobId: string; after: number }[] = [];
  let failing: Error | null = null;
  return {
    reads,
    fail: (err: Error) => (failing = err),
    read: async (jobId: string, after: number): Promise<JobEvent[]> => {
      reads.push({ jobId, after });
      if (failing) throw failing;
      return Array.from({ length: Math.max(0, (lastSeq[jobId] ?? 0) - after) }, (_, i) => event(after + i + 1));
    },
  };
}

function watcher(jobId: string, last: number) {
  const got: JobEvent[][] = [];
  const errors: unknown[] = [];
  return { jobId, got, errors, last: () => last, deliver: (events: JobEvent[]) => got.push(events), fail: (err: unknown) => errors.push(err) };
}

describe('idle re-reads of the log', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('read once per job and tick for every silent stream of it, after the lowest seq any of them sent', async () => {
    const log = fakeLog({ job_a: 10, job_b: 4 });
    const rereads = new IdleRereads(log.read, 1000);
    const onA = Array.from({ length: 100 }, (_, i) => watcher('job_a', 5 + (i % 5)));
    const onB = watcher('job_b', 4);
    const handles = [...onA, onB].map((w) => rereads.watch(w));
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.reads.sort((x, y) => x.jobId.localeCompare(y.jobId))).toEqual([
      { jobId: 'job_a', after: 5 },
      { jobId: 'job_b', after: 4 },
    ]);
    // Each gets what the log had after the lowest seq; the stream drops what it already sent.
    for (const w of onA) expect(w.got.map((batch) => batch.map((e) => e.seq))).toEqual([[6, 7, 8, 9, 10]]);
    expect(onB.got).toEqual([]); // nothing new for B
    for (const h of handles) h.stop();
  });

  it('skip a stream that heard a live event since the last tick', async () => {
    const log = fakeLog({ job_a: 3 });
    const rereads = new IdleRereads(log.read, 1000);
    const w = watcher('job_a', 1);
    const handle = rereads.watch(w);
    handle.heard();
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.reads).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.reads).toEqual([{ jobId: 'job_a', after: 1 }]);
    handle.stop();
  });

  it('end the streams of a failed read with its error, and stop reading once every stream left', async () => {
    const log = fakeLog({ job_a: 3 });
    const rereads = new IdleRereads(log.read, 1000);
    const w = watcher('job_a', 1);
    const handle = rereads.watch(w);
    const boom = new Error('database gone');
    log.fail(boom);
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.errors).toEqual([boom]);
    handle.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(log.reads).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
