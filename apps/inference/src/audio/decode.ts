/**
 * Decode a user-supplied audio file (prompt uploads) into float channels, whatever its
 * name says: the container is identified by its bytes. WAV is parsed here; FLAC, MP3 and
 * OGG (Opus/Vorbis) go through WASM builds of libFLAC, mpg123, libopus and libvorbis,
 * each instance freed after use.
 */
import type { UploadFormat } from '@chorus/api/schemas';
import { SampleFormat, bufferToFloat32Channels } from '@echogarden/wave-codec';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { AudioInputError } from './audio-input-error.ts';
import {
  WAVE_FORMAT,
  checkOggPages,
  countMpegSamples,
  oggDurationSamples,
  parseFlacStreamInfo,
  parseWav,
  readXingFrameCount,
  sniffAudio,
  type MpegFrameHeader,
  type SniffedAudio,
} from './containers.ts';

export { ACCEPTED_AUDIO_FORMATS, AudioInputError, isAudioInputError } from './audio-input-error.ts';

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
 * Throws AudioInputError: EMPTY_FILE, UNSUPPORTED_FORMAT (names what is accepted) or
 * UNDECODABLE (says what is wrong: truncated, damaged, no samples).
 */
export async function decodeAudioFile(bytes: Uint8Array): Promise<DecodedAudioFile> {
  if (bytes.length === 0) throw emptyFile();
  const sniffed = sniffAudio(bytes);
  const decoded = await decodeSniffed(bytes, sniffed);
  const frames = decoded.channels[0]?.length ?? 0;
  if (frames === 0) throw new AudioInputError('UNDECODABLE', `The ${label(decoded.format)} file contains no audio samples.`);
  for (const channel of decoded.channels) {
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i]!)) {
        throw new AudioInputError('UNDECODABLE', `The ${label(decoded.format)} file is damaged: it contains invalid (NaN or infinite) sample values.`);
      }
    }
  }
  return decoded;
}

function emptyFile(): AudioInputError {
  return new AudioInputError('EMPTY_FILE', 'The file is empty (0 bytes). Choose an audio file with a few seconds of speech.');
}

const label = (format: UploadFormat): string => format.toUpperCase();

