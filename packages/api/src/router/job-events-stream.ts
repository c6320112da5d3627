import { isTerminalStatus, type JobStatus } from '../schemas/common.ts';
import type { JobEvent } from '../schemas/job-event.ts';
import type { ApiServices } from '../trpc.ts';
import { idleRereadsFor, type IdleWatch, type IdleWatcher } from './job-events-idle-reread.ts';

const isEnd = (e: JobEvent): boolean => e.type === 'status' && isTerminalStatus(e.status);

export interface JobEventStreamOptions {
  /** Re-read the log when no live event arrived for this long (ms), so a lost last bus message is found; 0: never. */
  idleRereadMs?: number;
}

export const DEFAULT_IDLE_REREAD_MS = 1000;

/**
 * One live stream's state, which the bus listener, the idle re-reader and the abort signal all
 * reach: fields and prototype methods, no per-stream closures (an idle subscriber is mostly
 * this object, and ten thousand of them are waiting at once).
 */
class LiveStream implements IdleWatcher {
  /** Live and re-read events not yet sent, in any order. */
  readonly pending: JobEvent[] = [];
  /** The last seq sent. */
  sent: number;
  /** An idle re-read that failed: the stream ends with its error (the client resumes from its last id). */
  failure: { err: unknown } | null = null;
  /** Resolves the loop's wait for more. */
  wake: (() => void) | null = null;
  /** The re-reader's handle, once the stream went live. */
  rereads: IdleWatch | null = null;

  constructor(
    readonly jobId: string,
    afterSeq: number,
  ) {
    this.sent = afterSeq;
  }

  /** A live event from the bus. */
  push(event: JobEvent): void {
    this.pending.push(event);
    this.rereads?.heard();
    this.wake?.();
  }

  // IdleWatcher: re-read events join the live ones (the loop drops what it already sent).
  last(): number {
    return this.sent;
  }

  deliver(events: JobEvent[]): void {
    this.pending.push(...events);
    this.wake?.();
  }

  fail(err: unknown): void {
    this.failure = { err };
    this.wake?.();
  }

  /** The abort signal's listener (an EventListener object: no closure needed). */
  handleEvent(): void {
    this.wake?.();
  }
}

/** Events one stream sends in a row before it lets the event loop run (other sockets, /healthz, the engines' output). */
export const BACKLOG_SLICE = 64;

/**
 * Counts events sent without a pause: a backlog (a replay, or what piled up while the log was
 * saturated) would otherwise be sent in one synchronous run of microtasks, frame after frame,
 * and hold up everything else the process does for as long as that takes.
 */
class BacklogSlicer {
  private inARow = 0;

  /** One more event sent; every BACKLOG_SLICE of them, wait one turn of the event loop. */
  sent(): Promise<void> | undefined {
    if (++this.inARow < BACKLOG_SLICE) return undefined;
    this.inARow = 0;
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Nothing waits: the next event starts a new run. */
  idle(): void {
    this.inARow = 0;
  }
}

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
  const stream = new LiveStream(jobId, afterSeq);
  const { pending } = stream;
  const unsubscribe = ctx.bus.subscribeJobEvents(jobId, (event) => stream.push(event));
  signal?.addEventListener('abort', stream);
  try {
    // Read after attaching: a job that had already ended when we attached gets no more events.
    const job = await ctx.db.job.findUnique({ where: { id: jobId }, select: { status: true, lastSeq: true } });
    const backlog = new BacklogSlicer();
    for (const event of await ctx.events.read(jobId, stream.sent)) {
      yield event;
      stream.sent = event.seq;
      if (isEnd(event)) return;
      await backlog.sent();
    }
    // The client already had everything, the terminal status included (it reconnected after the end).
    if (!job || (isTerminalStatus(job.status as JobStatus) && stream.sent >= job.lastSeq)) return;
    const idleMs = ctx.eventStream?.idleRereadMs ?? DEFAULT_IDLE_REREAD_MS;
    if (idleMs > 0) stream.rereads = idleRereadsFor(ctx.events, (id, after) => ctx.events.read(id, after), idleMs).watch(stream);
    while (!signal?.aborted) {
      if (stream.failure) throw stream.failure.err;
      if (pending.length === 0) {
        backlog.idle();
        await new Promise<void>((resolve) => {
          stream.wake = resolve;
        });
        stream.wake = null;
        continue;
      }
      // What waits, in seq order (live and re-read events interleave); later arrivals wait for the next round.
      const batch = pending.splice(0).sort((a, b) => a.seq - b.seq);
      for (const event of batch) {
        if (signal?.aborted) return;
        if (event.seq <= stream.sent) continue; // already sent
        if (event.seq > stream.sent + 1) {
          // A hole (e.g. a bus message lost in scale-out): the log has what we missed.
          for (const missed of await ctx.events.read(jobId, stream.sent, event.seq)) {
            yield missed;
            stream.sent = missed.seq;
            if (isEnd(missed)) return;
            await backlog.sent();
          }
        }
        yield event;
        stream.sent = event.seq;
        if (isEnd(event)) return;
        await backlog.sent();
      }
    }
  } finally {
    stream.rereads?.stop();
    unsubscribe();
    signal?.removeEventListener('abort', stream);
  }
}
