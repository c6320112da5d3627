import { YIN } from 'pitchfinder';
import { resample } from './resample.ts';
import type { SpeechActivity } from './speech-activity.ts';

export interface PitchEstimate {
  /** Median F0 of the voiced frames, or null when too few frames were voiced. */
  medianHz: number | null;
  /** 10th/90th percentile F0: the speaker's pitch range. */
  lowHz: number | null;
  highHz: number | null;
  voicedFrames: number;
  analysedFrames: number;
}

/**
 * Pitch is measured on an 8 kHz copy: F0 (≤ 500 Hz) and its first harmonics are far below
 * the 4 kHz band edge, and YIN costs O(frame²), so this is 4× cheaper than 16 kHz with
 * the same window length (the 2048-samples-at-16-kHz window that low voices need).
 */
export const PITCH_ANALYSIS_RATE = 8000;

/**
 * The 8 kHz analysis copy. Speex quality 3 is plenty for F0 (a few dB of aliasing far
 * above the harmonics YIN relies on) and ~3× faster than the quality used for output.
 */
export function toPitchAnalysisRate(samples: Float32Array, sampleRate: number): Promise<Float32Array> {
  return resample(samples, sampleRate, PITCH_ANALYSIS_RATE, 3);
}

export interface PitchOptions {
  minHz?: number;
  maxHz?: number;
  /**
   * Samples handed to YIN per frame. pitchfinder's YIN compares the first half of the
   * buffer with lags up to a quarter of it, so 1024 samples at 8 kHz give a 64 ms window
   * and lags down to 31 Hz: long enough for low male voices (~65 Hz).
   */
  frameSize?: number;
  /** YIN aperiodicity threshold; 0.25 keeps more frames of gliding (tonal) speech than the default 0.1. */
  threshold?: number;
  hopMs?: number;
  /** Analysis cost is O(frameSize²) per frame; longer inputs use evenly spaced frames. */
  maxFrames?: number;
  /** Fewer voiced frames than this gives medianHz = null. */
  minVoicedFrames?: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/**
 * Median fundamental frequency of speech with YIN, looking only at frames the activity
 * detector marked as speech. Octave errors are rejected by dropping estimates more than
 * ×1.7 away from the first median before taking the final one.
 */
export function estimatePitch(samples: Float32Array, sampleRate: number, activity: SpeechActivity, options: PitchOptions = {}): PitchEstimate {
  const minHz = options.minHz ?? 55;
  const maxHz = options.maxHz ?? 500;
  const frameSize = options.frameSize ?? 1024;
  const hop = Math.max(1, Math.round(((options.hopMs ?? 20) * sampleRate) / 1000));
  const maxFrames = options.maxFrames ?? 250;
  const minVoiced = options.minVoicedFrames ?? 5;
  const detect = YIN({ sampleRate, threshold: options.threshold ?? 0.25, probabilityThreshold: 0.1 });

  // Candidate frames: those whose centre falls in detected speech.
  const starts: number[] = [];
  for (let start = 0; start + frameSize <= samples.length; start += hop) {
    const centreFrame = Math.floor((start + frameSize / 4) / activity.frameSize);
    if (activity.active[centreFrame]) starts.push(start);
  }
  const step = Math.max(1, starts.length / maxFrames);
  const pitches: number[] = [];
  let analysed = 0;
  for (let k = 0; k < starts.length; k += step) {
    const start = starts[Math.floor(k)]!;
    analysed++;
    const f0 = detect(samples.subarray(start, start + frameSize));
    if (f0 !== null && Number.isFinite(f0) && f0 >= minHz && f0 <= maxHz) pitches.push(f0);
  }
  if (pitches.length < minVoiced) return { medianHz: null, lowHz: null, highHz: null, voicedFrames: pitches.length, analysedFrames: analysed };
  pitches.sort((a, b) => a - b);
  const rough = quantile(pitches, 0.5);
  const kept = pitches.filter((p) => p > rough / 1.7 && p < rough * 1.7);
  const use = kept.length >= minVoiced ? kept : pitches;
  return {
    medianHz: quantile(use, 0.5),
    lowHz: quantile(use, 0.1),
    highHz: quantile(use, 0.9),
    voicedFrames: use.length,
    analysedFrames: analysed,
  };
}
