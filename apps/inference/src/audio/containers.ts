/**
 * Container sniffing and header parsing for prompt uploads: what a file is, judged by its
 * bytes (never its name), and whether its headers promise more audio than the file holds.
 * Pure functions over a byte array; the codecs themselves run in decode.ts.
 */
import { ACCEPTED_AUDIO_FORMATS, AudioInputError } from './audio-input-error.ts';

// ---------------------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------------------

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const u16le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32le = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u32be = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function unsupported(found: string, hint?: string): AudioInputError {
  return new AudioInputError(
    'UNSUPPORTED_FORMAT',
    `Unsupported file: ${found}. Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.${hint ? ` ${hint}` : ''}`,
  );
}

function undecodable(message: string): AudioInputError {
  return new AudioInputError('UNDECODABLE', message);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------------------

export type SniffedAudio =
  | { format: 'wav' }
  /** `offset`: where `fLaC` starts (after an ID3 tag, which some taggers put in front). */
  | { format: 'flac'; offset: number }
  /** `offset`: the first MPEG audio frame (after any ID3v2 tag). */
  | { format: 'mp3'; offset: number; header: MpegFrameHeader }
  | ({ format: 'ogg' } & OggHead);

/**
 * Identify the container by magic bytes. Throws AudioInputError UNSUPPORTED_FORMAT for
 * anything that is not WAV/FLAC/MP3/OGG (Opus or Vorbis), naming what it looks like when
 * that is recognisable, and UNDECODABLE when a supported container is too broken to tell.
 */
export function sniffAudio(bytes: Uint8Array): SniffedAudio {
  const head4 = ascii(bytes, 0, 4);

  if (head4 === 'RIFF' || head4 === 'RF64') {
    if (bytes.length < 12) throw undecodable(`The WAV file is truncated: it ends inside the RIFF header (${plural(bytes.length, 'byte')}).`);
    const kind = ascii(bytes, 8, 4);
    if (kind === 'WAVE') return { format: 'wav' };
    if (kind === 'AVI ') throw unsupported('this is an AVI video file');
    if (kind === 'WEBP') throw unsupported('this is a WebP image');
    throw unsupported(`this is a RIFF "${kind.trim()}" file, not WAV audio`);
  }
  if (head4 === 'RIFX') throw unsupported('this is a big-endian WAV (RIFX) file', 'Convert it to a standard (little-endian) WAV or FLAC.');
  if (head4 === 'fLaC') return { format: 'flac', offset: 0 };
  if (head4 === 'OggS') return { format: 'ogg', ...parseOggHead(bytes) };

  if (ascii(bytes, 0, 3) === 'ID3') {
    const tagEnd = id3v2End(bytes);
    if (tagEnd + 4 <= bytes.length && ascii(bytes, tagEnd, 4) === 'fLaC') return { format: 'flac', offset: tagEnd };
    const start = findMpegStart(bytes, tagEnd, 64 * 1024);
    if (start) return { format: 'mp3', ...start };
    if (tagEnd >= bytes.length) throw undecodable('The MP3 file is truncated: it ends inside its ID3 tag, before any audio.');
    throw undecodable('The file has an MP3 (ID3) tag but no MPEG audio frames after it; it is damaged or not really an MP3.');
  }

  const mpeg = findMpegStart(bytes, 0, 0);
  if (mpeg) return { format: 'mp3', ...mpeg };

  throw unsupported(...describeUnknown(bytes));
}

/** Name common non-accepted files so the message says what the user actually sent. */
function describeUnknown(bytes: Uint8Array): [string, string?] {
  const head4 = ascii(bytes, 0, 4);
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) {
    const docType = ascii(bytes, 0, 64);
    if (docType.includes('webm')) {
      return [
        'this is a WebM recording (the format browsers record in)',
        'Record again on the Chorus page (it converts recordings to WAV before uploading), or convert the file to WAV.',
      ];
    }
    return ['this is a Matroska (MKA/MKV) file', 'Convert it to WAV or FLAC.'];
  }
  if (ascii(bytes, 4, 4) === 'ftyp') return ['this is an MP4/M4A file (AAC or ALAC audio)', 'Convert it to WAV, FLAC or MP3.'];
  if (head4 === 'FORM' && /^AIF[FC]$/.test(ascii(bytes, 8, 4))) return ['this is an AIFF file', 'Convert it to WAV or FLAC.'];
  if (head4 === 'caff') return ['this is a Core Audio (CAF) file', 'Convert it to WAV or FLAC.'];
  if (head4 === 'wvpk') return ['this is a WavPack file', 'Convert it to WAV or FLAC.'];
  if (head4 === 'MAC ') return ["this is a Monkey's Audio (APE) file", 'Convert it to WAV or FLAC.'];
  if (head4 === '.snd') return ['this is a Sun/NeXT AU file', 'Convert it to WAV.'];
  if (head4 === 'MThd') return ['this is a MIDI file (notes, not recorded audio)'];
  if (ascii(bytes, 0, 5) === '#!AMR') return ['this is an AMR voice recording', 'Convert it to WAV.'];
  if (bytes[0] === 0x30 && bytes[1] === 0x26 && bytes[2] === 0xb2 && bytes[3] === 0x75) return ['this is a Windows Media (WMA/ASF) file', 'Convert it to WAV or MP3.'];
  if (bytes[0] === 0xff && bytes[1] !== undefined && (bytes[1] & 0xf6) === 0xf0) return ['this is raw AAC audio (ADTS)', 'Convert it to WAV, FLAC or MP3.'];
  if (head4 === '%PDF') return ['this is a PDF document'];
  if (head4 === '\x89PNG') return ['this is a PNG image'];
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return ['this is a JPEG image'];
  if (head4 === 'PK\x03\x04') return ['this is a ZIP archive'];
  if (looksLikeText(bytes)) return ['this looks like a text file, not audio'];
  return ['the file is not in a recognised audio format'];
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// WAV (RIFF/RF64 WAVE)
// ---------------------------------------------------------------------------------------

export const WAVE_FORMAT = { PCM: 1, FLOAT: 3, ALAW: 6, MULAW: 7, EXTENSIBLE: 0xfffe } as const;

const WAVE_CODEC_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0011: 'IMA ADPCM',
  0x0022: 'DSP TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0045: 'G.726 ADPCM',
  0x0050: 'MPEG audio',
  0x0055: 'MP3',
  0x0161: 'Windows Media Audio',
  0x00ff: 'AAC',
  0x1610: 'AAC',
  0x2000: 'AC-3',
};

