import type { EngineLimits, JobErrorCode } from '@chorus/api/schemas';
import { EngineError, type PromptAudio } from '../../engine/engine.ts';
import { clippedFraction, dbfs, fromDbfs, measureSilence } from '../../audio/levels.ts';
import { PITCH_ANALYSIS_RATE, estimatePitch, toPitchAnalysisRate } from '../../audio/pitch.ts';
import { detectSpeechActivity, speechRms } from '../../audio/speech-activity.ts';
import { estimateSyllableRate } from '../../audio/syllable-rate.ts';
import type { PretrainedSpeaker } from './speakers.ts';
import { countSyllables } from './text-frontend.ts';

/** How the reference's speaking rate was obtained (for the log). */
export type RateMethod = 'transcript' | 'syllable-peaks';

/** The voice to imitate: from prompt analysis, or a pretrained speaker's preset. */
export interface VoiceProfile {
  /** Median F0, Hz. */
  f0Hz: number;
  /** p10–p90 F0 spread, semitones (intonation width). */
  spreadSemitones: number;
  syllablesPerSecond: number;
  rateMethod: RateMethod;
  /** RMS of speech frames (linear). */
  speechRms: number;
}

type Log = (level: 'debug' | 'info' | 'warn', message: string) => void;

const STAGE = 'prompt_analysis';
const RATE_MIN = 2;
const RATE_MAX = 9;

function failPrompt(code: Extract<JobErrorCode, `PROMPT_${string}`>, message: string, hint: string): never {
  throw new EngineError(code, message, hint, STAGE);
}

/** Check the prompt against the engine's limits (the API checks too; this guards direct callers). */
function checkPrompt(prompt: PromptAudio, limits: EngineLimits, log: Log): void {
  const ms = (prompt.samples.length * 1000) / prompt.sampleRate;
  if (prompt.sampleRate < limits.promptMinSampleRate) {
    failPrompt('PROMPT_SAMPLE_RATE', `Reference audio is sampled at ${prompt.sampleRate} Hz; at least ${limits.promptMinSampleRate} Hz is needed.`, 'Record or export the reference at 16 kHz or more (22.05 kHz or 44.1 kHz is ideal).');
  }
  if (ms < limits.promptMinMs) {
    failPrompt('PROMPT_TOO_SHORT', `Reference audio is ${(ms / 1000).toFixed(2)} s; at least ${limits.promptMinMs / 1000} s is needed.`, 'Use 3–10 s of clear speech from one speaker.');
  }
  if (ms > limits.promptMaxMs) {
    failPrompt('PROMPT_TOO_LONG', `Reference audio is ${(ms / 1000).toFixed(1)} s; at most ${limits.promptMaxMs / 1000} s is accepted.`, 'Trim the reference to 3–10 s of clear speech.');
  }
  if (prompt.sampleRate < limits.promptPreferredSampleRate) {
    log('warn', `Reference audio is ${prompt.sampleRate} Hz, below the preferred ${limits.promptPreferredSampleRate} Hz; analysis still works, but a higher rate captures the voice better.`);
  }
  const clipped = clippedFraction(prompt.samples);
  if (clipped > 0.001) log('warn', `${(clipped * 100).toFixed(2)}% of the reference audio is clipped; loudness matching may be off.`);
}

/**
 * Measure the reference voice: median F0 and spread (YIN on an 8 kHz copy), speaking rate
 * (transcript syllables, or syllable peaks, per second of detected speech) and speech
 * loudness. Leading/trailing silence is trimmed first (top_db 60, as CosyVoice's UI did).
 */
