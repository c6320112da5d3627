/**
 * Decode a user-supplied audio file (prompt uploads) into float channels, whatever its
 * name says: the container is identified by its bytes. WAV is parsed here; FLAC, MP3 and
 * OGG (Opus/Vorbis) go through WASM builds of libFLAC, mpg123, libopus and libvorbis,
 * fed a bounded piece at a time under a DecodeBudget, each instance freed after use.
 * Prompt uploads run this in a worker thread (prompt-decode-pool.ts).
 */
import type { UploadFormat } from '@chorus/api/schemas';
import { SampleFormat, bufferToFloat32Channels } from '@echogarden/wave-codec';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { ACCEPTED_AUDIO_FORMATS, AudioInputError } from './audio-input-error.ts';
import { DEFAULT_DECODE_BUDGET, DecodeBudgetExceeded, DecodedAudioSink, newDecodeStats, type DecodeBudget, type DecodeStats, type WasmDecoded } from './decode-budget.ts';
import { flacChunkEnd, opusPacketSamples, vorbisPacketBound } from './decoded-size-bounds.ts';
import {
  WAVE_FORMAT,
  countMpegSamples,
  oggDurationSamples,
  parseFlacStreamInfo,
  parseWav,
  checkOggPages,
  oggPageSpans,
  readXingFrameCount,
  sniffAudio,
  type MpegFrameHeader,
  type OggHead,
  type SniffedAudio,
} from './containers.ts';

export { ACCEPTED_AUDIO_FORMATS, AudioInputError, isAudioInputError } from './audio-input-error.ts';
export { DEFAULT_DECODE_BUDGET, DecodeBudgetExceeded, newDecodeStats, type DecodeBudget, type DecodeStats } from './decode-budget.ts';

export interface DecodedAudioFile {
  format: UploadFormat;
  /** What is inside the container, for logs: pcm16, pcm24, pcm32, float32, flac, mp3, opus, vorbis… */
  codec: string;
  /** One Float32Array per channel, nominally in [-1, 1] (float and lossy sources may overshoot). */
  channels: Float32Array[];
  sampleRate: number;
  channelCount: number;
}

/** What the headers say, before anything is decoded. */
export interface AudioProbe {
  format: UploadFormat;
  codec: string;
  sampleRate: number;
  channelCount: number;
  /**
   * Length from the headers (WAV data size, FLAC STREAMINFO, last Ogg granule, MP3 frame
   * walk); null when the file does not say. Decoding is the truth; this is for refusing
   * hours of audio before decoding it.
   */
  durationMs: number | null;
}

/**
 * Identify the container by magic bytes and read its headers without decoding. Throws
 * AudioInputError like decodeAudioFile (EMPTY_FILE, UNSUPPORTED_FORMAT, UNDECODABLE).
 */
export function probeAudioFile(bytes: Uint8Array): AudioProbe {
  if (bytes.length === 0) throw emptyFile();
  const sniffed = sniffAudio(bytes);
  const ms = (samples: number, rate: number): number => Math.round((samples * 1000) / rate);
  switch (sniffed.format) {
    case 'wav': {
      const wav = parseWav(bytes);
      const frames = wav.data.length / wav.blockAlign;
      return { format: 'wav', codec: wavCodecName(wav.formatTag, wav.bitsPerSample), sampleRate: wav.sampleRate, channelCount: wav.channelCount, durationMs: ms(frames, wav.sampleRate) };
    }
    case 'flac': {
      const info = parseFlacStreamInfo(bytes, sniffed.offset);
      return { format: 'flac', codec: 'flac', sampleRate: info.sampleRate, channelCount: info.channelCount, durationMs: info.totalSamples > 0 ? ms(info.totalSamples, info.sampleRate) : null };
    }
    case 'mp3': {
      const h = sniffed.header;
      return { format: 'mp3', codec: mpegCodecName(h), sampleRate: h.sampleRate, channelCount: h.channelCount, durationMs: ms(countMpegSamples(bytes, sniffed.offset), h.sampleRate) };
    }
    case 'ogg': {
      const samples = oggDurationSamples(bytes, sniffed);
      return { format: 'ogg', codec: sniffed.codec, sampleRate: sniffed.sampleRate, channelCount: sniffed.channelCount, durationMs: samples === null ? null : ms(samples, sniffed.sampleRate) };
    }
  }
}

