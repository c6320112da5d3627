/**
 * Is this file usable as a voice prompt? Decode it (any accepted format), measure it, and
 * either reject it with a specific, actionable reason or accept it with warnings about
 * things that make a clone worse but not impossible. Uploads go through
 * validatePromptAudio, which runs checkPromptAudio in a bounded worker thread.
 */
import type { EngineLimits, UploadFormat, UploadWarning } from '@chorus/api/schemas';
import { AudioInputError } from './audio-input-error.ts';
import { DecodeBudgetExceeded, newDecodeStats, type DecodeBudget, type DecodeStats } from './decode-budget.ts';
import { decodeAudioFile, probeAudioFile, type DecodedAudioFile } from './decode.ts';
import { clippedFraction, dbfs, frameLevels, fromDbfs, measureSilence, peak } from './levels.ts';
import { sharedPromptDecodePool, type PromptDecodeReport } from './prompt-decode-pool.ts';
import { downmix } from './wav.ts';

/** The engine limits prompt validation applies (EngineLimits satisfies this). */
export type PromptLimits = Pick<EngineLimits, 'promptMinMs' | 'promptMaxMs' | 'promptMinSampleRate' | 'promptPreferredSampleRate'>;

/** Thresholds, exported so UIs and tests can say the same numbers. */
export const PROMPT_THRESHOLDS = {
  /** Peak at or below this in every channel is digital silence (1 LSB of 16-bit is -90.3 dBFS). */
  silentPeakDbfs: -90,
  /** Share of samples at full scale (|x| ≥ 0.999) in any channel that counts as clipping. */
  clippedFraction: 0.001,
  /** Speech (active frames) quieter than this is "very low level". */
  lowSpeechRmsDbfs: -40,
  /** A peak below this is "very low level" whatever the speech level. */
  lowPeakDbfs: -30,
  /** Leading/trailing silence longer than this is worth a warning. */
  longSilenceMs: 1000,
  /** Frames this far below the peak count as silence for the leading/trailing measure. */
  silenceTopDb: 40,
  /** Frames within this many dB of the loudest 20 ms frame count as speech for its level. */
  activeRangeDb: 35,
} as const;

export interface ValidatedPromptAudio {
  format: UploadFormat;
  /** Codec inside the container (pcm16, float32, flac, mp3, opus, vorbis, …), for logs. */
  codec: string;
  sampleRate: number;
  /** Channel count of the file as uploaded (samples below are always mono). */
  channels: number;
  durationMs: number;
  /** Downmixed mono samples at `sampleRate`. */
  samples: Float32Array;
  peakDbfs: number;
  /** Level of the active (speech) frames. */
  speechRmsDbfs: number;
  /** Highest share of clipped samples in any channel, 0–1. */
  clippedFraction: number;
  leadingSilenceMs: number;
  trailingSilenceMs: number;
  warnings: UploadWarning[];
}

/** Round to at most two decimals and drop trailing zeros: 2.96, 3, 45.5. */
const secs = (ms: number): string => String(Number((ms / 1000).toFixed(2)));
const db = (value: number): string => String(Math.round(value));

/** How long the audio is, in words: measured ("45 s"), from headers ("about 45 s"), or where decoding stopped. */
type LengthWords = { ms: number; about?: boolean } | { moreThanMs: number };

function durationError(code: 'TOO_SHORT' | 'TOO_LONG', length: LengthWords, limits: PromptLimits): AudioInputError {
  const range = `between ${secs(limits.promptMinMs)} and ${secs(limits.promptMaxMs)} s`;
  const advice =
    code === 'TOO_SHORT'
      ? `Record at least ${secs(limits.promptMinMs)} s of clear speech.`
      : `Trim it to one clear stretch of speech of at most ${secs(limits.promptMaxMs)} s.`;
  const found = 'moreThanMs' in length ? `more than ${secs(length.moreThanMs)} s` : `${length.about ? 'about ' : ''}${secs(length.ms)} s`;
  return new AudioInputError(code, `The recording is ${code === 'TOO_SHORT' ? 'too short' : 'too long'}: ${found}; a voice prompt must be ${range}. ${advice}`);
}

