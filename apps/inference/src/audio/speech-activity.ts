import { dbfs, frameLevels } from './levels.ts';

/** Which 10 ms frames of a recording hold speech, by energy relative to the recording itself. */
export interface SpeechActivity {
  frameMs: number;
  frameSize: number;
  /** 1 for a speech frame, 0 for a pause; one entry per frame. */
  active: Uint8Array;
  /** Frame RMS (linear) and in dBFS (floored at -120), the basis of the decision. */
  levels: Float32Array;
  levelsDb: Float32Array;
  activeFrames: number;
  /** Speech time: active frames, with pauses shorter than `bridgeMs` counted as speech. */
  activeMs: number;
  totalMs: number;
  thresholdDb: number;
}

export interface SpeechActivityOptions {
  frameMs?: number;
  /** Gaps shorter than this (stop closures, short breaths) count as speech. */
  bridgeMs?: number;
  /** Speech runs shorter than this (clicks) are dropped. */
  minSpeechMs?: number;
  /** How far below the loud speech level a frame may be and still count as speech. */
  rangeDb?: number;
}

const FLOOR_DB = -120;

function percentile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return FLOOR_DB;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/**
 * Energy-based speech activity. The threshold follows the recording: `rangeDb` below its
 * loud-speech level (95th percentile), but at least a third of the way up from its noise
 * floor (10th percentile), so both studio-clean TTS and a noisy phone recording work.
 * (WebRTC VAD was tried as well; it is unreliable on clean synthetic speech.)
 */
export function detectSpeechActivity(samples: Float32Array, sampleRate: number, options: SpeechActivityOptions = {}): SpeechActivity {
  const frameMs = options.frameMs ?? 10;
  const bridgeFrames = Math.round((options.bridgeMs ?? 150) / frameMs);
  const minSpeechFrames = Math.max(1, Math.round((options.minSpeechMs ?? 40) / frameMs));
  const rangeDb = options.rangeDb ?? 30;
  const { frameSize, rms: levels } = frameLevels(samples, sampleRate, frameMs);
  const levelsDb = new Float32Array(levels.length);
  for (let f = 0; f < levels.length; f++) levelsDb[f] = Math.max(FLOOR_DB, dbfs(levels[f]!));
  const sorted = levelsDb.slice().sort();
  const loud = percentile(sorted, 0.95);
  const floor = percentile(sorted, 0.1);
  const thresholdDb = Math.max(loud - rangeDb, floor + (loud - floor) / 3, -70);

  const active = new Uint8Array(levels.length);
  for (let f = 0; f < levels.length; f++) active[f] = levelsDb[f]! > thresholdDb ? 1 : 0;
  fillShortRuns(active, 0, bridgeFrames, 1, true);
  fillShortRuns(active, 1, minSpeechFrames, 0, false);

  let activeFrames = 0;
  for (let f = 0; f < active.length; f++) activeFrames += active[f]!;
  return {
    frameMs,
    frameSize,
    active,
    levels,
    levelsDb,
    activeFrames,
    activeMs: activeFrames * frameMs,
    totalMs: (samples.length * 1000) / sampleRate,
    thresholdDb,
  };
}

/** Set runs of `value` shorter than `minLength` to `replacement` (interior runs only, if asked). */
function fillShortRuns(mask: Uint8Array, value: number, minLength: number, replacement: number, interiorOnly: boolean): void {
  let f = 0;
  while (f < mask.length) {
    if (mask[f] !== value) {
      f++;
      continue;
    }
    let end = f;
    while (end < mask.length && mask[end] === value) end++;
    const interior = f > 0 && end < mask.length;
    if (end - f < minLength && (interior || !interiorOnly)) mask.fill(replacement, f, end);
    f = end;
  }
}

/** RMS of the speech frames only: the loudness a listener hears, independent of pauses. */
export function speechRms(activity: SpeechActivity): number {
  let sumSquares = 0;
  for (let f = 0; f < activity.active.length; f++) if (activity.active[f]) sumSquares += activity.levels[f]! ** 2;
  return activity.activeFrames > 0 ? Math.sqrt(sumSquares / activity.activeFrames) : 0;
}
