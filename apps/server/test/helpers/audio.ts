/**
 * Test audio made in code: a voiced, speech-like signal and an independent WAV writer
 * (deliberately not the production encoder, so decoding is checked against a second
 * implementation). Shared by the inference and server tests.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface VoicedOptions {
  sampleRate: number;
  /** Length of the voiced part in seconds. */
  seconds: number;
  /** Fundamental frequency, Hz. */
  f0?: number;
  /** Peak amplitude of the voiced part (before any clipping), linear. */
  peak?: number;
  /** Digital silence before / after the voiced part, seconds. */
  leadingSilence?: number;
  trailingSilence?: number;
  /** Multiply by this and hard-clip at ±1 (to make clipped audio). */
  overdrive?: number;
}

/**
 * A vowel-like signal: harmonics of f0 (1/k roll-off with a formant bump near 700 Hz), a
 * slow vibrato and a 4 Hz syllable envelope. Not silent, not a pure tone, deterministic.
 */
export function voicedSignal(opts: VoicedOptions): Float32Array {
  const { sampleRate, seconds } = opts;
  const f0 = opts.f0 ?? 120;
  const lead = Math.round((opts.leadingSilence ?? 0) * sampleRate);
  const voiced = Math.round(seconds * sampleRate);
  const trail = Math.round((opts.trailingSilence ?? 0) * sampleRate);
  const out = new Float32Array(lead + voiced + trail);
  const harmonics: { k: number; amp: number }[] = [];
  for (let k = 1; k * f0 < Math.min(4000, sampleRate / 2 - 200); k++) {
    const f = k * f0;
    const formant = 1 + 2.5 * Math.exp(-(((f - 700) / 250) ** 2)) + 1.2 * Math.exp(-(((f - 1200) / 300) ** 2));
    harmonics.push({ k, amp: formant / k });
  }
  const raw = new Float32Array(voiced);
  let max = 0;
  let phase = 0;
  for (let i = 0; i < voiced; i++) {
    const t = i / sampleRate;
    const freq = f0 * (1 + 0.02 * Math.sin(2 * Math.PI * 5 * t));
    phase += (2 * Math.PI * freq) / sampleRate;
    let v = 0;
    for (const h of harmonics) v += h.amp * Math.sin(h.k * phase);
    // Syllables: 4 per second, never fully silent inside the voiced part.
    const envelope = 0.15 + 0.85 * 0.5 * (1 - Math.cos(2 * Math.PI * 4 * t));
    raw[i] = v * envelope;
    max = Math.max(max, Math.abs(raw[i]!));
  }
  const gain = (opts.peak ?? 0.5) / max;
  const drive = opts.overdrive ?? 1;
  for (let i = 0; i < voiced; i++) out[lead + i] = Math.max(-1, Math.min(1, raw[i]! * gain * drive));
  return out;
}

export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface WavOptions {
  sampleRate: number;
  format?: WavSampleFormat;
  /** Write WAVE_FORMAT_EXTENSIBLE instead of the plain format tag. */
  extensible?: boolean;
}

/** Write interleaved WAV bytes from float channels (clamped for integer formats). */
export function makeWav(channels: Float32Array[], opts: WavOptions): Uint8Array {
  const format = opts.format ?? 'pcm16';
  const bits = Number(format.replace(/\D/g, ''));
  const bytesPer = bits / 8;
  const isFloat = format.startsWith('float');
  const count = channels.length;
  const frames = channels[0]?.length ?? 0;
  const dataSize = frames * count * bytesPer;
  const fmtSize = opts.extensible ? 40 : isFloat ? 18 : 16;
  const buf = Buffer.alloc(12 + 8 + fmtSize + (isFloat ? 12 : 0) + 8 + dataSize);
  let o = 0;
  const str = (s: string): void => {
    buf.write(s, o, 'ascii');
    o += 4;
  };
  str('RIFF');
  buf.writeUInt32LE(buf.length - 8, o);
  o += 4;
  str('WAVE');
  str('fmt ');
  buf.writeUInt32LE(fmtSize, o);
  buf.writeUInt16LE(opts.extensible ? 0xfffe : isFloat ? 3 : 1, o + 4);
  buf.writeUInt16LE(count, o + 6);
  buf.writeUInt32LE(opts.sampleRate, o + 8);
  buf.writeUInt32LE(opts.sampleRate * count * bytesPer, o + 12);
  buf.writeUInt16LE(count * bytesPer, o + 16);
  buf.writeUInt16LE(bits, o + 18);
  if (opts.extensible) {
    buf.writeUInt16LE(22, o + 20);
    buf.writeUInt16LE(bits, o + 22);
    buf.writeUInt32LE(count === 1 ? 0x4 : 0x3, o + 24);
    // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: {0000000X-0000-0010-8000-00aa00389b71}
    Buffer.from(`0${isFloat ? 3 : 1}000000` + '0000' + '1000' + '800000aa00389b71', 'hex').copy(buf, o + 28);
  } else if (isFloat) {
    buf.writeUInt16LE(0, o + 20);
  }
  o += 4 + fmtSize;
  if (isFloat) {
    str('fact');
    buf.writeUInt32LE(4, o);
    buf.writeUInt32LE(frames, o + 4);
    o += 8;
  }
  str('data');
  buf.writeUInt32LE(dataSize, o);
  o += 4;
  for (let i = 0; i < frames; i++) {
    for (const ch of channels) {
      const x = ch[i]!;
      const c = Math.max(-1, Math.min(1, x));
      switch (format) {
        case 'pcm8':
          buf.writeUInt8(Math.round(c * 127) + 128, o);
          break;
        case 'pcm16':
          buf.writeInt16LE(Math.round(c * 32767), o);
          break;
        case 'pcm24':
          buf.writeIntLE(Math.round(c * 8388607), o, 3);
          break;
        case 'pcm32':
          buf.writeInt32LE(Math.round(c * 2147483647), o);
          break;
        case 'float32':
          buf.writeFloatLE(x, o);
          break;
        case 'float64':
          buf.writeDoubleLE(x, o);
          break;
      }
      o += bytesPer;
    }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A mono 16-bit speech-like WAV in one call. */
export function voicedWav(opts: VoicedOptions & { format?: WavSampleFormat }): Uint8Array {
  return makeWav([voicedSignal(opts)], { sampleRate: opts.sampleRate, format: opts.format });
}
