/** One redraw of a tqdm progress bar, as read from a line of output. */
export interface TqdmBar {
  /** The bar's description (`desc: 45%|…`), '' when it has none. */
  desc: string;
  step: number;
  total: number;
  /** The bar's own estimate of the time left; null when it shows `?`. */
  etaMs: number | null;
}

// tqdm's default format: "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]".
// The rate may be "2.50it/s", "1.25s/it" or "?it/s"; counts may be unit-scaled ("1.2k").
const COUNT = String.raw`(\d+(?:\.\d+)?[kMGTPEZY]?)`;
const TIME = String.raw`(\?|\d+(?::\d+)*)`;
const TQDM_LINE = new RegExp(String.raw`^\s*(?:(.*?):\s*)?\d{1,3}%\|[^|]*\|\s*${COUNT}\/${COUNT}\s*\[${TIME}<${TIME}(?:,[^\]]*)?\]`);

const SCALE: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Z: 1e21, Y: 1e24 };

function parseCount(text: string): number {
  const suffix = text.at(-1)!;
  const factor = SCALE[suffix];
  return Math.round(factor ? Number(text.slice(0, -1)) * factor : Number(text));
}

/** tqdm's interval format ("04", "00:04", "1:02:03"; hours are not padded) in ms, or null for "?". */
export function parseTqdmInterval(text: string): number | null {
  if (text === '?') return null;
  let seconds = 0;
  for (const part of text.split(':')) seconds = seconds * 60 + Number(part);
  return Number.isFinite(seconds) ? seconds * 1000 : null;
}

/**
 * The bar at the start of this line, or null if the line is not a tqdm bar with a known
 * total. `rest` is whatever follows the bar on the same line: tqdm leaves the cursor after
 * its bar, so the next log line written to stderr starts right there.
 */
export function parseTqdmLine(line: string): { bar: TqdmBar; rest: string } | null {
  const m = TQDM_LINE.exec(line);
  if (!m) return null;
  const total = parseCount(m[3]!);
  const step = parseCount(m[2]!);
  if (!(total > 0) || !(step >= 0)) return null;
  return {
    bar: { desc: (m[1] ?? '').trim(), step: Math.min(step, total), total, etaMs: parseTqdmInterval(m[5]!) },
    rest: line.slice(m[0].length).trim(),
  };
}

/**
 * Turns redraws into progress: per bar (same description and total) only forward steps
 * pass, so identical redraws and tqdm's final refresh are dropped. A bar seen again at
 * step 0 is a new loop with the same shape and starts over.
 */
export class TqdmTracker {
  private readonly lastStep = new Map<string, number>();

  accept(bar: TqdmBar): TqdmBar | null {
    const key = `${bar.desc}\u0000${bar.total}`;
    const last = this.lastStep.get(key);
    if (last !== undefined && bar.step <= last && !(bar.step === 0 && last > 0)) return null;
    if (last === undefined && this.lastStep.size >= 64) this.lastStep.clear();
    this.lastStep.set(key, bar.step);
    return bar;
  }
}