function sampleRateError(rate: number, limits: PromptLimits): AudioInputError {
  return new AudioInputError(
    'SAMPLE_RATE_TOO_LOW',
    `The sample rate is too low: found ${rate} Hz, needs at least ${limits.promptMinSampleRate} Hz. Record or export at ${Math.max(limits.promptPreferredSampleRate, limits.promptMinSampleRate)} Hz or more; telephone-quality audio cannot be cloned well.`,
  );
}

/**
 * How far past promptMaxMs decoding goes before it stops: room for the codec padding that
 * Ogg end trimming removes at the last page, so a file just under the limit still passes.
 */
const DECODE_SLACK_MS = 500;

/** Decoded float samples a prompt may occupy (all channels): 30 s of 8-channel 48 kHz audio fits. */
export const PROMPT_MAX_DECODED_BYTES = 64 * 1024 * 1024;

/** The decode budget for a prompt: stop just past the longest allowed prompt, or at the memory cap. */
export function promptDecodeBudget(limits: PromptLimits, maxDecodedBytes = PROMPT_MAX_DECODED_BYTES): DecodeBudget {
  return { maxMs: limits.promptMaxMs + DECODE_SLACK_MS, maxDecodedBytes };
}

export interface ValidatePromptOptions {
  /** Called with what the decoder did (bytes fed, samples decoded, swallowed decoder output), refusals included. */
  onReport?: (report: PromptDecodeReport) => void;
}

/**
 * Decode `bytes` (WAV, FLAC, MP3, OGG Opus/Vorbis, judged by content), downmix to mono and
 * check it against the engine's prompt limits. Runs in a worker thread of a small shared
 * pool, with a memory budget and a time limit: a decompression bomb is refused as TOO_LONG
 * as soon as its decoded audio passes promptMaxMs, and a decoder that crashes, runs out of
 * memory or hangs is an UNDECODABLE refusal, never an exception of the caller's process.
 *
 * Rejects with AudioInputError: EMPTY_FILE, UNSUPPORTED_FORMAT, UNDECODABLE, TOO_SHORT,
 * TOO_LONG, SAMPLE_RATE_TOO_LOW, SILENT. Returns the mono samples, measurements and
 * warnings (CLIPPING, LOW_LEVEL, LEADING_SILENCE, TRAILING_SILENCE, LOW_SAMPLE_RATE).
 */
export function validatePromptAudio(bytes: Uint8Array, limits: PromptLimits, options: ValidatePromptOptions = {}): Promise<ValidatedPromptAudio> {
  return sharedPromptDecodePool().run(bytes, limits, options.onReport);
}

/**
 * validatePromptAudio's work, in the calling thread (the decode worker runs this). Decodes
 * under promptDecodeBudget; `stats` records how far decoding got.
 */