/**
 * Decode WAV (PCM 8/16/24/32-bit, float 32/64, A-law/µ-law), FLAC, MP3 and OGG Opus/Vorbis.
 * Compressed formats are decoded as a stream, a bounded piece at a time, and decoding stops
 * as soon as the audio passes `budget` (DecodeBudgetExceeded), whatever the headers claim.
 * Throws AudioInputError: EMPTY_FILE, UNSUPPORTED_FORMAT (names what is accepted) or
 * UNDECODABLE (says what is wrong: truncated, damaged, no samples). `stats` is filled in as
 * decoding goes, also when it throws.
 */
export async function decodeAudioFile(bytes: Uint8Array, budget: DecodeBudget = DEFAULT_DECODE_BUDGET, stats: DecodeStats = newDecodeStats()): Promise<DecodedAudioFile> {
  if (bytes.length === 0) throw emptyFile();
  const sniffed = sniffAudio(bytes);
  const decoded = await decodeSniffed(bytes, sniffed, budget, stats);
  const frames = decoded.channels[0]?.length ?? 0;
  if (frames === 0) throw new AudioInputError('UNDECODABLE', `The ${label(decoded.format)} file contains no audio samples.`);
  return decoded;
}

function emptyFile(): AudioInputError {
  return new AudioInputError('EMPTY_FILE', 'The file is empty (0 bytes). Choose an audio file with a few seconds of speech.');
}

const label = (format: UploadFormat): string => format.toUpperCase();

function decodeSniffed(bytes: Uint8Array, sniffed: SniffedAudio, budget: DecodeBudget, stats: DecodeStats): Promise<DecodedAudioFile> {
  switch (sniffed.format) {
    case 'wav':
      return Promise.resolve(decodeWavFile(bytes, budget, stats));
    case 'flac':
      return decodeFlac(bytes.subarray(sniffed.offset), budget, stats);
    case 'mp3':
      return decodeMp3(bytes, sniffed.offset, sniffed.header, budget, stats);
    case 'ogg':
      return decodeOgg(bytes, sniffed, budget, stats);
  }
}

// --- WAV -------------------------------------------------------------------------------

function wavCodecName(formatTag: number, bits: number): string {
  if (formatTag === WAVE_FORMAT.FLOAT) return `float${bits}`;
  if (formatTag === WAVE_FORMAT.ALAW) return 'alaw';
  if (formatTag === WAVE_FORMAT.MULAW) return 'mulaw';
  return `pcm${bits}`;
}

const WAVE_SAMPLE_FORMAT: Record<number, SampleFormat> = {
  [WAVE_FORMAT.PCM]: SampleFormat.PCM,
  [WAVE_FORMAT.FLOAT]: SampleFormat.Float,
  [WAVE_FORMAT.ALAW]: SampleFormat.Alaw,
  [WAVE_FORMAT.MULAW]: SampleFormat.Mulaw,
};

/** WAV needs no streaming: its length is the byte count, so the budget is checked before converting. */
function decodeWavFile(bytes: Uint8Array, budget: DecodeBudget, stats: DecodeStats): DecodedAudioFile {
  const wav = parseWav(bytes);
  const frames = wav.data.length / wav.blockAlign;
  stats.sampleRate = wav.sampleRate;
  stats.bytesLeft = wav.data.length;
  if ((frames * 1000) / wav.sampleRate > budget.maxMs) throw new DecodeBudgetExceeded('duration', budget, 0, wav.sampleRate, wav.channelCount);
  if (frames * wav.channelCount * 4 > budget.maxDecodedBytes) throw new DecodeBudgetExceeded('memory', budget, 0, wav.sampleRate, wav.channelCount);
  // The sample converters read through typed-array views, which need the data aligned to
  // the sample size: copy it out of the file buffer.
  const data = wav.data.slice();
  const channels = bufferToFloat32Channels(data, wav.channelCount, wav.bitsPerSample, WAVE_SAMPLE_FORMAT[wav.formatTag]!);
  stats.bytesFed = data.length;
  stats.bytesLeft = 0;
  stats.framesDecoded = frames;
  stats.calls = 1;
  rejectNonFinite(channels);
  return {
    format: 'wav',
    codec: wavCodecName(wav.formatTag, wav.bitsPerSample),
    channels,
    sampleRate: wav.sampleRate,
    channelCount: wav.channelCount,
  };
}

