import type { TextLanguage } from './text-frontend.ts';

/**
 * What eSpeak-NG 1.52 produces, measured on this engine's own analysis path
 * (bench/calibrate-voices.ts: YIN median F0 on an 8 kHz copy; syllables per second of
 * detected speech). Re-run that script and update these numbers whenever eSpeak changes.
 */

/** The `pitch` settings at which F0 was measured. */
export const PITCH_POINTS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99] as const;

export interface BaseVoice {
  /** eSpeak voice + variant. */
  espeakVoice: string;
  language: TextLanguage;
  register: 'low' | 'high';
  /** Median F0 (Hz) at each PITCH_POINTS setting, range 50. */
  f0Hz: readonly number[];
  /** p10–p90 F0 spread in semitones at range 50 (its intonation width). */
  spreadSemitones: number;
  /** Syllables per second of speech at rate 175 wpm. */
  syllablesPerSecondAt175: number;
}

export const BASE_VOICES: readonly BaseVoice[] = [
  { espeakVoice: 'en-us', language: 'en', register: 'low', f0Hz: [66, 71, 78, 85, 92, 101, 111, 123, 137, 153, 169], spreadSemitones: 3.7, syllablesPerSecondAt175: 5.74 },
  { espeakVoice: 'en-us+f3', language: 'en', register: 'high', f0Hz: [148, 156, 165, 178, 192, 209, 228, 251, 275, 306, 335], spreadSemitones: 4.5, syllablesPerSecondAt175: 5.79 },
  { espeakVoice: 'cmn', language: 'zh', register: 'low', f0Hz: [62, 66, 69, 77, 84, 92, 102, 114, 127, 143, 159], spreadSemitones: 3.3, syllablesPerSecondAt175: 3.79 },
  { espeakVoice: 'cmn+f3', language: 'zh', register: 'high', f0Hz: [126, 134, 143, 152, 165, 183, 202, 224, 250, 279, 309], spreadSemitones: 4.5, syllablesPerSecondAt175: 3.67 },
];

/** eSpeak's whisper variant: unvoiced, so it has no F0 to match. */
export const WHISPER_VARIANT = '+whisper';

export interface PitchSetting {
  pitch: number;
  /** F0 the setting should give (Hz); differs from the target when it had to be clamped. */
  expectedHz: number;
  clamped: boolean;
}

/** Invert a voice's F0 table (monotonic) by interpolating in log-frequency. */
export function pitchSettingFor(voice: BaseVoice, targetHz: number): PitchSetting {
  const table = voice.f0Hz;
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (targetHz <= first) return { pitch: PITCH_POINTS[0], expectedHz: first, clamped: targetHz < first * 0.97 };
  if (targetHz >= last) return { pitch: PITCH_POINTS[PITCH_POINTS.length - 1]!, expectedHz: last, clamped: targetHz > last * 1.03 };
  let i = 0;
  while (table[i + 1]! < targetHz) i++;
  const lo = table[i]!;
  const hi = table[i + 1]!;
  const t = Math.log(targetHz / lo) / Math.log(hi / lo);
  const pitch = PITCH_POINTS[i]! + t * (PITCH_POINTS[i + 1]! - PITCH_POINTS[i]!);
  return { pitch, expectedHz: targetHz, clamped: false };
}

/**
 * The base voice whose pitch setting for the target F0 lies closest to its middle (50):
 * the setting where eSpeak sounds most natural. In practice the switch from the low to the
 * high register happens around 155–165 Hz.
 */
export function chooseBaseVoice(language: TextLanguage, targetHz: number): BaseVoice {
  const candidates = BASE_VOICES.filter((v) => v.language === language);
  let best = candidates[0]!;
  let bestDistance = Infinity;
  for (const voice of candidates) {
    const setting = pitchSettingFor(voice, targetHz);
    const distance = Math.abs(setting.pitch - 50) + (setting.clamped ? 100 * Math.abs(Math.log2(targetHz / setting.expectedHz)) : 0);
    if (distance < bestDistance) {
      best = voice;
      bestDistance = distance;
    }
  }
  return best;
}

export const ESPEAK_RATE_MIN = 80;
export const ESPEAK_RATE_MAX = 450;

/** eSpeak's duration scales close to 1/rate (measured 120/175/250 wpm), so rate ∝ syllables per second. */
export function espeakRateFor(voice: BaseVoice, syllablesPerSecond: number): { rate: number; clamped: boolean } {
  const rate = (175 * syllablesPerSecond) / voice.syllablesPerSecondAt175;
  const clampedRate = Math.min(ESPEAK_RATE_MAX, Math.max(ESPEAK_RATE_MIN, rate));
  return { rate: clampedRate, clamped: clampedRate !== rate };
}

/** eSpeak `range` (0–99) that gives an intonation spread of `semitones`; ~linear below 80. */
export function espeakRangeFor(voice: BaseVoice, semitones: number): number {
  return Math.min(85, Math.max(15, (50 * semitones) / voice.spreadSemitones));
}
