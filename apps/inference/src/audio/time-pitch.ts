/// <reference path="../types/wasm-modules.d.ts" />
// (Declarations for the untyped WASM packages; referenced so dependents' type checks see them too.)
import SonicInit, { type SonicModule } from '@echogarden/sonic-wasm';

let modulePromise: Promise<SonicModule> | undefined;

// One WASM instance per thread; every call has its own stream, so calls are independent.
function sonic(): Promise<SonicModule> {
  modulePromise ??= SonicInit();
  return modulePromise;
}

/**
 * Change tempo and pitch independently with Sonic (PSOLA-style, built for speech; Apache-2.0,
 * unlike Rubber Band which is GPL-2.0-only). `tempo` > 1 is faster (shorter), `pitch` > 1 is
 * higher. Moderate factors (0.7–1.4) keep speech natural.
 */
export async function changeTempoAndPitch(samples: Float32Array, sampleRate: number, tempo: number, pitch: number): Promise<Float32Array> {
  if (tempo === 1 && pitch === 1) return samples.slice();
  if (samples.length === 0) return new Float32Array(0);
  const m = await sonic();
  const stream = m._sonicCreateStream(sampleRate, 1);
  if (stream === 0) throw new Error('Sonic could not create a stream.');
  const inPtr = m._malloc(samples.length * 4);
  let outPtr = 0;
  try {
    m._sonicSetSpeed(stream, tempo);
    m._sonicSetPitch(stream, pitch);
    m.HEAPF32.set(samples, inPtr >> 2);
    if (m._sonicWriteFloatToStream(stream, inPtr, samples.length) !== 1) throw new Error('Sonic failed to accept samples.');
    if (m._sonicFlushStream(stream) !== 1) throw new Error('Sonic failed to flush its stream.');
    const available = m._sonicSamplesAvailable(stream);
    outPtr = m._malloc(Math.max(1, available) * 4);
    const read = m._sonicReadFloatFromStream(stream, outPtr, available);
    return m.HEAPF32.slice(outPtr >> 2, (outPtr >> 2) + read);
  } finally {
    m._free(inPtr);
    if (outPtr !== 0) m._free(outPtr);
    m._sonicDestroyStream(stream);
  }
}
