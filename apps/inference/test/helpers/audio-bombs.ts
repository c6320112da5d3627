/**
 * Decompression bombs, made in code at test time (nothing big is committed): small files
 * that decode to hours of audio while their headers claim little or nothing. Written from
 * the format specs (FLAC, MPEG audio, Ogg/Opus), independently of the production parsers.
 */

// ---------------------------------------------------------------------------------------
// Bit writer and checksums
// ---------------------------------------------------------------------------------------

class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private filled = 0;

  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.current = (this.current << 1) | (Math.floor(value / 2 ** i) & 1);
      if (++this.filled === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.filled = 0;
      }
    }
  }

  /** Bytes so far, padded with zero bits to a whole byte. */
  finish(): number[] {
    if (this.filled > 0) this.write(0, 8 - this.filled);
    return this.bytes;
  }
}

function crc8(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function crc16(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]! << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// FLAC: constant (DC) subframes, a few bytes per 4096-sample block
// ---------------------------------------------------------------------------------------

export interface FlacBombOptions {
  seconds: number;
  sampleRate?: number;
  channels?: number;
  /** STREAMINFO total samples; 0 (the default) means "unknown", which FLAC allows. */
  declaredSamples?: number;
  /** The constant 16-bit sample value of every block (0 is digital silence). */
  level?: number;
}

const FLAC_BLOCK = 4096;
const FLAC_RATE_CODES: Record<number, number> = { 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11 };

/** UTF-8-style coding of the frame number (FLAC frame header). */
function utf8Number(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x800) return [0xc0 | (n >> 6), 0x80 | (n & 0x3f)];
  if (n < 0x10000) return [0xe0 | (n >> 12), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
  return [0xf0 | (n >> 18), 0x80 | ((n >> 12) & 0x3f), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
}

function flacFrame(index: number, blockSize: number, rateCode: number, channels: number, level: number): Uint8Array {
  const h = new BitWriter();
  h.write(0b11111111111110, 14); // sync
  h.write(0, 1);
  h.write(0, 1); // fixed block size: the header carries the frame number
  h.write(blockSize === FLAC_BLOCK ? 0b1100 : 0b0111, 4); // 4096, or a 16-bit size at the end
  h.write(rateCode, 4);
  h.write(channels - 1, 4); // independent channels
  h.write(0b100, 3); // 16 bits per sample
  h.write(0, 1);
  const header = [...h.finish(), ...utf8Number(index)];
  if (blockSize !== FLAC_BLOCK) header.push((blockSize - 1) >> 8, (blockSize - 1) & 0xff);
  header.push(crc8(header));
  const body: number[] = [];
  for (let c = 0; c < channels; c++) body.push(0x00, (level >> 8) & 0xff, level & 0xff); // CONSTANT subframe
  const frame = [...header, ...body];
  const crc = crc16(frame);
  return new Uint8Array([...frame, crc >> 8, crc & 0xff]);
}

/**
 * A FLAC file of `seconds` of constant audio. With `declaredSamples` 0 the STREAMINFO says
 * nothing about the length (what the attack run used: 1 h of 48 kHz stereo in 673 KB).
 */
export function flacBomb(opts: FlacBombOptions): Uint8Array {
  const rate = opts.sampleRate ?? 48_000;
  const channels = opts.channels ?? 2;
  const rateCode = FLAC_RATE_CODES[rate];
  if (rateCode === undefined) throw new Error(`flacBomb: no rate code for ${rate} Hz`);
  const total = Math.round(opts.seconds * rate);
  const info = new BitWriter();
  info.write(FLAC_BLOCK, 16); // min block size
  info.write(FLAC_BLOCK, 16); // max block size
  info.write(0, 24); // min frame size: unknown
  info.write(0, 24); // max frame size: unknown
  info.write(rate, 20);
  info.write(channels - 1, 3);
  info.write(15, 5); // 16 bits per sample
  info.write(opts.declaredSamples ?? 0, 36);
  const streamInfo = [...info.finish(), ...new Array<number>(16).fill(0)]; // MD5 unknown
  const parts: ArrayLike<number>[] = [[0x66, 0x4c, 0x61, 0x43], [0x80, 0, 0, 34], streamInfo];
  // One frame, reused: its bytes differ only in the frame number.
  const level = opts.level ?? 0;
  let index = 0;
  for (let done = 0; done < total; done += FLAC_BLOCK) {
    parts.push(flacFrame(index++, Math.min(FLAC_BLOCK, total - done), rateCode, channels, level));
  }
  return concat(parts);
}

// ---------------------------------------------------------------------------------------
// MP3: MPEG-2 Layer III frames whose side information says "no coefficients" (silence)
// ---------------------------------------------------------------------------------------

export interface Mp3BombOptions {
  seconds: number;
  /**
   * Where to put an ID3v1-looking "TAG" block, in seconds of audio before it: a frame walk
   * that stops at trailing tags then counts only that much, while decoders resync and
   * carry on past it. Omit for a plain file.
   */
  tagAfterSeconds?: number;
}

/** 24 kHz mono at 8 kb/s: 24 bytes per 576-sample frame, so an hour takes 3.6 MB. */
const MP3_RATE = 24_000;
const MP3_FRAME = (() => {
  const frame = new Uint8Array(24);
  frame.set([0xff, 0xf3, 0x14, 0xc0]); // MPEG-2, Layer III, no CRC; 8 kb/s, 24 kHz; mono
  return frame; // 9 bytes of side info, all zero (part2_3_length 0), then padding
})();
const MP3_SAMPLES_PER_FRAME = 576;

export function mp3Bomb(opts: Mp3BombOptions): Uint8Array {
  const frames = Math.ceil((opts.seconds * MP3_RATE) / MP3_SAMPLES_PER_FRAME);
  const tagAt = opts.tagAfterSeconds === undefined ? -1 : Math.ceil((opts.tagAfterSeconds * MP3_RATE) / MP3_SAMPLES_PER_FRAME);
  const tag = new Uint8Array(128);
  tag.set(new TextEncoder().encode('TAGnot the end of the audio'));
  const out = new Uint8Array(frames * MP3_FRAME.length + (tagAt >= 0 ? tag.length : 0));
  let at = 0;
  for (let i = 0; i < frames; i++) {
    if (i === tagAt) {
      out.set(tag, at);
      at += tag.length;
    }
    out.set(MP3_FRAME, at);
    at += MP3_FRAME.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Ogg (pages, CRC) and Opus
// ---------------------------------------------------------------------------------------

let oggTable: Uint32Array | null = null;

export function oggCrc(page: Uint8Array): number {
  if (!oggTable) {
    oggTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      oggTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ oggTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

export interface OggPageSpec {
  packets: Uint8Array[];
  /** Granule position after the last packet that ends on this page; -1 for none. */
  granule: number;
  first?: boolean;
  last?: boolean;
}

export function oggPage(spec: OggPageSpec, serial: number, sequence: number): Uint8Array {
  const lacing: number[] = [];
  for (const p of spec.packets) {
    let left = p.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  if (lacing.length > 255) throw new Error('oggPage: more than 255 lacing values');
  const bodyLength = spec.packets.reduce((n, p) => n + p.length, 0);
  const page = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53, 0]);
  page[5] = (spec.first ? 2 : 0) | (spec.last ? 4 : 0);
  if (spec.granule < 0) {
    view.setUint32(6, 0xffffffff, true);
    view.setUint32(10, 0xffffffff, true);
  } else {
    view.setUint32(6, spec.granule % 2 ** 32, true);
    view.setUint32(10, Math.floor(spec.granule / 2 ** 32), true);
  }
  view.setUint32(14, serial, true);
  view.setUint32(18, sequence, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of spec.packets) {
    page.set(p, at);
    at += p.length;
  }
  view.setUint32(22, oggCrc(page), true);
  return page;
}

export function oggStream(pages: OggPageSpec[], serial = 0x0c4052): Uint8Array {
  return concat(pages.map((p, i) => oggPage(p, serial, i)));
}

/** Re-compute the CRC of every page that still parses (after a mutation), so the mutation reaches the codec. */
export function fixOggCrcs(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  let pos = 0;
  while (pos + 27 <= out.length && out[pos] === 0x4f && out[pos + 1] === 0x67 && out[pos + 2] === 0x67 && out[pos + 3] === 0x53) {
    const segments = out[pos + 26]!;
    if (pos + 27 + segments > out.length) break;
    let body = 0;
    for (let i = 0; i < segments; i++) body += out[pos + 27 + i]!;
    const end = pos + 27 + segments + body;
    if (end > out.length) break;
    const page = out.subarray(pos, end);
    new DataView(page.buffer, page.byteOffset).setUint32(22, oggCrc(page), true);
    pos = end;
  }
  return out;
}

/** The packets of a single-stream Ogg file, with the granule of the page each packet ends on. */
export function oggPackets(bytes: Uint8Array): { packet: Uint8Array; granule: number }[] {
  const out: { packet: Uint8Array; granule: number }[] = [];
  let pending: number[] = [];
  let pos = 0;
  while (pos + 27 <= bytes.length) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + pos);
    const granule = view.getUint32(6, true) + view.getUint32(10, true) * 2 ** 32;
    const segments = bytes[pos + 26]!;
    let at = pos + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const size = bytes[pos + 27 + i]!;
      pending.push(...bytes.subarray(at, at + size));
      at += size;
      if (size < 255) {
        out.push({ packet: new Uint8Array(pending), granule });
        pending = [];
      }
    }
    pos = at;
  }
  return out;
}

export function opusHead(channels = 1, preSkip = 312): Uint8Array {
  const head = new Uint8Array(19);
  head.set(new TextEncoder().encode('OpusHead'));
  const view = new DataView(head.buffer);
  head[8] = 1;
  head[9] = channels;
  view.setUint16(10, preSkip, true);
  view.setUint32(12, 48_000, true);
  return head;
}

export function opusTags(): Uint8Array {
  const vendor = new TextEncoder().encode('chorus-test');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  tags.set(new TextEncoder().encode('OpusTags'));
  new DataView(tags.buffer).setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  return tags;
}

export interface OpusBombOptions {
  /** How much audio the packets really hold. */
  seconds: number;
  /** How much the last page's granule position claims (the header length). */
  claimedSeconds: number;
}

/**
 * Ogg Opus whose pages hold far more audio than its granule positions say. Each packet is
 * two bytes: a TOC (CELT fullband 20 ms, code 3) and a frame count of 6 zero-length frames,
 * which the decoder conceals as 120 ms of silence.
 */
export function opusBomb(opts: OpusBombOptions): Uint8Array {
  const packet = new Uint8Array([(31 << 3) | 3, 6]);
  const packetSamples = 5760;
  const packets = Math.ceil((opts.seconds * 48_000) / packetSamples);
  const claimed = Math.round(opts.claimedSeconds * 48_000) + 312;
  const pages: OggPageSpec[] = [
    { packets: [opusHead()], granule: 0, first: true },
    { packets: [opusTags()], granule: 0 },
  ];
  const perPage = 255;
  for (let done = 0; done < packets; done += perPage) {
    const count = Math.min(perPage, packets - done);
    const last = done + count >= packets;
    // Granules climb slowly to the claimed length: every page looks consistent.
    const granule = Math.min(claimed, Math.round((claimed * (done + count)) / packets));
    pages.push({ packets: new Array<Uint8Array>(count).fill(packet), granule, last });
  }
  return oggStream(pages);
}

export interface VorbisBombOptions {
  /** How many times to repeat the audio packet. */
  packets: number;
  /** How much the granule positions claim. */
  claimedSeconds: number;
  /** Which packet of the source to repeat (after its three header packets). */
  packetIndex: number;
}

/**
 * Ogg Vorbis from a real file's three header packets followed by one of its audio packets
 * repeated `packets` times, with granules that climb only to `claimedSeconds`.
 */
export function vorbisBomb(source: Uint8Array, opts: VorbisBombOptions): Uint8Array {
  const packets = oggPackets(source);
  const headers = packets.slice(0, 3).map((p) => p.packet);
  const identification = headers[0]!;
  const sampleRate = new DataView(identification.buffer, identification.byteOffset).getUint32(12, true);
  const audio = packets[opts.packetIndex]!.packet;
  const claimed = Math.round(opts.claimedSeconds * sampleRate);
  const pages: OggPageSpec[] = [
    { packets: [identification], granule: 0, first: true },
    { packets: [headers[1]!, headers[2]!], granule: 0 },
  ];
  const perPage = Math.max(1, Math.min(255, Math.floor(60_000 / Math.max(1, audio.length))));
  for (let done = 0; done < opts.packets; done += perPage) {
    const n = Math.min(perPage, opts.packets - done);
    const granule = Math.min(claimed, Math.round((claimed * (done + n)) / opts.packets));
    pages.push({ packets: new Array<Uint8Array>(n).fill(audio), granule, last: done + n >= opts.packets });
  }
  return oggStream(pages);
}