export type WavSampleBits = 8 | 16 | 24 | 32 | 64;

export interface WavLayout {
  /** PCM (1), FLOAT (3), ALAW (6) or MULAW (7); WAVE_FORMAT_EXTENSIBLE is resolved to its sub-format. */
  formatTag: number;
  channelCount: number;
  sampleRate: number;
  /** Bits each sample occupies (the container size; valid bits may be fewer). */
  bitsPerSample: WavSampleBits;
  blockAlign: number;
  /** The audio bytes, cut to whole sample frames. */
  data: Uint8Array;
}

/** Data sizes this large are placeholders streaming writers leave ("length unknown"). */
const UNKNOWN_LENGTH_FROM = 0x7fff0000;

/**
 * Walk the RIFF chunks of a WAV file. Throws UNDECODABLE with a specific reason for a
 * truncated or inconsistent file and UNSUPPORTED_FORMAT for compressed WAV codecs.
 */
export function parseWav(bytes: Uint8Array): WavLayout {
  let fmt: Omit<WavLayout, 'data'> | null = null;
  let data: Uint8Array | null = null;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos, 4);
    const size = u32le(bytes, pos + 4);
    const body = pos + 8;
    const available = bytes.length - body;
    if (id === 'fmt ') {
      if (size > available) throw undecodable(`The WAV file is truncated: it ends inside its format header (${size} bytes declared, ${available} present).`);
      fmt = parseWavFormat(bytes.subarray(body, body + size));
    } else if (id === 'data') {
      if (size >= UNKNOWN_LENGTH_FROM) {
        // Written by a streaming encoder that never came back to fill in the length:
        // the audio runs to the end of the file.
        data = bytes.subarray(body);
        break;
      }
      if (size > available) {
        throw undecodable(`The WAV file is truncated: header says ${size} bytes of audio, only ${available} present.`);
      }
      data = bytes.subarray(body, body + size);
    } else if (size > available) {
      if (data) break; // Damaged trailing metadata after the audio: the audio itself is whole.
      throw undecodable(`The WAV file is truncated: it ends inside a "${id.trim()}" chunk, before any audio.`);
    }
    pos = body + size + (size & 1);
  }
  if (!fmt) throw undecodable('The WAV file is damaged: it has no format ("fmt ") chunk, so its audio cannot be interpreted.');
  if (!data) throw undecodable('The WAV file has no audio: its "data" chunk is missing (the file may be truncated).');
  const whole = data.length - (data.length % fmt.blockAlign);
  return { ...fmt, data: data.subarray(0, whole) };
}

