export interface ProgressPoint {
  step: number;
  total: number;
  etaMs: number | null;
}

const TOTAL = 1000;
/** Share shown when the expected time is up; beyond it progress creeps towards CEILING. */
const AT_EXPECTED = 0.9;
const CEILING = 0.99;

/**
 * Progress while waiting for an answer that comes all at once: a guess from the elapsed
 * time against the expected duration, in per-mille. Linear to 90 % at the expected time,
 * then creeping towards 99 % (never 100 % before the answer); finish() gives 1000/1000.
 * Steps never go backwards.
 */
export class EstimatedProgress {
  private last = -1;

  constructor(
    private readonly expectedMs: number,
    /** performance.now() when the request was sent. */
    private readonly startedAt: number,
  ) {}

  at(now: number): ProgressPoint {
    const elapsed = Math.max(0, now - this.startedAt);
    const expected = Math.max(1, this.expectedMs);
    const share =
      elapsed <= expected ? (AT_EXPECTED * elapsed) / expected : AT_EXPECTED + (CEILING - AT_EXPECTED) * (1 - Math.exp(-(elapsed - expected) / expected));
    const step = Math.max(this.last, Math.min(Math.floor(share * TOTAL), TOTAL - 1));
    this.last = step;
    return { step, total: TOTAL, etaMs: elapsed < expected ? Math.round(expected - elapsed) : null };
  }

  /** The point at `now`, or null when the step has not moved since the last one. */
  next(now: number): ProgressPoint | null {
    const before = this.last;
    const point = this.at(now);
    return point.step === before ? null : point;
  }

  finish(): ProgressPoint {
    this.last = TOTAL;
    return { step: TOTAL, total: TOTAL, etaMs: 0 };
  }
}