export async function analysePrompt(prompt: PromptAudio, transcript: string | undefined, limits: EngineLimits, log: Log): Promise<VoiceProfile> {
  checkPrompt(prompt, limits, log);
  const { sampleRate } = prompt;
  const span = measureSilence(prompt.samples, sampleRate, 60);
  const speech = prompt.samples.subarray(span.start, span.end);
  if (speech.length === 0) failPrompt('PROMPT_NO_SPEECH', 'The reference audio is silent.', 'Upload a recording of one person speaking clearly.');
  if (span.leadingMs + span.trailingMs > 500) log('debug', `Trimmed ${Math.round(span.leadingMs)} ms of leading and ${Math.round(span.trailingMs)} ms of trailing silence from the reference.`);

  const activity = detectSpeechActivity(speech, sampleRate);
  if (activity.activeMs < 300) {
    failPrompt('PROMPT_NO_SPEECH', `Only ${activity.activeMs} ms of speech found in the reference audio.`, 'Upload 3–10 s of one person speaking clearly, without long pauses or music.');
  }
  const loudness = speechRms(activity);

  const lowRate = await toPitchAnalysisRate(speech, sampleRate);
  const pitch = estimatePitch(lowRate, PITCH_ANALYSIS_RATE, detectSpeechActivity(lowRate, PITCH_ANALYSIS_RATE));
  if (pitch.medianHz === null || pitch.lowHz === null || pitch.highHz === null) {
    failPrompt('PROMPT_NO_VOICE', `No voiced speech found in the reference audio (${pitch.voicedFrames} of ${pitch.analysedFrames} frames had a pitch).`, 'Whispered, very noisy or music-only references cannot be matched; upload normal speech.');
  }
  const spreadSemitones = Math.min(12, Math.max(1, 12 * Math.log2(pitch.highHz / pitch.lowHz)));

  const speechSeconds = activity.activeMs / 1000;
  const peaks = estimateSyllableRate(speech, sampleRate, activity);
  let rate = peaks.syllablesPerSecond;
  let rateMethod: RateMethod = 'syllable-peaks';
  const transcriptSyllables = transcript ? countSyllables(transcript) : 0;
  if (transcriptSyllables > 0) {
    rate = transcriptSyllables / speechSeconds;
    rateMethod = 'transcript';
    const ratio = transcriptSyllables / Math.max(1, peaks.nuclei);
    if (ratio > 2.2 || ratio < 0.45) {
      log('warn', `The transcript has ~${transcriptSyllables} syllables but about ${peaks.nuclei} were heard in the reference; check that it matches the audio. Using the transcript.`);
    }
  } else {
    log('info', 'No transcript: speaking rate estimated from syllable peaks in the reference (approximate).');
  }
  if (rate < RATE_MIN || rate > RATE_MAX) {
    const clamped = Math.min(RATE_MAX, Math.max(RATE_MIN, rate));
    log('warn', `Measured speaking rate ${rate.toFixed(1)} syllables/s is implausible; using ${clamped} syllables/s.`);
    rate = clamped;
  }

  log(
    'info',
    `Reference voice: median F0 ${pitch.medianHz.toFixed(0)} Hz (p10–p90 ${pitch.lowHz.toFixed(0)}–${pitch.highHz.toFixed(0)} Hz), ` +
      `${rate.toFixed(2)} syllables/s (${rateMethod === 'transcript' ? 'from transcript' : 'from syllable peaks'}), ` +
      `speech loudness ${dbfs(loudness).toFixed(1)} dBFS over ${speechSeconds.toFixed(1)} s of speech.`,
  );
  log('debug', `Pitch: ${pitch.voicedFrames} voiced of ${pitch.analysedFrames} analysed frames; activity threshold ${activity.thresholdDb.toFixed(1)} dBFS.`);
  return { f0Hz: pitch.medianHz, spreadSemitones, syllablesPerSecond: rate, rateMethod, speechRms: loudness };
}

/** A pretrained speaker's preset, in the same shape as a measured profile. */
export function speakerProfile(speaker: PretrainedSpeaker): VoiceProfile {
  return {
    f0Hz: speaker.f0Hz,
    spreadSemitones: speaker.spreadSemitones,
    syllablesPerSecond: speaker.syllablesPerSecond,
    rateMethod: 'transcript',
    speechRms: fromDbfs(speaker.loudnessDbfs),
  };
}
