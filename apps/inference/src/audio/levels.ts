/** Level measurements on mono float samples in [-1, 1]. Shared by prompt validation and voice matching. */

export const dbfs = (linear: number): number => (linear > 0 ? 20 * Math.log10(linear) : -Infinity);
export const fromDbfs = (db: number): number => 10 ** (db / 20);

export function peak(samples: Float32Array): number {
  let p = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a > p) p = a;
  }
  return p;
}

export function rms(samples: Float32Array, start = 0, end = samples.length): number {
  if (end <= start) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (end - start));
}

/** Fraction of samples at or above the clip threshold (|x| ≥ 0.999). */
export function clippedFraction(samples: Float32Array, threshold = 0.999): number {
  if (samples.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]!) >= threshold) n++;
  return n / samples.length;
}

export interface FrameLevels {
  frameSize: number;
  /** RMS of each consecutive frame. */
  rms: Float32Array;
}

/** RMS per frame of `frameMs` (default 10 ms), the basis for silence and activity measures. */
export function frameLevels(samples: Float32Array, sampleRate: number, frameMs = 10): FrameLevels {
  const frameSize = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  const count = Math.floor(samples.length / frameSize);
  const out = new Float32Array(count);
  for (let f = 0; f < count; f++) out[f] = rms(samples, f * frameSize, (f + 1) * frameSize);
  return { frameSize, rms: out };
}

export interface SilenceSpan {
  /** Leading silence before the first frame louder than the threshold, in ms. */
  leadingMs: number;
  /** Trailing silence after the last loud frame, in ms. */
  trailingMs: number;
  /** Sample index range of the non-silent part [start, end). */
  start: number;
  end: number;
}

/**
 * Leading/trailing silence relative to the signal's own peak (like librosa's trim with
 * top_db, which CosyVoice's web UI used with top_db = 60).
 */
export function measureSilence(samples: Float32Array, sampleRate: number, topDb = 60): SilenceSpan {
  const { frameSize, rms: levels } = frameLevels(samples, sampleRate);
  const threshold = peak(samples) * fromDbfs(-topDb);
  let first = -1;
  let last = -1;
  for (let f = 0; f < levels.length; f++) {
    if (levels[f]! > threshold) {
      if (first < 0) first = f;
      last = f;
    }
  }
  const msPerFrame = (frameSize * 1000) / sampleRate;
  if (first < 0) return { leadingMs: (samples.length * 1000) / sampleRate, trailingMs: 0, start: 0, end: 0 };
  return {
    leadingMs: first * msPerFrame,
    trailingMs: (levels.length - 1 - last) * msPerFrame,
    start: first * frameSize,
    end: Math.min(samples.length, (last + 1) * frameSize),
  };
}