function parseWavFormat(chunk: Uint8Array): Omit<WavLayout, 'data'> {
  if (chunk.length < 16) throw undecodable(`The WAV file is damaged: its format chunk is ${chunk.length} bytes, at least 16 are needed.`);
  let formatTag = u16le(chunk, 0);
  const channelCount = u16le(chunk, 2);
  const sampleRate = u32le(chunk, 4);
  const blockAlign = u16le(chunk, 12);
  const declaredBits = u16le(chunk, 14);
  if (formatTag === WAVE_FORMAT.EXTENSIBLE) {
    if (chunk.length < 40) throw undecodable('The WAV file is damaged: its extensible format header is cut short.');
    formatTag = u16le(chunk, 24); // first two bytes of the sub-format GUID
  }
  if (formatTag !== WAVE_FORMAT.PCM && formatTag !== WAVE_FORMAT.FLOAT && formatTag !== WAVE_FORMAT.ALAW && formatTag !== WAVE_FORMAT.MULAW) {
    const name = WAVE_CODEC_NAMES[formatTag] ?? 'compressed';
    throw unsupported(
      `this WAV file holds ${name} audio (format tag 0x${formatTag.toString(16).padStart(4, '0')})`,
      'Convert it to PCM WAV or FLAC.',
    );
  }
  if (channelCount === 0) throw undecodable('The WAV file is damaged: its header declares 0 channels.');
  if (sampleRate === 0) throw undecodable('The WAV file is damaged: its header declares a sample rate of 0 Hz.');
  if (blockAlign === 0 || blockAlign % channelCount !== 0) {
    throw undecodable(`The WAV file is damaged: its block size (${blockAlign} bytes) does not fit ${plural(channelCount, 'channel')}.`);
  }
  // The container size per sample; a 20-bit file sits in 24-bit slots, left-justified.
  const bitsPerSample = (blockAlign / channelCount) * 8;
  if (declaredBits > bitsPerSample) {
    throw undecodable(`The WAV file is damaged: ${declaredBits}-bit samples cannot fit its ${blockAlign}-byte blocks.`);
  }
  const ok =
    (formatTag === WAVE_FORMAT.PCM && [8, 16, 24, 32].includes(bitsPerSample)) ||
    (formatTag === WAVE_FORMAT.FLOAT && [32, 64].includes(bitsPerSample)) ||
    ((formatTag === WAVE_FORMAT.ALAW || formatTag === WAVE_FORMAT.MULAW) && bitsPerSample === 8);
  if (!ok) {
    const kind = formatTag === WAVE_FORMAT.FLOAT ? 'float' : formatTag === WAVE_FORMAT.PCM ? 'PCM' : 'companded';
    throw unsupported(`this WAV file uses ${bitsPerSample}-bit ${kind} samples`, 'Convert it to 16- or 24-bit PCM WAV.');
  }
  // Checked just above: one of the sizes the sample converters handle.
  return { formatTag, channelCount, sampleRate, bitsPerSample: bitsPerSample as WavSampleBits, blockAlign };
}

// ---------------------------------------------------------------------------------------
// FLAC
// ---------------------------------------------------------------------------------------

