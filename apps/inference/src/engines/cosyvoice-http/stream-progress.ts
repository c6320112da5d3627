/** A progress event's payload. */
export interface ProgressPoint {
  step: number;
  total: number;
  etaMs: number | null;
}

/** Progress never shows more than this share while audio still streams in. */
const MAX_SHARE_WHILE_STREAMING = 0.95;

/**
 * Progress of a streamed answer: audio received against an estimate of the whole take.
 * Steps are tenths of a second of audio. The runtime never says how much audio is coming,
 * so the total starts as an estimate from the text; when more audio arrives than the
 * estimate allowed for, the total grows with it (progress holds at 95 % instead of running
 * past the end). finish() sets total = step = what really arrived.
 * The ETA comes from the observed throughput: audio seconds received per wall second.
 */
export class StreamProgress {
  private readonly estimatedSteps: number;
  private lastStep = -1;
  private lastTotal = -1;

  constructor(
    estimatedSeconds: number,
    /** performance.now() when the request was sent. */
    private readonly startedAt: number,
  ) {
    this.estimatedSteps = Math.max(1, Math.ceil(estimatedSeconds * 10));
  }

  /** The point for `receivedSeconds` of audio at `now`, or null if nothing visible changed. */
  update(receivedSeconds: number, now: number): ProgressPoint | null {
    const step = Math.floor(receivedSeconds * 10);
    const total = Math.max(this.estimatedSteps, Math.ceil(step / MAX_SHARE_WHILE_STREAMING), step + 1);
    if (step === this.lastStep && total === this.lastTotal) return null;
    this.lastStep = step;
    this.lastTotal = total;
    const elapsed = (now - this.startedAt) / 1000;
    const rate = elapsed > 0 ? receivedSeconds / elapsed : 0;
    const etaMs = rate > 0 ? Math.round(((total - step) / 10 / rate) * 1000) : null;
    return { step, total, etaMs };
  }

  /** The final point: everything arrived. */
  finish(receivedSeconds: number): ProgressPoint {
    const total = Math.max(1, Math.ceil(receivedSeconds * 10));
    return { step: total, total, etaMs: 0 };
  }
}
