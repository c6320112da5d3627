import { isTerminalStatus, type JobStatus } from '../schemas/common.ts';
import type { JobEvent } from '../schemas/job-event.ts';
import type { ApiServices } from '../trpc.ts';

const isEnd = (e: JobEvent): boolean => e.type === 'status' && isTerminalStatus(e.status);

/**
 * A job's events after `afterSeq`, gap-free and without duplicates: attach to the bus
 * first, then replay the stored log, then stream live events, filling any hole from the
 * log. Ends after the terminal status event (the last event a job ever gets).
 */
export async function* streamJobEvents(
  ctx: Pick<ApiServices, 'db' | 'bus' | 'events'>,
  jobId: string,
  afterSeq: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<JobEvent> {
  const pending: JobEvent[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = ctx.bus.subscribeJobEvents(jobId, (event) => {
    pending.push(event);
    wake?.();
  });
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort);
  let last = afterSeq;
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
    while (!signal?.aborted) {
      if (pending.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      pending.sort((a, b) => a.seq - b.seq);
      const event = pending.shift()!;
      if (event.seq <= last) continue; // already replayed
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
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
