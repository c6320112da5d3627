import type { SpeechActivity } from './speech-activity.ts';
import { dbfs, frameLevels } from './levels.ts';

export interface SyllableRateEstimate {
  /** Syllable nuclei found (peaks of the voiced-band energy envelope). */
  nuclei: number;
  /** Nuclei per second of speech (activity.activeMs). */
  syllablesPerSecond: number;
}

export interface SyllableRateOptions {
  /** A peak must rise this far above the dips on both sides to count as a syllable. */
  minProminenceDb?: number;
  /** Nuclei closer than this are one syllable (caps the rate at 1000 / minGapMs). */
  minGapMs?: number;
}

/** RBJ biquad, applied in place: used to keep the band where vowels carry their energy. */
function biquad(x: Float32Array, sampleRate: number, kind: 'highpass' | 'lowpass', cutoffHz: number): void {
  const w0 = (2 * Math.PI * cutoffHz) / sampleRate;
  const alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w0);
  const b1 = kind === 'lowpass' ? 1 - cos : -(1 + cos);
  const b0 = kind === 'lowpass' ? b1 / 2 : -b1 / 2;
  const a0 = 1 + alpha;
  const [nb0, nb1, nb2, na1, na2] = [b0 / a0, b1 / a0, b0 / a0, (-2 * cos) / a0, (1 - alpha) / a0];
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    const y0 = nb0 * x0 + nb1 * x1 + nb2 * x2 - na1 * y1 - na2 * y2;
    x2 = x1;
    x1 = x0;
    y2 = y1;
    y1 = y0;
    x[i] = y0;
  }
}

/**
 * Speaking rate without a transcript: count syllable nuclei as prominent peaks of the
 * smoothed 300–2500 Hz energy envelope inside detected speech (the classic de Jong &
 * Wempe idea, with energy instead of intensity + voicing). It undercounts fast,
 * connected speech a little; callers treat it as an estimate.
 */
export function estimateSyllableRate(samples: Float32Array, sampleRate: number, activity: SpeechActivity, options: SyllableRateOptions = {}): SyllableRateEstimate {
  const minProminence = options.minProminenceDb ?? 3;
  const minGapFrames = Math.max(1, Math.round((options.minGapMs ?? 100) / activity.frameMs));
  const band = samples.slice();
  biquad(band, sampleRate, 'highpass', 300);
  biquad(band, sampleRate, 'lowpass', 2500);
  const { rms } = frameLevels(band, sampleRate, activity.frameMs);
  const levelDb = rms.map((r) => Math.max(-120, dbfs(r)));
  // Smooth over 50 ms so one vowel gives one peak.
  const envelope = new Float32Array(levelDb.length);
  for (let f = 0; f < levelDb.length; f++) {
    let sum = 0;
    let n = 0;
    for (let k = Math.max(0, f - 2); k <= Math.min(levelDb.length - 1, f + 2); k++, n++) sum += levelDb[k]!;
    envelope[f] = sum / n;
  }

  const peaks: { frame: number; prominence: number }[] = [];
  for (let f = 1; f < envelope.length - 1; f++) {
    if (!activity.active[f]) continue;
    const v = envelope[f]!;
    if (!(v > envelope[f - 1]! && v >= envelope[f + 1]!)) continue;
    if (v < activity.thresholdDb) continue;
    // Prominence: how far the peak stands above the higher of the two dips that separate
    // it from a higher point (or from the edge of the speech run).
    let leftMin = v;
    for (let k = f - 1; k >= 0 && envelope[k]! <= v && activity.active[k]; k--) leftMin = Math.min(leftMin, envelope[k]!);
    let rightMin = v;
    for (let k = f + 1; k < envelope.length && envelope[k]! <= v && activity.active[k]; k++) rightMin = Math.min(rightMin, envelope[k]!);
    const prominence = v - Math.max(leftMin, rightMin);
    if (prominence >= minProminence) peaks.push({ frame: f, prominence });
  }
  // Keep the most prominent peaks first; drop any closer than minGap to one already kept.
  const byProminence = [...peaks].sort((a, b) => b.prominence - a.prominence || a.frame - b.frame);
  const kept: number[] = [];
  for (const p of byProminence) if (kept.every((k) => Math.abs(k - p.frame) >= minGapFrames)) kept.push(p.frame);
  const seconds = activity.activeMs / 1000;
  return { nuclei: kept.length, syllablesPerSecond: seconds > 0 ? kept.length / seconds : 0 };
}
