import { decodeWaveToFloat32Channels, encodeWaveFromFloat32Channels } from '@echogarden/wave-codec';

export interface DecodedAudio {
  /** One Float32Array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
  sampleRate: number;
}

/** Encode mono float samples as a 16-bit PCM WAV (what every Chorus output is). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  return encodeWaveFromFloat32Channels([samples], sampleRate, 16);
}

/** Decode any PCM/float WAV. Throws on a malformed or truncated file. */
export function decodeWav(bytes: Uint8Array): DecodedAudio {
  const raw = decodeWaveToFloat32Channels(bytes, false, false);
  return { channels: raw.audioChannels, sampleRate: raw.sampleRate };
}

/** Average the channels into one (prompt audio is always handled as mono). */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0]!;
  const out = new Float32Array(channels[0]!.length);
  for (const ch of channels) for (let i = 0; i < out.length; i++) out[i]! += ch[i]! / channels.length;
  return out;
}
