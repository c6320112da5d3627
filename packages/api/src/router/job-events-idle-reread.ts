import type { JobEvent } from '../schemas/job-event.ts';

/** Reads a job's stored events after a seq (JobEventLog.read). */
export type LogReader = (jobId: string, afterSeq: number) => Promise<JobEvent[]>;

/** One live job.events stream as the re-reader sees it. */
export interface IdleWatcher {
  readonly jobId: string;
  /** The last seq the stream sent. */
  last(): number;
  /** What the log had after it (may overlap what the stream already has: it skips those). */
  deliver(events: JobEvent[]): void;
  /** The read failed: the stream ends with this error (the client resumes with its last id). */
  fail(err: unknown): void;
}

/** A watched stream's handle: `heard()` on every live event, `stop()` when it ends. */
export interface IdleWatch {
  heard(): void;
  stop(): void;
}

/** One watched stream (its own handle: methods on the prototype, nothing allocated per stream but this). */
class Entry implements IdleWatch {
  /** A live event arrived since the last tick. */
  wasHeard = false;
  reading = false;

  constructor(
    readonly watcher: IdleWatcher,
    private readonly owner: IdleRereads,
  ) {}

  heard(): void {
    this.wasHeard = true;
  }

  stop(): void {
    this.owner.unwatch(this);
  }
}

/**
 * Re-reads the log for streams that heard nothing for a while, so a lost last bus message
 * (the final status, say) is found instead of leaving the subscriber waiting for ever.
 * One timer per process serves every stream, and streams of the same job share one read
 * per tick: ten thousand idle subscribers of one job cost one indexed query a tick.
 * A stream is re-read once it heard nothing for one to two intervals.
 */
export class IdleRereads {
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: LogReader,
    private readonly intervalMs: number,
  ) {}

  /** Watch a stream; `heard()` on every live event, `stop()` when it ends. */
  watch(watcher: IdleWatcher): IdleWatch {
    const entry = new Entry(watcher, this);
    this.entries.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return entry;
  }

  /** Entry.stop(). */
  unwatch(entry: Entry): void {
    this.entries.delete(entry);
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    const due = new Map<string, Entry[]>();
    for (const entry of this.entries) {
      if (entry.wasHeard || entry.reading) {
        entry.wasHeard = false;
        continue;
      }
      const group = due.get(entry.watcher.jobId);
      if (group) group.push(entry);
      else due.set(entry.watcher.jobId, [entry]);
    }
    for (const [jobId, group] of due) {
      let after = Infinity;
      for (const entry of group) {
        entry.reading = true;
        after = Math.min(after, entry.watcher.last());
      }
      this.read(jobId, after).then(
        (events) => {
          for (const entry of group) {
            entry.reading = false;
            if (events.length > 0 && this.entries.has(entry)) entry.watcher.deliver(events);
          }
        },
        (err: unknown) => {
          for (const entry of group) {
            entry.reading = false;
            if (this.entries.has(entry)) entry.watcher.fail(err);
          }
        },
      );
    }
  }
}

const rereaders = new WeakMap<object, Map<number, IdleRereads>>();

/** The process's re-reader for this log and interval (created on first use). */
export function idleRereadsFor(log: object, read: LogReader, intervalMs: number): IdleRereads {
  let byInterval = rereaders.get(log);
  if (!byInterval) {
    byInterval = new Map();
    rereaders.set(log, byInterval);
  }
  let rereads = byInterval.get(intervalMs);
  if (!rereads) {
    rereads = new IdleRereads(read, intervalMs);
    byInterval.set(intervalMs, rereads);
  }
  return rereads;
}
