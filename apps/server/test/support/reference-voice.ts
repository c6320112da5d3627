import { encodeWav16 } from '@chorus/inference';

/**
 * A voiced, speech-like reference clip made in the test: a harmonic series at `f0` with a
 * slow vibrato and a ~4 Hz syllable envelope. Not speech, but it has the pitch, rhythm and
 * loudness the engine measures, so its output must follow it.
 */
export function makeReferenceVoice(opts: { f0?: number; seconds?: number; sampleRate?: number; level?: number } = {}): Uint8Array {
  const { f0 = 140, seconds = 3, sampleRate = 24000, level = 0.3 } = opts;
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f = f0 * (1 + 0.03 * Math.sin(2 * Math.PI * 0.7 * t));
    phase += (2 * Math.PI * f) / sampleRate;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) ** 0.5;
    const edge = Math.min(1, t / 0.05, (seconds - t) / 0.05);
    out[i] = level * 0.5 * v * syllable * edge;
  }
  return encodeWav16(out, sampleRate);
}
