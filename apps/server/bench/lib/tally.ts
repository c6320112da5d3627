/** What one subscriber saw of one emitter run: latencies, missing, duplicated and out-of-order lines. */
import { wallMs } from './processes.ts';

/** A subscriber of either server, as the scenarios drive it. */
export interface Subscriber {
  tally: Tally;
  /** The server has this subscription registered (bare: socket open; Chorus: first event replayed). */
  subscribed: Promise<void>;
  close(): void;
}

const LINE = /^bench (\d+) (\d+(?:\.\d+)?)$/;

/** An emitter line "bench <i> <due ms>", or null for any other message. */
export function parseBenchLine(text: string): { index: number; dueMs: number } | null {
  const match = LINE.exec(text);
  return match ? { index: Number(match[1]), dueMs: Number(match[2]) } : null;
}

export class Tally {
  readonly latencies: number[] = [];
  duplicates = 0;
  outOfOrder = 0;
  /** Socket closes before the run ended (close code 1006 and the like). */
  drops = 0;
  endedAt = 0;
  /** Things worth reporting when a run does not start (e.g. a job's error event). */
  readonly notes: string[] = [];
  /** Set before the benchmark closes the socket itself, so that close is not a drop. */
  closing = false;
  private seen = new Set<number>();
  private last = -1;
  private onReady!: () => void;
  private onEnd!: () => void;
  /** The emitter printed "bench ready": it runs and waits for the go file. */
  readonly ready = new Promise<void>((r) => (this.onReady = r));
  /** The emitter's "bench end" line arrived. */
  readonly ended = new Promise<void>((r) => (this.onEnd = r));

  get delivered(): number {
    return this.seen.size;
  }

  /** One log message as the subscriber received it. */
  message(text: string): void {
    const now = wallMs();
    const match = LINE.exec(text);
    if (match) {
      const i = Number(match[1]);
      if (this.seen.has(i)) {
        this.duplicates++;
        return;
      }
      this.seen.add(i);
      if (i < this.last) this.outOfOrder++;
      this.last = i;
      this.latencies.push(now - Number(match[2]));
    } else if (text === 'bench ready') {
      this.onReady();
    } else if (text.startsWith('bench end ')) {
      this.endedAt = now;
      this.onEnd();
    }
  }

  closed(): void {
    if (!this.endedAt && !this.closing) this.drops++;
  }
}

/** The q-quantile (0–1) of already sorted numbers. */
export const quantile = (sorted: number[], q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
