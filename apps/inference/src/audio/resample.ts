/// <reference path="../types/wasm-modules.d.ts" />
// (Declarations for the untyped WASM packages; referenced so dependents' type checks see them too.)
import SpeexResamplerInit, { type SpeexResamplerModule } from '@echogarden/speex-resampler-wasm';

/** Speex quality 0–10; 7 is transparent for speech and still fast (it is what we ship audio with). */
export const DEFAULT_RESAMPLE_QUALITY = 7;

let modulePromise: Promise<SpeexResamplerModule> | undefined;

// One WASM instance per thread is enough: every call creates (and destroys) its own
// resampler state, so calls do not influence each other and results are deterministic.
function speex(): Promise<SpeexResamplerModule> {
  modulePromise ??= SpeexResamplerInit();
  return modulePromise;
}

/**
 * Resample mono float samples with the Speex resampler. The input is padded with as many
 * zeros as the filter's input latency and the output's leading latency is dropped, so the
 * result is time-aligned with the input and exactly round(n · to / from) samples long.
 */
export async function resample(samples: Float32Array, fromRate: number, toRate: number, quality = DEFAULT_RESAMPLE_QUALITY): Promise<Float32Array> {
  if (fromRate === toRate) return samples.slice();
  if (samples.length === 0) return new Float32Array(0);
  const m = await speex();
  const errPtr = m._malloc(4);
  const state = m._speex_resampler_init(1, fromRate, toRate, quality, errPtr);
  const initErr = m.HEAP32[errPtr >> 2]!;
  m._free(errPtr);
  if (state === 0 || initErr !== 0) throw new Error(`Speex resampler init failed (code ${initErr}) for ${fromRate} → ${toRate} Hz.`);
  const inputLatency = m._speex_resampler_get_input_latency(state);
  const outputLatency = m._speex_resampler_get_output_latency(state);
  const wanted = Math.round((samples.length * toRate) / fromRate);
  const inLength = samples.length + inputLatency;
  const outCapacity = wanted + outputLatency + 16;
  const inPtr = m._malloc(inLength * 4);
  const outPtr = m._malloc(outCapacity * 4);
  const lenPtr = m._malloc(8);
  try {
    // Views are re-read after the mallocs: growing memory replaces them.
    m.HEAPF32.fill(0, inPtr >> 2, (inPtr >> 2) + inLength);
    m.HEAPF32.set(samples, inPtr >> 2);
    m.HEAP32[lenPtr >> 2] = inLength;
    m.HEAP32[(lenPtr >> 2) + 1] = outCapacity;
    const code = m._speex_resampler_process_float(state, 0, inPtr, lenPtr, outPtr, lenPtr + 4);
    if (code !== 0) throw new Error(`Speex resampler failed with code ${code}.`);
    const produced = m.HEAP32[(lenPtr >> 2) + 1]!;
    const out = new Float32Array(wanted);
    const available = Math.max(0, Math.min(wanted, produced - outputLatency));
    out.set(m.HEAPF32.subarray((outPtr >> 2) + outputLatency, (outPtr >> 2) + outputLatency + available));
    return out;
  } finally {
    m._free(inPtr);
    m._free(outPtr);
    m._free(lenPtr);
    m._speex_resampler_destroy(state);
  }
}