function rejectNonFinite(channels: Float32Array[]): void {
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i]!)) {
        throw new AudioInputError('UNDECODABLE', 'The WAV file is damaged: it contains invalid (NaN or infinite) sample values.');
      }
    }
  }
}

// --- Streaming codecs ------------------------------------------------------------------

/** One decoder call may declare at most this many samples (all channels): about 1 MB of floats. */
const CALL_MAX_SAMPLES = 1 << 18;
/** Compressed bytes per decoder call (MP3: at most ~6 MB decoded even for the smallest frames). */
const CALL_MAX_BYTES = 16 * 1024;
/** Opus and Vorbis allow up to 255 channels; a page of many-channel audio is too much at once. */
const MAX_OGG_CHANNELS = 8;

/**
 * Run a decoder call. The decoder libraries (and codec-parser inside them) throw plain
 * TypeErrors and ReferenceErrors on some malformed input; those become a clear refusal.
 */
async function guard<T>(format: UploadFormat, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AudioInputError) throw err;
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new AudioInputError(
      'UNDECODABLE',
      `The ${label(format)} file is damaged or malformed: the decoder could not read it (${detail.slice(0, 200)}). Export it again; Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.`,
    );
  }
}

const mpegCodecName = (header: MpegFrameHeader): string => `mp${header.layer}`;

const seconds = (samples: number, rate: number): string => (samples / rate).toFixed(1);

interface FreeableDecoder {
  free(): void;
}

function freeQuietly(decoder: FreeableDecoder): void {
  try {
    decoder.free();
  } catch {
    // A decoder that failed to start has nothing to free.
  }
}

async function decodeFlac(bytes: Uint8Array, budget: DecodeBudget, stats: DecodeStats): Promise<DecodedAudioFile> {
  const info = parseFlacStreamInfo(bytes, 0);
  const sink = new DecodedAudioSink('flac', budget, stats, info.channelCount);
  const decoder = new FLACDecoder();
  let pos = 0;
  try {
    await guard('flac', () => decoder.ready);
    while (pos < bytes.length) {
      // Cut before the frame that would make this call decode more than CALL_MAX_SAMPLES:
      // a few bytes of FLAC can declare 65536 samples per channel.
      const end = flacChunkEnd(bytes, pos, CALL_MAX_SAMPLES, 4 * CALL_MAX_BYTES);
      const chunk = bytes.subarray(pos, end);
      stats.bytesFed += chunk.length;
      pos = end;
      sink.add(await guard('flac', () => decoder.decode(chunk)));
    }
    sink.add(await guard('flac', () => decoder.flush()));
  } finally {
    stats.bytesLeft = bytes.length - pos;
    freeQuietly(decoder);
  }
  if (sink.framesDecoded === 0) {
    throw new AudioInputError('UNDECODABLE', 'The FLAC file is damaged: none of its audio frames could be decoded.');
  }
  if (info.totalSamples > 0 && sink.framesDecoded < info.totalSamples) {
    throw new AudioInputError(
      'UNDECODABLE',
      `The FLAC file is truncated: header says ${seconds(info.totalSamples, info.sampleRate)} s of audio (${info.totalSamples} samples), only ${seconds(sink.framesDecoded, info.sampleRate)} s (${sink.framesDecoded}) present.`,
    );
  }
  return { format: 'flac', codec: 'flac', channels: sink.finish(), sampleRate: sink.sampleRate, channelCount: sink.channelCount };
}