export interface FlacStreamInfo {
  sampleRate: number;
  channelCount: number;
  bitsPerSample: number;
  /** Samples per channel the encoder wrote; 0 when the encoder did not know. */
  totalSamples: number;
}

/** Read the mandatory STREAMINFO block that follows `fLaC` at `offset`. */
export function parseFlacStreamInfo(bytes: Uint8Array, offset: number): FlacStreamInfo {
  const b = offset + 8; // "fLaC" + 4-byte metadata block header
  if (bytes.length < b + 34) throw undecodable('The FLAC file is truncated: it ends inside its header, before any audio.');
  const blockType = bytes[offset + 4]! & 0x7f;
  if (blockType !== 0) throw undecodable('The FLAC file is damaged: it does not start with the STREAMINFO header block.');
  const sampleRate = (bytes[b + 10]! << 12) | (bytes[b + 11]! << 4) | (bytes[b + 12]! >> 4);
  const channelCount = ((bytes[b + 12]! >> 1) & 0x07) + 1;
  const bitsPerSample = (((bytes[b + 12]! & 0x01) << 4) | (bytes[b + 13]! >> 4)) + 1;
  const totalSamples = (bytes[b + 13]! & 0x0f) * 2 ** 32 + u32be(bytes, b + 14);
  if (sampleRate === 0) throw undecodable('The FLAC file is damaged: its header declares a sample rate of 0 Hz.');
  return { sampleRate, channelCount, bitsPerSample, totalSamples };
}

// ---------------------------------------------------------------------------------------
// MPEG audio (MP3)
// ---------------------------------------------------------------------------------------

export interface MpegFrameHeader {
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  bitrateKbps: number;
  sampleRate: number;
  channelCount: 1 | 2;
  /** Bytes in this frame, header included. */
  frameLength: number;
  samplesPerFrame: number;
}

const MPEG_BITRATES: Record<string, readonly number[]> = {
  'v1l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2l2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  'v2l3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MPEG_RATES: Record<string, readonly number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };

