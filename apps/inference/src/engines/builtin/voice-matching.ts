import { dbfs, measureSilence, peak } from '../../audio/levels.ts';
import { PITCH_ANALYSIS_RATE, estimatePitch, toPitchAnalysisRate } from '../../audio/pitch.ts';
import { detectSpeechActivity, speechRms } from '../../audio/speech-activity.ts';
import { changeTempoAndPitch } from '../../audio/time-pitch.ts';
import type { TextSegment } from './text-frontend.ts';
import { pauseMs, pauseRandom, type VoicePlan } from './voice-plan.ts';

type Log = (level: 'debug' | 'info' | 'warn', message: string) => void;

const LEAD_MS = 150;
/** Sonic stays natural within about ±4 semitones and ±25% tempo; beyond, we stop and say so. */
const PITCH_RATIO_LIMITS = [0.8, 1.25] as const;
const TEMPO_LIMITS = [0.8, 1.25] as const;
/** Peaks are kept under -1 dBFS; the soft knee starts 3 dB below that. */
const CEILING = 0.891;
const KNEE = 0.63;

/**
 * Join the synthesized segments: each is trimmed of eSpeak's own edge silence and
 * followed by a pause chosen by its boundary (sentence, clause …), the tempo and the seed.
 */
export function assembleSegments(parts: readonly Float32Array[], segments: readonly TextSegment[], plan: VoicePlan, sampleRate: number): Float32Array {
  const rng = pauseRandom(plan);
  const pieces: Float32Array[] = [new Float32Array(Math.round((LEAD_MS * sampleRate) / 1000))];
  parts.forEach((part, i) => {
    const span = measureSilence(part, sampleRate, 50);
    // Keep 10 ms either side of the speech so consonant onsets and decays are not cut.
    const pad = Math.round(sampleRate / 100);
    pieces.push(part.subarray(Math.max(0, span.start - pad), Math.min(part.length, span.end + pad)));
    const boundary = segments[i]?.boundary ?? 'sentence';
    const last = i === parts.length - 1;
    pieces.push(new Float32Array(Math.round((pauseMs(last ? 'sentence' : boundary, plan, rng) * sampleRate) / 1000)));
  });
  const out = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

const clamp = (v: number, [lo, hi]: readonly [number, number]): number => Math.min(hi, Math.max(lo, v));

export interface MatchReport {
  measuredF0Hz: number | null;
  finalF0Ratio: number;
  measuredRate: number | null;
  tempo: number;
  gainDb: number;
}

/** Below these amounts a measurement of the output is too noisy to correct against. */
const MIN_VOICED_FRAMES = 15;
const MIN_SPEECH_MS = 1500;
const MIN_SYLLABLES = 8;

/**
 * Speaking rate of the synthesized speech: the text's syllables per second of speech, or
 * null when too short to measure. (The text is known exactly here, so syllable-peak
 * counting, which undercounts eSpeak's connected English by 15–25%, is not used.)
 */
function measureRate(audio: Float32Array, sampleRate: number, textSyllables: number): number | null {
  const activity = detectSpeechActivity(audio, sampleRate);
  if (activity.activeMs < MIN_SPEECH_MS || textSyllables < MIN_SYLLABLES) return null;
  return textSyllables / (activity.activeMs / 1000);
}

/**
 * Bring the synthesized speech to the plan's targets: measure its median F0 and speaking
 * rate, correct both in one Sonic pass (eSpeak's settings got close; this removes the
 * rest), then match the speech loudness with a soft limiter guarding the peaks.
 */
export async function matchVoice(audio: Float32Array, sampleRate: number, plan: VoicePlan, textSyllables: number, log: Log): Promise<{ audio: Float32Array; report: MatchReport }> {
  let measuredF0: number | null = null;
  let pitchRatio = 1;
  if (plan.targetF0Hz !== null) {
    const low = await toPitchAnalysisRate(audio, sampleRate);
    const pitch = estimatePitch(low, PITCH_ANALYSIS_RATE, detectSpeechActivity(low, PITCH_ANALYSIS_RATE));
    measuredF0 = pitch.voicedFrames >= MIN_VOICED_FRAMES ? pitch.medianHz : null;
    if (measuredF0 !== null) {
      const wanted = plan.targetF0Hz / measuredF0;
      pitchRatio = clamp(wanted, PITCH_RATIO_LIMITS);
      if (pitchRatio !== wanted) log('warn', `Pitch can only be moved partway: ${measuredF0.toFixed(0)} Hz → ${(measuredF0 * pitchRatio).toFixed(0)} Hz (target ${plan.targetF0Hz.toFixed(0)} Hz).`);
      if (Math.abs(pitchRatio - 1) < 0.01) pitchRatio = 1;
    }
  }

  const measuredRate = measureRate(audio, sampleRate, textSyllables);
  let tempo = 1;
  if (measuredRate !== null && measuredRate > 0) {
    // Syllables per second depend on the words (monosyllables with consonant clusters take
    // longer each), so the measured error is only partly the voice's: eSpeak's rate setting
    // already targets the reference pace, and the remaining error is corrected halfway
    // (in log terms).
    const error = plan.targetSyllablesPerSecond / measuredRate;
    const wanted = Math.sqrt(error);
    tempo = clamp(wanted, TEMPO_LIMITS);
    if (tempo !== wanted) log('warn', `Tempo can only be changed partway: ${measuredRate.toFixed(2)} → ${(measuredRate * tempo).toFixed(2)} syllables/s (target ${plan.targetSyllablesPerSecond.toFixed(2)}).`);
    if (Math.abs(tempo - 1) < 0.03) tempo = 1;
  }
  const f0Text = measuredF0 !== null ? `median F0 ${measuredF0.toFixed(0)} Hz` : plan.targetF0Hz === null ? 'unvoiced (whisper)' : 'too little voiced speech to measure F0';
  const rateText = measuredRate !== null ? `${measuredRate.toFixed(2)} syllables/s` : 'too short to measure its rate';
  log('info', `Synthesized speech: ${f0Text}, ${rateText}; correcting pitch ×${pitchRatio.toFixed(3)}, tempo ×${tempo.toFixed(3)}.`);
  const adjusted = pitchRatio === 1 && tempo === 1 ? audio : await changeTempoAndPitch(audio, sampleRate, tempo, pitchRatio);

  const { audio: leveled, gainDb } = matchLoudness(adjusted, sampleRate, plan.targetSpeechRms, log);
  return { audio: leveled, report: { measuredF0Hz: measuredF0, finalF0Ratio: pitchRatio, measuredRate, tempo, gainDb } };
}

/** Scale speech RMS to the target; peaks above the knee are compressed smoothly below the ceiling. */
export function matchLoudness(audio: Float32Array, sampleRate: number, targetRms: number, log: Log): { audio: Float32Array; gainDb: number } {
  const current = speechRms(detectSpeechActivity(audio, sampleRate));
  if (current <= 0) return { audio, gainDb: 0 };
  let gain = targetRms / current;
  // Never push peaks more than 4 dB into the limiter: that would audibly squash them.
  const maxGain = (CEILING * 1.58) / Math.max(1e-9, peak(audio));
  if (gain > maxGain) {
    log('warn', `Loudness target lowered by ${(dbfs(gain) - dbfs(maxGain)).toFixed(1)} dB to avoid clipping.`);
    gain = maxGain;
  }
  const out = new Float32Array(audio.length);
  const span = CEILING - KNEE;
  for (let i = 0; i < audio.length; i++) {
    const x = audio[i]! * gain;
    const a = Math.abs(x);
    out[i] = a <= KNEE ? x : Math.sign(x) * (KNEE + span * Math.tanh((a - KNEE) / span));
  }
  return { audio: out, gainDb: dbfs(gain) };
}
