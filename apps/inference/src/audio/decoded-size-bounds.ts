/**
 * How much audio a piece of a compressed file can decode to, read from frame and packet
 * headers before anything is decoded. A few bytes of FLAC, Opus or Vorbis can stand for
 * seconds of audio; these bounds let the streaming decoder cut its input so that one
 * decoder call can never produce more than a few megabytes, whatever the file claims.
 * Upper bounds: over-counting only makes the chunks smaller.
 */

// ---------------------------------------------------------------------------------------
// FLAC frame headers
// ---------------------------------------------------------------------------------------

/** Samples (all channels) a FLAC frame header at `at` declares, or 0 when it is not one. */
export function flacFrameHeaderSamples(bytes: Uint8Array, at: number): number {
  if (at + 5 > bytes.length || bytes[at] !== 0xff || (bytes[at + 1]! & 0xfe) !== 0xf8) return 0;
  const sizeCode = bytes[at + 2]! >> 4;
  const rateCode = bytes[at + 2]! & 0x0f;
  const channelCode = bytes[at + 3]! >> 4;
  if (sizeCode === 0 || rateCode === 15 || channelCode > 10 || (bytes[at + 3]! & 1) !== 0) return 0;
  const channels = channelCode < 8 ? channelCode + 1 : 2;
  // The frame/sample number is UTF-8-style coded: its first byte says how many follow.
  const lead = bytes[at + 4]!;
  let ones = 0;
  while (ones < 8 && lead & (0x80 >> ones)) ones++;
  const extra = at + 4 + Math.max(1, ones);
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 << (sizeCode - 2);
  else if (sizeCode === 6) blockSize = extra < bytes.length ? bytes[extra]! + 1 : 256;
  else if (sizeCode === 7) blockSize = extra + 1 < bytes.length ? ((bytes[extra]! << 8) | bytes[extra + 1]!) + 1 : 65536;
  else blockSize = 256 << (sizeCode - 8);
  return blockSize * channels;
}

/**
 * Where to end the next chunk of FLAC input that starts at `from`: before the frame header
 * that would take the samples declared in the chunk past `maxSamples`, and at most
 * `maxBytes` on. Always makes progress.
 */
export function flacChunkEnd(bytes: Uint8Array, from: number, maxSamples: number, maxBytes: number): number {
  const last = Math.min(bytes.length, from + maxBytes);
  let declared = 0;
  for (let i = from; i < last - 1; i++) {
    if (bytes[i] !== 0xff) continue;
    const samples = flacFrameHeaderSamples(bytes, i);
    if (samples === 0) continue;
    declared += samples;
    if (declared > maxSamples && i > from) return i;
  }
  return last;
}

// ---------------------------------------------------------------------------------------
// Opus packets (RFC 6716 section 3.1)
// ---------------------------------------------------------------------------------------

/** The most one Opus packet can hold: 120 ms at 48 kHz. */
export const OPUS_MAX_PACKET_SAMPLES = 5760;

const startsWith = (head: Uint8Array, text: string): boolean => {
  for (let i = 0; i < text.length; i++) if (head[i] !== text.charCodeAt(i)) return false;
  return true;
};

/**
 * Samples per channel (at 48 kHz) an Opus packet decodes to, from its TOC byte (and frame
 * count byte). Header packets hold none; an empty or malformed packet is counted at the
 * maximum, since a decoder conceals a lost packet with up to 120 ms of audio.
 */
export function opusPacketSamples(head: Uint8Array): number {
  if (startsWith(head, 'OpusHead') || startsWith(head, 'OpusTags')) return 0;
  if (head.length === 0) return OPUS_MAX_PACKET_SAMPLES;
  const toc = head[0]!;
  const config = toc >> 3;
  let frameSize: number;
  if (config < 12) frameSize = [480, 960, 1920, 2880][config & 3]!;
  else if (config < 16) frameSize = [480, 960][config & 1]!;
  else frameSize = [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code !== 3) frames = 2;
  else if (head.length < 2) return OPUS_MAX_PACKET_SAMPLES;
  else frames = head[1]! & 0x3f;
  if (frames === 0) return OPUS_MAX_PACKET_SAMPLES;
  return Math.min(OPUS_MAX_PACKET_SAMPLES, frames * frameSize);
}

// ---------------------------------------------------------------------------------------
// Vorbis packets
// ---------------------------------------------------------------------------------------

/**
 * The most samples per channel any Vorbis audio packet of this stream can add: half the
 * long block size from the identification header (at most 4096). Header packets (odd first
 * byte) add none.
 */
export function vorbisPacketBound(identification: Uint8Array): (head: Uint8Array) => number {
  const sizes = identification[28] ?? 0xdd;
  const longBlock = 2 ** Math.min(13, Math.max(6, sizes >> 4));
  return (head) => (head.length > 0 && head[0]! & 1 ? 0 : longBlock / 2);
}