export async function checkPromptAudio(
  bytes: Uint8Array,
  limits: PromptLimits,
  stats: DecodeStats = newDecodeStats(),
  maxDecodedBytes = PROMPT_MAX_DECODED_BYTES,
): Promise<ValidatedPromptAudio> {
  // Headers first: refuse what is plainly wrong before spending time and memory decoding
  // (a 20 MB low-bitrate file can hold hours of audio). Headers can lie the other way;
  // the decode budget catches that.
  const probe = probeAudioFile(bytes);
  if (probe.sampleRate < limits.promptMinSampleRate) throw sampleRateError(probe.sampleRate, limits);
  if (probe.durationMs !== null && probe.durationMs > Math.max(2 * limits.promptMaxMs, limits.promptMaxMs + 10_000)) {
    throw durationError('TOO_LONG', { ms: probe.durationMs, about: true }, limits);
  }

  let decoded: DecodedAudioFile;
  try {
    decoded = await decodeAudioFile(bytes, promptDecodeBudget(limits, maxDecodedBytes), stats);
  } catch (err) {
    if (!(err instanceof DecodeBudgetExceeded) || err.limit !== 'duration') throw err;
    // A WAV's length is its byte count, exact; other headers are a claim, worth quoting only
    // when they agree the file is too long.
    const claimed = probe.durationMs;
    if (claimed !== null && claimed > limits.promptMaxMs) throw durationError('TOO_LONG', { ms: claimed, about: probe.format !== 'wav' }, limits);
    throw durationError('TOO_LONG', { moreThanMs: limits.promptMaxMs }, limits);
  }
  const { sampleRate } = decoded;
  const frames = decoded.channels[0]!.length;
  const durationMs = Math.round((frames * 1000) / sampleRate);
  if (durationMs < limits.promptMinMs) throw durationError('TOO_SHORT', { ms: durationMs }, limits);
  if (durationMs > limits.promptMaxMs) throw durationError('TOO_LONG', { ms: durationMs }, limits);
  if (sampleRate < limits.promptMinSampleRate) throw sampleRateError(sampleRate, limits);

  let loudest = 0;
  let clipped = 0;
  for (const channel of decoded.channels) {
    loudest = Math.max(loudest, peak(channel));
    clipped = Math.max(clipped, clippedFraction(channel));
  }
  if (loudest <= fromDbfs(PROMPT_THRESHOLDS.silentPeakDbfs)) {
    throw new AudioInputError(
      'SILENT',
      `The recording is silent: ${loudest === 0 ? 'every sample is zero' : `its loudest sample is ${db(dbfs(loudest))} dBFS`} (digital silence). Check that the right microphone is selected and not muted, then record again.`,
    );
  }

  const samples = downmix(decoded.channels);
  const peakDbfs = dbfs(peak(samples));
  const speechRmsDbfs = dbfs(activeLevel(samples, sampleRate));
  const silence = measureSilence(samples, sampleRate, PROMPT_THRESHOLDS.silenceTopDb);

  const warnings: UploadWarning[] = [];
  if (clipped >= PROMPT_THRESHOLDS.clippedFraction) {
    const pct = clipped * 100;
    warnings.push({
      code: 'CLIPPING',
      message: `About ${pct < 1 ? pct.toFixed(2) : pct.toFixed(1)}% of the samples are clipped (at full scale); the cloned voice may sound distorted. Record again with lower input gain.`,
    });
  }
  if (speechRmsDbfs < PROMPT_THRESHOLDS.lowSpeechRmsDbfs || peakDbfs < PROMPT_THRESHOLDS.lowPeakDbfs) {
    warnings.push({
      code: 'LOW_LEVEL',
      message: `The recording is very quiet (speech level ${db(speechRmsDbfs)} dBFS, peak ${db(peakDbfs)} dBFS); the clone may pick up noise. Record closer to the microphone or raise the input gain.`,
    });
  }
  if (silence.leadingMs > PROMPT_THRESHOLDS.longSilenceMs) {
    warnings.push({
      code: 'LEADING_SILENCE',
      message: `The recording starts with ${secs(silence.leadingMs)} s of silence; trimming it keeps the prompt to speech.`,
    });
  }
  if (silence.trailingMs > PROMPT_THRESHOLDS.longSilenceMs) {
    warnings.push({
      code: 'TRAILING_SILENCE',
      message: `The recording ends with ${secs(silence.trailingMs)} s of silence; trimming it keeps the prompt to speech.`,
    });
  }
  if (sampleRate < limits.promptPreferredSampleRate) {
    warnings.push({
      code: 'LOW_SAMPLE_RATE',
      message: `The sample rate is ${sampleRate} Hz; ${limits.promptPreferredSampleRate} Hz or more gives a clearer clone.`,
    });
  }

  return {
    format: decoded.format,
    codec: decoded.codec,
    sampleRate,
    channels: decoded.channelCount,
    durationMs,
    samples,
    peakDbfs,
    speechRmsDbfs,
    clippedFraction: clipped,
    leadingSilenceMs: silence.leadingMs,
    trailingSilenceMs: silence.trailingMs,
    warnings,
  };
}

/** RMS over the 20 ms frames within activeRangeDb of the loudest one: roughly the speech level. */
function activeLevel(samples: Float32Array, sampleRate: number): number {
  const { rms } = frameLevels(samples, sampleRate, 20);
  let loudest = 0;
  for (const r of rms) loudest = Math.max(loudest, r);
  if (loudest === 0) return 0;
  const floor = loudest * fromDbfs(-PROMPT_THRESHOLDS.activeRangeDb);
  let energy = 0;
  let count = 0;
  for (const r of rms) {
    if (r >= floor) {
      energy += r * r;
      count++;
    }
  }
  return Math.sqrt(energy / count);
}