async function decodeSniffed(bytes: Uint8Array, sniffed: SniffedAudio): Promise<DecodedAudioFile> {
  switch (sniffed.format) {
    case 'wav':
      return decodeWavFile(bytes);
    case 'flac':
      return decodeFlac(bytes.subarray(sniffed.offset));
    case 'mp3':
      return decodeMp3(bytes, sniffed.offset, sniffed.header);
    case 'ogg':
      return sniffed.codec === 'opus' ? decodeOpus(bytes) : decodeVorbis(bytes);
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

function decodeWavFile(bytes: Uint8Array): DecodedAudioFile {
  const wav = parseWav(bytes);
  // The sample converters read through typed-array views, which need the data aligned to
  // the sample size: copy it out of the file buffer.
  const data = wav.data.slice();
  const channels = bufferToFloat32Channels(data, wav.channelCount, wav.bitsPerSample, WAVE_SAMPLE_FORMAT[wav.formatTag]!);
  return {
    format: 'wav',
    codec: wavCodecName(wav.formatTag, wav.bitsPerSample),
    channels,
    sampleRate: wav.sampleRate,
    channelCount: wav.channelCount,
  };
}

// --- Codec helpers ---------------------------------------------------------------------

interface WasmDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** Decoding errors are fatal: a prompt with broken frames would clone the glitches too. */
function rejectErrors(format: UploadFormat, result: WasmDecoded): void {
  if (result.errors.length === 0) return;
  const first = result.errors[0]!.message;
  throw new AudioInputError(
    'UNDECODABLE',
    `The ${label(format)} file is damaged: ${result.errors.length} ${result.errors.length === 1 ? 'frame' : 'frames'} could not be decoded (${first}).`,
  );
}

const mpegCodecName = (header: MpegFrameHeader): string => `mp${header.layer}`;

const seconds = (samples: number, rate: number): string => (samples / rate).toFixed(1);

/** Copy out of the decoder's memory (it is freed next) and keep only the first `count` channels. */
function ownChannels(result: WasmDecoded, count: number): Float32Array[] {
  return result.channelData.slice(0, count).map((ch) => ch.slice(0, result.samplesDecoded));
}

async function decodeFlac(bytes: Uint8Array): Promise<DecodedAudioFile> {
  const info = parseFlacStreamInfo(bytes, 0);
  const decoder = new FLACDecoder();
  try {
    await decoder.ready;
    const result = await decoder.decodeFile(bytes);
    rejectErrors('flac', result);
    if (result.samplesDecoded === 0) {
      throw new AudioInputError('UNDECODABLE', 'The FLAC file is damaged: none of its audio frames could be decoded.');
    }
    if (info.totalSamples > 0 && result.samplesDecoded < info.totalSamples) {
      throw new AudioInputError(
        'UNDECODABLE',
        `The FLAC file is truncated: header says ${seconds(info.totalSamples, info.sampleRate)} s of audio (${info.totalSamples} samples), only ${seconds(result.samplesDecoded, info.sampleRate)} s (${result.samplesDecoded}) present.`,
      );
    }
    const channelCount = Math.min(info.channelCount, result.channelData.length);
    return { format: 'flac', codec: 'flac', channels: ownChannels(result, channelCount), sampleRate: result.sampleRate, channelCount };
  } finally {
    decoder.free();
  }
}

async function decodeMp3(bytes: Uint8Array, offset: number, header: MpegFrameHeader): Promise<DecodedAudioFile> {
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
    const result = decoder.decode(bytes);
    rejectErrors('mp3', result);
    if (result.samplesDecoded === 0) {
      throw new AudioInputError('UNDECODABLE', 'The MP3 file is damaged: none of its audio frames could be decoded.');
    }
    const frames = readXingFrameCount(bytes, offset, header);
    if (frames !== null) {
      const expected = frames * header.samplesPerFrame;
      // Encoder delay and padding are trimmed (gapless decoding): allow a few frames' worth.
      if (result.samplesDecoded + 3 * header.samplesPerFrame < expected) {
        throw new AudioInputError(
          'UNDECODABLE',
          `The MP3 file is truncated: header says ${seconds(expected, header.sampleRate)} s of audio, only ${seconds(result.samplesDecoded, result.sampleRate)} s present.`,
        );
      }
    }
    // mpg123 always hands back two channels; a mono stream has the same samples in both.
    const channelCount = Math.min(header.channelCount, result.channelData.length);
    return { format: 'mp3', codec: mpegCodecName(header), channels: ownChannels(result, channelCount), sampleRate: result.sampleRate, channelCount };
  } finally {
    decoder.free();
  }
}

async function decodeOpus(bytes: Uint8Array): Promise<DecodedAudioFile> {
  checkOggPages(bytes);
  const decoder = new OggOpusDecoder();
  try {
    await decoder.ready;
    const result = await decoder.decodeFile(bytes);
    rejectErrors('ogg', result);
    // The Opus header's channel count: the decoder upmixes nothing unless asked (forceStereo).
    const channelCount = result.channelData.length;
    return { format: 'ogg', codec: 'opus', channels: ownChannels(result, channelCount), sampleRate: result.sampleRate, channelCount };
  } finally {
    decoder.free();
  }
}

async function decodeVorbis(bytes: Uint8Array): Promise<DecodedAudioFile> {
  checkOggPages(bytes);
  const decoder = new OggVorbisDecoder();
  try {
    await decoder.ready;
    const result = await decoder.decodeFile(bytes);
    rejectErrors('ogg', result);
    const channelCount = result.channelData.length;
    return { format: 'ogg', codec: 'vorbis', channels: ownChannels(result, channelCount), sampleRate: result.sampleRate, channelCount };
  } finally {
    decoder.free();
  }
}
