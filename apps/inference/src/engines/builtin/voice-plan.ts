import { dbfs, fromDbfs } from '../../audio/levels.ts';
import type { EspeakSettings } from './espeak.ts';
import type { ProsodyDelta } from './instruct-style.ts';
import { seededRandom, type SeededRandom } from './seeded-random.ts';
import type { SegmentBoundary, TextLanguage } from './text-frontend.ts';
import { WHISPER_VARIANT, chooseBaseVoice, espeakRangeFor, espeakRateFor, pitchSettingFor, type BaseVoice } from './voice-calibration.ts';
import type { VoiceProfile } from './voice-profile.ts';

/** Everything synthesis and voice matching need to know, decided once per job. */
export interface VoicePlan {
  language: TextLanguage;
  baseVoice: BaseVoice;
  /** Base settings before per-segment variation. */
  espeak: EspeakSettings;
  /** Output F0 to reach (Hz); null when whispering (nothing voiced to match). */
  targetF0Hz: number | null;
  targetSyllablesPerSecond: number;
  targetSpeechRms: number;
  /** Multiplies the pauses between segments (slower speech, longer pauses). */
  pauseScale: number;
  seed: number;
}

export interface PlanInput {
  profile: VoiceProfile;
  style: ProsodyDelta;
  language: TextLanguage;
  speed: number;
  seed: number;
}

/** Output loudness stays in a sane window whatever the reference was. */
const LOUDNESS_MIN_DBFS = -30;
const LOUDNESS_MAX_DBFS = -14;

const semitones = (st: number): number => 2 ** (st / 12);

/**
 * Combine the reference voice, the style instruction, the speed and the seed into eSpeak
 * settings and targets. The seed moves the voice audibly but naturally: a global pitch
 * offset of up to ±0.7 semitones, ±4% tempo and ±15% intonation width; per-segment
 * variation and pause lengths come from the same seed (see segmentVariation/pauseMs).
 */
export function planVoice({ profile, style, language, speed, seed }: PlanInput, log: (level: 'debug' | 'info' | 'warn', message: string) => void): VoicePlan {
  const rng = seededRandom(seed, 'voice');
  const pitchOffset = rng.uniform(-0.7, 0.7);
  const tempoJitter = rng.uniform(0.96, 1.04);
  const spreadJitter = rng.uniform(0.85, 1.15);

  const targetF0 = profile.f0Hz * semitones(style.pitchSemitones + pitchOffset);
  const baseVoice = chooseBaseVoice(language, targetF0);
  const pitch = pitchSettingFor(baseVoice, targetF0);
  if (pitch.clamped && !style.whisper) {
    log('warn', `Target pitch ${targetF0.toFixed(0)} Hz is outside what ${baseVoice.espeakVoice} reaches; starting from ${pitch.expectedHz.toFixed(0)} Hz and shifting afterwards.`);
  }
  const targetRate = profile.syllablesPerSecond * style.rateFactor * speed * tempoJitter;
  const rate = espeakRateFor(baseVoice, targetRate);
  if (rate.clamped) log('warn', `Target rate ${targetRate.toFixed(1)} syllables/s is beyond eSpeak's rate range; tempo is adjusted afterwards.`);
  const range = espeakRangeFor(baseVoice, profile.spreadSemitones * style.rangeFactor * spreadJitter);

  const wantedDb = dbfs(profile.speechRms) + style.volumeDb;
  const loudnessDb = Math.min(LOUDNESS_MAX_DBFS, Math.max(LOUDNESS_MIN_DBFS, wantedDb));
  if (Math.abs(loudnessDb - wantedDb) > 0.5) log('info', `Output loudness limited to ${loudnessDb.toFixed(1)} dBFS (the reference/style asked for ${wantedDb.toFixed(1)} dBFS).`);

  // Whispering replaces the gender variant: eSpeak allows one variant per voice.
  const voiceName = style.whisper ? baseVoice.espeakVoice.replace(/\+.*$/, '') + WHISPER_VARIANT : baseVoice.espeakVoice;
  const plan: VoicePlan = {
    language,
    baseVoice,
    espeak: { voice: voiceName, rate: rate.rate, pitch: pitch.pitch, range },
    targetF0Hz: style.whisper ? null : targetF0,
    targetSyllablesPerSecond: targetRate,
    targetSpeechRms: fromDbfs(loudnessDb),
    pauseScale: Math.min(2, Math.max(0.5, 1 / (style.rateFactor * speed))),
    seed,
  };
  log(
    'info',
    `Voice: eSpeak ${voiceName}, pitch ${pitch.pitch.toFixed(1)}, rate ${rate.rate.toFixed(0)} wpm, range ${range.toFixed(0)}; ` +
      `targets ${plan.targetF0Hz === null ? 'unvoiced (whisper)' : `${targetF0.toFixed(0)} Hz`}, ${targetRate.toFixed(2)} syllables/s, ${loudnessDb.toFixed(1)} dBFS.`,
  );
  log('debug', `Seed ${seed}: pitch ${pitchOffset >= 0 ? '+' : ''}${pitchOffset.toFixed(2)} st, tempo ×${tempoJitter.toFixed(3)}, intonation ×${spreadJitter.toFixed(3)}.`);
  return plan;
}

/** A stream of per-segment variation for one job; call `next` once per segment, in order. */
export function segmentVariation(plan: VoicePlan): { next(): EspeakSettings } {
  const rng = seededRandom(plan.seed, 'segments');
  return {
    next: () => ({
      voice: plan.espeak.voice,
      pitch: plan.espeak.pitch + rng.uniform(-2, 2),
      rate: plan.espeak.rate * rng.uniform(0.97, 1.03),
      range: plan.espeak.range + rng.uniform(-6, 6),
    }),
  };
}

const BASE_PAUSE_MS: Record<SegmentBoundary, number> = { paragraph: 650, sentence: 380, clause: 200, none: 60 };

/** Pause after a segment: by boundary, scaled with the tempo, ±20% from the seed. */
export function pauseMs(boundary: SegmentBoundary, plan: VoicePlan, rng: SeededRandom): number {
  return BASE_PAUSE_MS[boundary] * plan.pauseScale * rng.uniform(0.8, 1.25);
}

export const pauseRandom = (plan: VoicePlan): SeededRandom => seededRandom(plan.seed, 'pauses');