async function decodeMp3(bytes: Uint8Array, offset: number, header: MpegFrameHeader, budget: DecodeBudget, stats: DecodeStats): Promise<DecodedAudioFile> {
  // mpg123 always hands back two channels; a mono stream has the same samples in both.
  const sink = new DecodedAudioSink('mp3', budget, stats, header.channelCount);
  const decoder = new MPEGDecoder();
  let pos = 0;
  try {
    await guard('mp3', () => decoder.ready);
    while (pos < bytes.length) {
      const chunk = bytes.subarray(pos, pos + CALL_MAX_BYTES);
      stats.bytesFed += chunk.length;
      pos += chunk.length;
      sink.add(await guard('mp3', () => decoder.decode(chunk)));
    }
  } finally {
    stats.bytesLeft = bytes.length - pos;
    freeQuietly(decoder);
  }
  if (sink.framesDecoded === 0) {
    throw new AudioInputError('UNDECODABLE', 'The MP3 file is damaged: none of its audio frames could be decoded.');
  }
  const frames = readXingFrameCount(bytes, offset, header);
  if (frames !== null) {
    const expected = frames * header.samplesPerFrame;
    // Encoder delay and padding are trimmed (gapless decoding): allow a few frames' worth.
    if (sink.framesDecoded + 3 * header.samplesPerFrame < expected) {
      throw new AudioInputError(
        'UNDECODABLE',
        `The MP3 file is truncated: header says ${seconds(expected, header.sampleRate)} s of audio, only ${seconds(sink.framesDecoded, sink.sampleRate)} s present.`,
      );
    }
  }
  return { format: 'mp3', codec: mpegCodecName(header), channels: sink.finish(), sampleRate: sink.sampleRate, channelCount: sink.channelCount };
}

interface OggStreamDecoder extends FreeableDecoder {
  ready: Promise<void>;
  decode(data: Uint8Array): WasmDecoded | Promise<WasmDecoded>;
  flush(): Promise<WasmDecoded>;
}

/** Ogg Opus and Vorbis, fed one checked page at a time. */
async function decodeOgg(bytes: Uint8Array, head: OggHead, budget: DecodeBudget, stats: DecodeStats): Promise<DecodedAudioFile> {
  // Checked first: the codecs silently stop at a cut, and a bad checksum means damage.
  checkOggPages(bytes);
  if (head.channelCount > MAX_OGG_CHANNELS) {
    throw new AudioInputError(
      'UNSUPPORTED_FORMAT',
      `Unsupported file: this OGG file has ${head.channelCount} channels; Chorus accepts up to ${MAX_OGG_CHANNELS} (mono is best for a voice prompt). Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.`,
    );
  }
  const isOpus = head.codec === 'opus';
  const decoder: OggStreamDecoder = isOpus ? new OggOpusDecoder() : new OggVorbisDecoder();
  const packetBound = isOpus ? opusPacketSamples : vorbisPacketBound(bytes.subarray(27 + (bytes[26] ?? 0)));
  const sink = new DecodedAudioSink('ogg', budget, stats, null);
  const channels = Math.max(1, head.channelCount);
  let fed = 0;
  try {
    await guard('ogg', () => decoder.ready);
    for (const page of oggPageSpans(bytes)) {
      // What the page's packets can decode to, refused before decoding if it cannot fit.
      let declared = 0;
      for (const packet of page.endedPackets) declared += packetBound(packet);
      sink.assertRoomFor(declared, channels, head.sampleRate);
      stats.bytesFed += page.end - page.start;
      fed = page.end;
      sink.add(await guard('ogg', () => decoder.decode(bytes.subarray(page.start, page.end))));
    }
    sink.add(await guard('ogg', () => decoder.flush()));
  } finally {
    stats.bytesLeft = bytes.length - fed;
    freeQuietly(decoder);
  }
  return { format: 'ogg', codec: head.codec, channels: sink.finish(), sampleRate: sink.sampleRate, channelCount: sink.channelCount };
}
