import { isTerminalStatus, type JobStatus } from '../schemas/common.ts';
import type { JobEvent } from '../schemas/job-event.ts';
import type { ApiServices } from '../trpc.ts';
import { idleRereadsFor } from './job-events-idle-reread.ts';

const isEnd = (e: JobEvent): boolean => e.type === 'status' && isTerminalStatus(e.status);

export interface JobEventStreamOptions {
  /** Re-read the log when no live event arrived for this long (ms), so a lost last bus message is found; 0: never. */
  idleRereadMs?: number;
}

export const DEFAULT_IDLE_REREAD_MS = 1000;

/**
 * A job's events after `afterSeq`, gap-free and without duplicates: attach to the bus
 * first, then replay the stored log, then stream live events, filling any hole from the
 * log. A bus may lose messages (Redis pub/sub is at-most-once): a hole is filled when a
 * later event arrives, and a stream that heard nothing for `idleRereadMs` re-reads the log
 * after its last seq, so a lost last event is found too. Ends after the terminal status
 * event (the last event a job ever gets).
 */
export async function* streamJobEvents(
  ctx: Pick<ApiServices, 'db' | 'bus' | 'events' | 'eventStream'>,
  jobId: string,
  afterSeq: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<JobEvent> {
  const pending: JobEvent[] = [];
  // An idle re-read that failed: the stream ends with its error (the client resumes from its last id).
  const state: { failure: { err: unknown } | null } = { failure: null };
  let wake: (() => void) | null = null;
  let heard: (() => void) | null = null;
  const unsubscribe = ctx.bus.subscribeJobEvents(jobId, (event) => {
    pending.push(event);
    heard?.();
    wake?.();
  });
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort);
  let last = afterSeq;
  let stopRereads: (() => void) | null = null;
  try {
    // Read after attaching: a job that had already ended when we attached gets no more events.
    const job = await ctx.db.job.findUnique({ where: { id: jobId }, select: { status: true, lastSeq: true } });
    for (const event of await ctx.events.read(jobId, last)) {
      yield event;
      last = event.seq;
      if (isEnd(event)) return;
    }
    // The client already had everything, the terminal status included (it reconnected after the end).
    if (!job || (isTerminalStatus(job.status as JobStatus) && last >= job.lastSeq)) return;
    const idleMs = ctx.eventStream?.idleRereadMs ?? DEFAULT_IDLE_REREAD_MS;
    if (idleMs > 0) {
      const watch = idleRereadsFor(ctx.events, (id, after) => ctx.events.read(id, after), idleMs).watch({
        jobId,
        last: () => last,
        // Re-read events join the live ones: the loop below drops what it already sent.
        deliver: (events) => {
          pending.push(...events);
          wake?.();
        },
        fail: (err) => {
          state.failure = { err };
          wake?.();
        },
      });
      heard = watch.heard;
      stopRereads = watch.stop;
    }
    while (!signal?.aborted) {
      if (state.failure) throw state.failure.err;
      if (pending.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      pending.sort((a, b) => a.seq - b.seq);
      const event = pending.shift()!;
      if (event.seq <= last) continue; // already sent
      if (event.seq > last + 1) {
        // A hole (e.g. a bus message lost in scale-out): the log has what we missed.
        for (const missed of await ctx.events.read(jobId, last, event.seq)) {
          yield missed;
          last = missed.seq;
          if (isEnd(missed)) return;
        }
      }
      yield event;
      last = event.seq;
      if (isEnd(event)) return;
    }
  } finally {
    stopRereads?.();
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
