import type { EngineInfo, EngineLimits, EngineStage } from '@chorus/api/schemas';
import { ESPEAK_NG_VERSION, ESPEAK_SAMPLE_RATE } from './espeak.ts';
import { INSTRUCT_VOCABULARY } from './instruct-style.ts';
import { PRETRAINED_SPEAKERS, speakerInfo } from './speakers.ts';

/**
 * Bump on every change that alters output bytes (DSP, tables, defaults, text handling):
 * same inputs + seed + version must give the same WAV.
 */
export const ENGINE_REVISION = '1.0.0';
export const ENGINE_VERSION = `${ENGINE_REVISION}+espeak-ng-${ESPEAK_NG_VERSION}`;

export const OUTPUT_SAMPLE_RATE = 24000;

/** Every mode runs all five stages (pretrained skips the analysis work but still reports it), so the count is stable. */
export const STAGES = [
  { name: 'prompt_analysis', label: 'Analysing the reference voice' },
  { name: 'text_frontend', label: 'Preparing the text' },
  { name: 'synthesis', label: 'Synthesizing speech' },
  { name: 'voice_matching', label: 'Matching pitch, tempo and loudness' },
  { name: 'encoding', label: 'Encoding the WAV file' },
] as const satisfies readonly EngineStage[];

export type StageName = (typeof STAGES)[number]['name'];

export const LIMITS: EngineLimits = {
  // ~1000 characters is 3–4 minutes of Chinese speech: still one job's worth (≈30 segments).
  maxTextChars: 1000,
  promptMinMs: 1000,
  promptMaxMs: 30000,
  promptMinSampleRate: 16000,
  promptPreferredSampleRate: ESPEAK_SAMPLE_RATE,
  speedMin: 0.5,
  speedMax: 2.0,
};

export const BUILTIN_ENGINE_INFO: EngineInfo = {
  id: 'builtin',
  kind: 'builtin',
  name: 'Built-in (eSpeak-NG, CPU)',
  version: ENGINE_VERSION,
  description:
    'Offline speech for Chinese and English on the CPU: eSpeak-NG formant synthesis, matched to the reference voice’s pitch, intonation width, ' +
    'speaking rate and loudness. Fast and reproducible, but it sounds synthetic: it imitates a voice’s register and pace, not its timbre.',
  default: true,
  modes: ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'],
  speakers: PRETRAINED_SPEAKERS.map(speakerInfo),
  stages: STAGES.map((s) => ({ ...s })),
  limits: LIMITS,
  reproducible: true,
  outputSampleRate: OUTPUT_SAMPLE_RATE,
  instructVocabulary: [...INSTRUCT_VOCABULARY],
};
