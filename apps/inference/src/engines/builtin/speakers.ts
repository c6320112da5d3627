import type { EngineSpeaker } from '@chorus/api/schemas';
import { EngineError } from '../../engine/engine.ts';

/** A pretrained voice: the same description a prompt analysis would produce. */
export interface PretrainedSpeaker extends EngineSpeaker {
  f0Hz: number;
  /** p10–p90 F0 spread, semitones. */
  spreadSemitones: number;
  syllablesPerSecond: number;
  /** RMS of speech, dBFS. */
  loudnessDbfs: number;
}

/** Typical adult values (F0 ~120 Hz male / ~210 Hz female; Mandarin ~4.5, English ~5 syllables/s). */
export const PRETRAINED_SPEAKERS: readonly PretrainedSpeaker[] = [
  { id: 'zh-female', name: '中文女 · Chinese female', language: 'zh', description: 'Mandarin, bright female register (~215 Hz), moderate pace.', f0Hz: 215, spreadSemitones: 6, syllablesPerSecond: 4.4, loudnessDbfs: -20 },
  { id: 'zh-male', name: '中文男 · Chinese male', language: 'zh', description: 'Mandarin, calm male register (~115 Hz), moderate pace.', f0Hz: 115, spreadSemitones: 5, syllablesPerSecond: 4.2, loudnessDbfs: -20 },
  { id: 'en-female', name: '英文女 · English female', language: 'en', description: 'American English, female register (~205 Hz), lively intonation.', f0Hz: 205, spreadSemitones: 6, syllablesPerSecond: 4.8, loudnessDbfs: -20 },
  { id: 'en-male', name: '英文男 · English male', language: 'en', description: 'American English, low male register (~110 Hz), steady pace.', f0Hz: 110, spreadSemitones: 4.5, syllablesPerSecond: 4.6, loudnessDbfs: -20 },
];

export function findSpeaker(id: string | undefined): PretrainedSpeaker {
  const speaker = PRETRAINED_SPEAKERS.find((s) => s.id === id);
  if (speaker) return speaker;
  const ids = PRETRAINED_SPEAKERS.map((s) => s.id).join(', ');
  throw new EngineError(
    'UNKNOWN_SPEAKER',
    id ? `Unknown speaker "${id}"; available speakers: ${ids}.` : `Pretrained-speaker mode needs a speaker; available speakers: ${ids}.`,
    `Choose one of: ${ids}.`,
    'prompt_analysis',
  );
}

/** The public part, for EngineInfo.speakers. */
export const speakerInfo = (s: PretrainedSpeaker): EngineSpeaker => ({ id: s.id, name: s.name, language: s.language, description: s.description });
