/**
 * The budget a streaming decode runs under, and the sink that collects decoded chunks and
 * stops the decode the moment the audio passes the budget's length or memory limit —
 * whatever the file's headers claimed.
 */
import type { UploadFormat } from '@chorus/api/schemas';
import { ACCEPTED_AUDIO_FORMATS, AudioInputError } from './audio-input-error.ts';

export interface DecodeBudget {
  /** Stop once more than this much audio (per channel) has been decoded. */
  maxMs: number;
  /** Stop once the decoded float samples of all channels would take more than this. */
  maxDecodedBytes: number;
}

/** For callers that must see the whole file (tests, tools): still bounded, never "unlimited". */
export const DEFAULT_DECODE_BUDGET: DecodeBudget = { maxMs: 10 * 60_000, maxDecodedBytes: 512 * 1024 * 1024 };

/** What a decode did; filled in as it goes, so it is meaningful after a refusal too. */
export interface DecodeStats {
  /** Compressed bytes handed to the codec (or PCM bytes converted, for WAV). */
  bytesFed: number;
  /** Bytes of the input that were never fed because decoding stopped first. */
  bytesLeft: number;
  /** Sample frames (per channel) decoded so far. */
  framesDecoded: number;
  sampleRate: number;
  /** Decoder calls made. */
  calls: number;
}

export const newDecodeStats = (): DecodeStats => ({ bytesFed: 0, bytesLeft: 0, framesDecoded: 0, sampleRate: 0, calls: 0 });

const FLOAT_BYTES = 4;
const secs = (frames: number, rate: number): string => String(Number((frames / rate).toFixed(2)));

/** Decoding stopped at the budget. `limit` says which one. */
export class DecodeBudgetExceeded extends AudioInputError {
  constructor(
    readonly limit: 'duration' | 'memory',
    readonly budget: DecodeBudget,
    readonly framesDecoded: number,
    readonly sampleRate: number,
    readonly channelCount: number,
  ) {
    super(
      limit === 'duration' ? 'TOO_LONG' : 'UNSUPPORTED_FORMAT',
      limit === 'duration'
        ? `The recording is too long: more than ${secs(budget.maxMs, 1000)} s of audio (decoding stopped there).`
        : `The recording holds too much audio data: ${channelCount} channels at ${sampleRate} Hz pass the ${Math.round(budget.maxDecodedBytes / 2 ** 20)} MB decoding limit after ${secs(framesDecoded, sampleRate)} s. Export it as mono or stereo at 48 kHz or less; Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.`,
    );
    this.name = 'DecodeBudgetExceeded';
  }
}

/** The shape every WASM decoder returns. */
export interface WasmDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

const label = (format: UploadFormat): string => format.toUpperCase();

/**
 * Collects decoded chunks of one file. `add` refuses decoding errors (a prompt with broken
 * frames would clone the glitches too), invalid samples, a rate or channel change midway,
 * and audio past the budget.
 */
export class DecodedAudioSink {
  private readonly chunks: Float32Array[][] = [];
  private frames = 0;
  private rate = 0;
  private channels = 0;

  constructor(
    private readonly format: UploadFormat,
    private readonly budget: DecodeBudget,
    private readonly stats: DecodeStats,
    /** Channels to keep (mpg123 always returns two; a mono MP3 keeps one); null keeps what comes. */
    private readonly keepChannels: number | null,
  ) {}

  get framesDecoded(): number {
    return this.frames;
  }

  get sampleRate(): number {
    return this.rate;
  }

  get channelCount(): number {
    return this.channels;
  }

  /**
   * Refuse before decoding a chunk whose headers declare more than the memory budget has
   * room for (`frames` per channel, `channels` channels).
   */
  assertRoomFor(frames: number, channels: number, rate: number): void {
    if ((this.frames + frames) * channels * FLOAT_BYTES > this.budget.maxDecodedBytes) {
      throw new DecodeBudgetExceeded('memory', this.budget, this.frames, rate, channels);
    }
  }

  add(result: WasmDecoded): void {
    this.stats.calls++;
    if (result.errors.length > 0) {
      const first = result.errors[0]!.message;
      throw new AudioInputError(
        'UNDECODABLE',
        `The ${label(this.format)} file is damaged: ${result.errors.length} ${result.errors.length === 1 ? 'frame' : 'frames'} could not be decoded (${first}).`,
      );
    }
    const n = result.samplesDecoded;
    if (n === 0) return;
    if (!(result.sampleRate > 0)) throw new AudioInputError('UNDECODABLE', `The ${label(this.format)} file is damaged: its audio has no valid sample rate.`);
    const count = Math.min(this.keepChannels ?? result.channelData.length, result.channelData.length);
    if (this.rate === 0) {
      this.rate = result.sampleRate;
      this.channels = count;
      this.stats.sampleRate = this.rate;
    } else if (result.sampleRate !== this.rate || count !== this.channels) {
      throw new AudioInputError(
        'UNDECODABLE',
        `The ${label(this.format)} file changes from ${this.channels} channel(s) at ${this.rate} Hz to ${count} at ${result.sampleRate} Hz partway through; export it again as one continuous recording.`,
      );
    }
    if (count === 0) throw new AudioInputError('UNDECODABLE', `The ${label(this.format)} file is damaged: its audio has no channels.`);
    const chunk = result.channelData.slice(0, count).map((ch) => (ch.length === n ? ch : ch.subarray(0, n)));
    for (const channel of chunk) {
      for (let i = 0; i < channel.length; i++) {
        if (!Number.isFinite(channel[i]!)) {
          throw new AudioInputError('UNDECODABLE', `The ${label(this.format)} file is damaged: it contains invalid (NaN or infinite) sample values.`);
        }
      }
    }
    this.chunks.push(chunk);
    this.frames += n;
    this.stats.framesDecoded = this.frames;
    if ((this.frames * 1000) / this.rate > this.budget.maxMs) {
      throw new DecodeBudgetExceeded('duration', this.budget, this.frames, this.rate, this.channels);
    }
    if (this.frames * this.channels * FLOAT_BYTES > this.budget.maxDecodedBytes) {
      throw new DecodeBudgetExceeded('memory', this.budget, this.frames, this.rate, this.channels);
    }
  }

  /** The decoded audio as one array per channel (the chunks are released). */
  finish(): Float32Array[] {
    const out = Array.from({ length: this.channels }, () => new Float32Array(this.frames));
    let at = 0;
    for (const chunk of this.chunks.splice(0)) {
      for (let c = 0; c < out.length; c++) out[c]!.set(chunk[c]!, at);
      at += chunk[0]!.length;
    }
    return out;
  }
}