/** Parse a 4-byte MPEG audio frame header, or null when the bytes are not one. */
export function parseMpegFrameHeader(bytes: Uint8Array, offset: number): MpegFrameHeader | null {
  if (offset + 4 > bytes.length) return null;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  const b3 = bytes[offset + 3]!;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  if ((b3 & 3) === 2) return null; // reserved emphasis value
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const bitrateKbps = MPEG_BITRATES[`${version === 1 ? 'v1' : 'v2'}l${layer}`]![bitrateIndex]!;
  const sampleRate = MPEG_RATES[String(version)]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const channelCount = (b3 >> 6) === 3 ? 1 : 2;
  let frameLength: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameLength = (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor((144 * bitrateKbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameLength = Math.floor((72 * bitrateKbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  return { version, layer, bitrateKbps, sampleRate, channelCount, frameLength, samplesPerFrame };
}

/**
 * The first MPEG frame at or after `from` (searching `window` bytes further) whose successor
 * is also a frame with the same layout — two in a row rule out chance byte patterns — or
 * that runs exactly to the end of a short file.
 */
function findMpegStart(bytes: Uint8Array, from: number, window: number): { offset: number; header: MpegFrameHeader } | null {
  const last = Math.min(bytes.length - 4, from + window);
  for (let off = from; off <= last; off++) {
    if (bytes[off] !== 0xff) continue;
    const header = parseMpegFrameHeader(bytes, off);
    if (!header) continue;
    const nextOffset = off + header.frameLength;
    if (nextOffset >= bytes.length) return { offset: off, header };
    const next = parseMpegFrameHeader(bytes, nextOffset);
    if (next && next.layer === header.layer && next.sampleRate === header.sampleRate) return { offset: off, header };
  }
  return null;
}

/**
 * Count the audio samples of an MPEG stream by walking its frame headers (cheap: nothing is
 * decoded). Stops at trailing tags or where no further frame can be found.
 */
export function countMpegSamples(bytes: Uint8Array, offset: number): number {
  let samples = 0;
  let pos = offset;
  while (pos + 4 <= bytes.length) {
    const header = parseMpegFrameHeader(bytes, pos);
    if (header) {
      samples += header.samplesPerFrame;
      pos += header.frameLength;
      continue;
    }
    const tag = ascii(bytes, pos, 3);
    if (tag === 'TAG' || tag === 'APE' || tag === 'LYR') break;
    const next = findMpegStart(bytes, pos + 1, 4096);
    if (!next) break;
    pos = next.offset;
  }
  return samples;
}

/** Size of a leading ID3v2 tag (header, syncsafe size, optional footer). */
function id3v2End(bytes: Uint8Array): number {
  if (bytes.length < 10) return bytes.length;
  const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
  const footer = bytes[5]! & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/**
 * Frame count from a Xing/Info header (LAME and ffmpeg write one into the first frame),
 * which says how long the file should be; null when there is none.
 */
export function readXingFrameCount(bytes: Uint8Array, offset: number, header: MpegFrameHeader): number | null {
  if (header.layer !== 3) return null;
  const sideInfo = header.version === 1 ? (header.channelCount === 1 ? 17 : 32) : header.channelCount === 1 ? 9 : 17;
  const at = offset + 4 + sideInfo;
  if (at + 12 > bytes.length) return null;
  const tag = ascii(bytes, at, 4);
  if (tag !== 'Xing' && tag !== 'Info') return null;
  const flags = u32be(bytes, at + 4);
  return flags & 1 ? u32be(bytes, at + 8) : null;
}

// ---------------------------------------------------------------------------------------
// Ogg
// ---------------------------------------------------------------------------------------

export interface OggHead {
  codec: 'opus' | 'vorbis';
  channelCount: number;
  /** Rate of the decoded audio (always 48 kHz for Opus). */
  sampleRate: number;
  /** Opus: samples the decoder discards at the start; counted in granule positions. */
  preSkip: number;
}

/** Identify the codec from the first Ogg page's packet and read its channel count and rate. */
function parseOggHead(bytes: Uint8Array): OggHead {
  if (bytes.length < 27) throw undecodable('The OGG file is truncated: it ends inside its first page header.');
  const segments = bytes[26]!;
  const packet = 27 + segments;
  if (bytes.length < packet + 8) throw undecodable('The OGG file is truncated: it ends before its codec header.');
  const head8 = ascii(bytes, packet, 8);
  if (head8 === 'OpusHead') {
    if (bytes.length < packet + 19) throw undecodable('The OGG file is truncated: it ends inside its Opus header.');
    return { codec: 'opus', channelCount: bytes[packet + 9]!, sampleRate: 48000, preSkip: u16le(bytes, packet + 10) };
  }
  if (bytes[packet] === 1 && ascii(bytes, packet + 1, 6) === 'vorbis') {
    if (bytes.length < packet + 16) throw undecodable('The OGG file is truncated: it ends inside its Vorbis header.');
    return { codec: 'vorbis', channelCount: bytes[packet + 11]!, sampleRate: u32le(bytes, packet + 12), preSkip: 0 };
  }
  if (bytes[packet] === 0x7f && ascii(bytes, packet + 1, 4) === 'FLAC') return unsupportedOgg('FLAC audio inside an OGG container', 'Use a plain .flac file instead.');
  if (head8 === 'Speex   ') return unsupportedOgg('Speex audio in an OGG container', 'Convert it to Opus, WAV or FLAC.');
  if (bytes[packet] === 0x80 && ascii(bytes, packet + 1, 6) === 'theora') return unsupportedOgg('an OGG video (Theora)');
  if (head8 === 'fishead\0') return unsupportedOgg('an OGG file with a skeleton track (usually video)');
  return unsupportedOgg('an OGG file with a codec other than Opus or Vorbis');
}

/**
 * Samples per channel the stream says it holds: the granule position of the last page that
 * ends a packet, less Opus pre-skip. Null when no page carries one.
 */
export function oggDurationSamples(bytes: Uint8Array, head: OggHead): number | null {
  for (let pos = bytes.length - 27; pos >= 0; pos--) {
    if (bytes[pos] !== 0x4f || ascii(bytes, pos, 4) !== 'OggS') continue;
    const low = u32le(bytes, pos + 6);
    const high = u32le(bytes, pos + 10);
    if (low === 0xffffffff && high === 0xffffffff) continue; // no packet ends on this page
    return Math.max(0, high * 2 ** 32 + low - head.preSkip);
  }
  return null;
}

function unsupportedOgg(found: string, hint?: string): never {
  throw unsupported(`this is ${found}`, hint);
}

/** One Ogg page, with the start of every packet that ends on it. */
export interface OggPageSpan {
  start: number;
  end: number;
  /**
   * The first bytes (up to OGG_PACKET_HEAD_BYTES) of each packet completed on this page, in
   * order, even when the packet began on an earlier page: enough to read an Opus TOC or a
   * Vorbis packet type, i.e. to bound the audio the page decodes to before decoding it.
   */
  endedPackets: Uint8Array[];
}

export const OGG_PACKET_HEAD_BYTES = 8;

/**
 * Walk every Ogg page: the codecs silently stop at a cut, so this is where a truncated or
 * spliced file is caught. Returns the page count; allocates nothing per page.
 */
export function checkOggPages(bytes: Uint8Array): number {
  let pos = 0;
  let pages = 0;
  while (pos < bytes.length) {
    pos += checkedPageLength(bytes, pos, pages);
    pages++;
  }
  return pages;
}

/** The length of the page at `pos` (the `index`-th), after checking its structure and (unless told not to) its CRC. */
function checkedPageLength(bytes: Uint8Array, pos: number, index: number, verifyCrc = true): number {
  const left = bytes.length - pos;
  if (left < 27) throw undecodable(`The OGG file is truncated: it ends inside a page header after ${plural(index, 'complete page')}.`);
  if (ascii(bytes, pos, 4) !== 'OggS') throw undecodable(`The OGG file is damaged: unexpected data at byte ${pos} where page ${index + 1} should start.`);
  const segments = bytes[pos + 26]!;
  if (left < 27 + segments) throw undecodable(`The OGG file is truncated: it ends inside the header of page ${index + 1}.`);
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += bytes[pos + 27 + i]!;
  const pageLength = 27 + segments + bodyLength;
  if (pageLength > left) {
    throw undecodable(`The OGG file is truncated: page ${index + 1} needs ${pageLength} bytes, only ${left} present.`);
  }
  if (verifyCrc && oggCrc(bytes, pos, pageLength) !== u32le(bytes, pos + 22)) {
    throw undecodable(`The OGG file is damaged: page ${index + 1} (at byte ${pos}) fails its checksum.`);
  }
  return pageLength;
}

/**
 * The pages of an Ogg file that passed checkOggPages (CRCs are not computed again), one at
 * a time: what a streaming decoder feeds, with each page's packet heads. Lazy, so a decoder
 * that stops early never walks (or holds) the rest of the file.
 */
export function* oggPageSpans(bytes: Uint8Array): Generator<OggPageSpan> {
  let pos = 0;
  let index = 0;
  // The head of the packet still open at the end of the previous page, if any.
  let open: number[] | null = null;
  while (pos < bytes.length) {
    const pageLength = checkedPageLength(bytes, pos, index, false);
    const segments = bytes[pos + 26]!;
    const endedPackets: Uint8Array[] = [];
    let at = pos + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const size = bytes[pos + 27 + i]!;
      open ??= [];
      for (let k = 0; k < size && open.length < OGG_PACKET_HEAD_BYTES; k++) open.push(bytes[at + k]!);
      at += size;
      if (size < 255) {
        endedPackets.push(new Uint8Array(open));
        open = null;
      }
    }
    yield { start: pos, end: pos + pageLength, endedPackets };
    pos += pageLength;
    index++;
  }
}

let crcTable: Uint32Array | null = null;

/** Ogg's CRC-32 (polynomial 0x04c11db7, unreflected, initial 0) with the CRC field as zeros. */
function oggCrc(bytes: Uint8Array, start: number, length: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      crcTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = 0; i < length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : bytes[start + i]!;
    crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}
