import { encodeWav16Mono } from '../../src/audio/wavEncoder.ts';

/** Vowel formants (Hz) and bandwidths for /a/, /i/, /o/: enough to sound (and measure) voice-like. */
const VOWELS: ReadonlyArray<ReadonlyArray<readonly [number, number]>> = [
  [[730, 90], [1090, 110], [2440, 160]],
  [[270, 60], [2290, 100], [3010, 150]],
  [[570, 80], [840, 100], [2410, 160]],
];

/**
 * A synthetic reference voice: a glottal-like harmonic series at ~140 Hz (with slow pitch
 * drift), shaped by vowel formants that change every syllable, under a 4 Hz syllable
 * envelope with short gaps. Deterministic; returns a 16-bit mono WAV.
 */
export function referenceVoiceWav(seconds = 3, sampleRate = 24_000): Uint8Array {
  const n = Math.round(seconds * sampleRate);
  const samples = new Float32Array(n);
  const syllableHz = 4;
  let phase = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f0 = 140 * (1 + 0.04 * Math.sin(2 * Math.PI * 0.6 * t) + 0.015 * Math.sin(2 * Math.PI * 5.5 * t));
    phase += (2 * Math.PI * f0) / sampleRate;
    const syllable = Math.floor(t * syllableHz);
    const vowel = VOWELS[syllable % VOWELS.length]!;
    const within = t * syllableHz - syllable; // 0..1 inside the syllable
    const envelope = within < 0.85 ? Math.sin((Math.PI * within) / 0.85) ** 0.7 : 0;
    let value = 0;
    for (let k = 1; k * f0 < 4000; k++) {
      const f = k * f0;
      let gain = 0;
      for (const [formant, bandwidth] of vowel) gain += 1 / (1 + ((f - formant) / bandwidth) ** 2);
      value += ((gain + 0.02) / k) * Math.sin(k * phase);
    }
    samples[i] = value * envelope;
    peak = Math.max(peak, Math.abs(samples[i]!));
  }
  const scale = peak > 0 ? 0.5 / peak : 1;
  for (let i = 0; i < n; i++) samples[i]! *= scale;
  return new Uint8Array(encodeWav16Mono(samples, sampleRate));
}
